"""Who reviews an application, and whose quota it spends, from the org tree.

Both are derived from the applicant's path (its ancestors) and the category's declared
levels, so a new programme needs no code: Henan schools go city (or province-administered
county) → province, Zhejiang higher-ed goes straight to the province, city-direct schools
skip the county.
"""

from __future__ import annotations

from dataclasses import dataclass

from edupilot.orgs.models import Org

from . import schema


def lineage(org: Org) -> list[Org]:
    """The org and its ancestors, nearest first (one query)."""
    codes = org.ancestor_codes
    by_code = {o.code: o for o in Org.objects.filter(code__in=codes)} if codes else {}
    return [org] + [by_code[c] for c in reversed(codes) if c in by_code]


@dataclass(frozen=True)
class ChainStep:
    index: int
    level: schema.ReviewLevel
    org: Org


def review_chain(
    category: schema.Category, applicant: Org, orgs: list[Org] | None = None
) -> list[ChainStep]:
    """The review steps for ``applicant`` in ``category``, lowest level first."""
    orgs = orgs if orgs is not None else lineage(applicant)
    steps: list[ChainStep] = []
    used: set[int] = set()
    stand_ins: set[int] = set()
    for level in category.review:
        reviewer = next((o for o in orgs if o.tier == level.tier and o.kind != "school"), None)
        if reviewer is None and level.direct_fallback and len(orgs) > 1:
            reviewer = orgs[1]
            stand_ins.add(reviewer.pk)
        if reviewer is None:
            continue
        if reviewer.pk in used and not level.direct_fallback and reviewer.pk not in stand_ins:
            # The same org cannot review twice unless the file says it acts in two roles:
            # a stand-in (Quanzhou's city for its 市直 schools) first recommends within the
            # direct bucket in the county's place, then reviews again at its own level.
            continue
        used.add(reviewer.pk)
        steps.append(ChainStep(len(steps), level, reviewer))
    return steps


@dataclass(frozen=True)
class QuotaBucket:
    level: str
    holder: Org
    direct: bool


def quota_bucket(
    level_tier: str, applicant: Org, orgs: list[Org] | None = None
) -> QuotaBucket | None:
    """Whose places an application spends at ``level_tier``.

    The nearest org (the applicant or an ancestor) at that tier holds the quota; an
    applicant with no org at that tier above it (a 市直 school when quotas are per county)
    spends its parent's *direct* bucket.
    """
    orgs = orgs if orgs is not None else lineage(applicant)
    for o in orgs:
        if o.tier == level_tier and o.kind != "school":
            return QuotaBucket(level_tier, o, False)
    if len(orgs) > 1:
        return QuotaBucket(level_tier, orgs[1], True)
    return None
