"""Who reviews an application, and whose quota it spends, from the org tree.

Both are derived from the applicant's path (its ancestors, after the programme's
``[[folds]]``: folds.py) and the category's declared levels, so a new programme needs no code: Henan schools go city (or province-administered
county) → province, Zhejiang higher-ed goes straight to the province, city-direct schools
skip the county.
"""

from __future__ import annotations

from dataclasses import dataclass

from edupilot.orgs.models import Org

from . import folds as folding
from . import schema


def lineage(org: Org, category: schema.Category | None = None) -> folding.Lineage:
    """The org and its ancestors, nearest first (one query); in ``category``, with the
    programme's ``[[folds]]`` applied (a folded unit's place taken by its 归口 unit)."""
    orgs = folding.plain_lineage(org)
    if category is None or not category.folds:
        return folding.Lineage(orgs)
    return folding.fold_lineage(orgs, folding.resolve(category.folds))


@dataclass(frozen=True)
class ChainStep:
    index: int
    level: schema.StageBase
    org: Org
    # Whether a recommendation at this step spends a quota of its tier.
    quota: bool = True
    # Lower tiers whose quota this step spends as well: a level skipped because the
    # applicant itself would have filled it (a province-administered county's own bid)
    # hands its places to the next review.
    carried_tiers: tuple[str, ...] = ()
    # A joint review's orgs, the lead (``org``) first; empty for every other step.
    joint: tuple[Org, ...] = ()

    @property
    def kind(self) -> str:
        return self.level.kind

    def as_json(self) -> dict:
        """The step as frozen on the application (``Application.chain``)."""
        return {
            "level": self.level.key,
            "name": self.level.name,
            "kind": self.level.kind,
            # A tier review's own tier (a stand-in org acts at the level it stands in for).
            "tier": self.tier,
            "org": self.org.pk,
            "org_name": self.org.name,
            "quota": self.quota,
            **({"quota_tiers": [*self.carried_tiers, self.tier]} if self.carried_tiers else {}),
            **(
                {
                    "orgs": [o.pk for o in self.joint],
                    "org_names": [o.name for o in self.joint],
                    "needed": self.level.needed,
                }
                if self.joint
                else {}
            ),
        }

    @property
    def tier(self) -> str:
        return getattr(self.level, "tier", None) or self.org.tier


def named_org(ref: str) -> Org | None:
    """The org an ``org_review`` stage names: by code, else by exact name (the loader has
    refused a name that is not unique)."""
    return Org.objects.filter(code=ref).first() or Org.objects.filter(name=ref).first()


def review_chain(
    category: schema.Category,
    applicant: Org,
    orgs: list[Org] | None = None,
    *,
    issuer: Org | None = None,
) -> list[ChainStep]:
    """The steps ``applicant`` goes through in ``category``, first first.

    Tier reviews are filled from the applicant's lineage; an ``org_review`` by its named org;
    expert scoring inside the chain by the issuer, who runs the panel. The last step is the
    one that decides (the application is then "recommended" to it and awaits approval).
    An applicant never reviews its own bid: a level it would fill itself (a
    province-administered county, tier city, applying at a city level) is skipped, and the
    next tier review spends that level's quota too.
    """
    orgs = orgs if orgs is not None else lineage(applicant, category)
    steps: list[ChainStep] = []
    used: set[int] = set()
    stand_ins: set[int] = set()
    carried: list[str] = []
    quota_tiers = {q.level for q in category.quotas}
    for level in category.levels:
        if level.kind == "org_review":
            reviewer = named_org(level.org)
            if reviewer is not None:
                steps.append(ChainStep(len(steps), level, reviewer, False))
            continue
        if level.kind == "joint_review":
            joint = tuple(o for o in (named_org(ref) for ref in level.orgs) if o is not None)
            if joint:
                steps.append(ChainStep(len(steps), level, joint[0], False, joint=joint))
            continue
        if level.kind == "expert_scoring":
            if issuer is not None:
                steps.append(ChainStep(len(steps), level, issuer, False))
            continue
        reviewer = next((o for o in orgs if o.tier == level.tier and o.kind != "school"), None)
        if reviewer is None and level.direct_fallback and len(orgs) > 1:
            reviewer = orgs[1]
            stand_ins.add(reviewer.pk)
        if reviewer is None:
            continue
        if reviewer.pk == applicant.pk:
            carried.append(level.tier)
            continue
        if reviewer.pk in used and not level.direct_fallback and reviewer.pk not in stand_ins:
            # The same org cannot review twice unless the file says it acts in two roles:
            # a stand-in (Quanzhou's city for its 市直 schools) first recommends within the
            # direct bucket in the county's place, then reviews again at its own level.
            continue
        used.add(reviewer.pk)
        quota = level.quota if level.quota is not None else level.tier in quota_tiers
        extra = tuple(t for t in carried if t in quota_tiers)
        carried = []
        steps.append(ChainStep(len(steps), level, reviewer, quota or bool(extra), extra))
    approval = category.stage_of("approval")
    if (
        steps
        and issuer is not None
        and approval is not None
        and (steps[-1].org.pk != issuer.pk or steps[-1].joint)
    ):
        # The last step decides: where the last review is not the issuer's own (a centre
        # re-reviews for the city; a joint review, even one the issuer leads), the issuer's
        # approval is a step of its own.
        steps.append(ChainStep(len(steps), approval, issuer, False))
    return steps


@dataclass(frozen=True)
class QuotaBucket:
    level: str
    holder: Org
    direct: bool


def quota_bucket(
    level_tier: str,
    applicant: Org,
    orgs: list[Org] | None = None,
    category: schema.Category | None = None,
) -> QuotaBucket | None:
    """Whose places an application spends at ``level_tier``.

    The nearest org (the applicant or an ancestor) at that tier holds the quota; an
    applicant with no org at that tier above it (a 市直 school when quotas are per county)
    spends its parent's *direct* bucket. Pass the category's lineage (``lineage(applicant,
    category)``) or the category, so that its folds count.
    """
    orgs = orgs if orgs is not None else lineage(applicant, category)
    for o in orgs:
        if o.tier == level_tier and o.kind != "school":
            return QuotaBucket(level_tier, o, False)
    if len(orgs) > 1:
        return QuotaBucket(level_tier, orgs[1], True)
    return None
