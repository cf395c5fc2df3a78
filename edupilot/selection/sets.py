"""Set rules (``[[categories.set_rules]]``) as the issuer's approval sees them.

For an approval the set is what the issuer approves from one recommending org: the
applications that org recommended (an active recommendation at the rule's tier) that are
approved, pending approval, or being approved now. ``confirm_ratio`` caps that set at
⌊n / ratio⌋ of the org's n recommendations; ``at_least`` fails once the org's undecided
recommendations could no longer bring the set up to the minimum; ``at_most_per_group``
counts per group. Callers hold the programme row lock (approval.py), which serialises every
decision of the programme, so two admins cannot pass a rule together; the sets are locked as
well (review/sets.py), so that a recommendation withdrawn or returned meanwhile (which shrinks
the n of ``confirm_ratio``, and takes no programme lock) waits for the approval, or the other
way round.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q

from edupilot.applications.models import Application, AppState
from edupilot.orgs.models import Org
from edupilot.programmes import sets as setrules
from edupilot.programmes.models import Programme
from edupilot.review.models import ReviewAction, ReviewDecision
from edupilot.review.sets import lock_sets, set_members

from .board import CAP_STATES
from .errors import SelectionError
from .models import ApprovalDecision, ApprovalOutcome
from .selectors import pending_approvals


def _recommending_orgs(apps: list[Application]) -> dict[tuple[int, str], int]:
    """``{(application, tier): org}`` of the active recommendations of ``apps``."""
    return {
        (a, tier): org
        for a, tier, org in ReviewDecision.objects.filter(
            application__in=apps, active=True, action=ReviewAction.RECOMMEND
        ).values_list("application_id", "tier", "org_id")
    }


def _holder_set(programme: Programme, category: str, tier: str, org_id: int) -> list[Application]:
    """Every application ``org_id`` recommended at ``tier`` (active recommendations)."""
    return [d.application for d in set_members((programme.pk, category, tier, org_id))]


def _room(category, level: str, recommended: int, chosen: int, undecided: list) -> int:
    """How many more of one org's recommendations the issuer may still approve: those not
    decided yet, and no more than a ``confirm_ratio`` rule of the same tier leaves."""
    room = len(undecided)
    for r in category.set_rules:
        if r.kind == "confirm_ratio" and r.level == level:
            room = min(room, max(setrules.ratio_limit(r, recommended) - chosen, 0))
    return room


def confirmed_count(programme_id: int, category: str, application_ids: list[int]) -> int:
    """How many of ``application_ids`` the issuer has approved or is approving (review's
    hook, for a recommendation that stops counting under a ``confirm_ratio``)."""
    pending = ApprovalDecision.objects.filter(
        programme_id=programme_id,
        category=category,
        is_active=True,
        outcome=ApprovalOutcome.APPROVE,
        application__state=AppState.RECOMMENDED,
    ).values("application_id")
    return (
        Application.objects.filter(pk__in=application_ids)
        .filter(Q(state__in=CAP_STATES) | Q(pk__in=pending))
        .count()
    )


def _lock_approval_sets(programme: Programme, by_category: dict, recommenders: dict) -> None:
    """Lock every set these approvals change, once and in order (review/sets.py)."""
    keys = set()
    for code, added in by_category.items():
        category = programme.parsed.category(code)
        for r in category.set_rules if category else []:
            if "approve" in r.moments:
                keys.update(
                    (programme.pk, code, r.level, org_id)
                    for a in added
                    if (org_id := recommenders[code].get((a.pk, r.level))) is not None
                )
    lock_sets(keys)


def check_approval_sets(programme: Programme, apps: list[Application]) -> None:
    """Refuse approvals that break a set rule, naming the rule, the org and the units."""
    spec = programme.parsed
    by_category: dict[str, list[Application]] = defaultdict(list)
    for a in apps:
        by_category[a.category].append(a)
    recommending = {
        code: _recommending_orgs(added)
        for code, added in by_category.items()
        if any("approve" in r.moments for r in getattr(spec.category(code), "set_rules", []))
    }
    _lock_approval_sets(programme, {c: by_category[c] for c in recommending}, recommending)
    for code, added in by_category.items():
        category = spec.category(code)
        rules = [r for r in (category.set_rules if category else []) if "approve" in r.moments]
        if not rules:
            continue
        recommenders = recommending[code]
        pending = set(
            pending_approvals(programme)
            .filter(category=code)
            .values_list("application_id", flat=True)
        )
        rejected = set(
            ApprovalDecision.objects.filter(
                programme=programme, category=code, is_active=True, outcome=ApprovalOutcome.REJECT
            ).values_list("application_id", flat=True)
        )
        adding = {a.pk for a in added}
        for rule in rules:
            holders: dict[int, list[Application]] = defaultdict(list)
            for a in added:
                if (org_id := recommenders.get((a.pk, rule.level))) is not None:
                    holders[org_id].append(a)
            names = Org.objects.in_bulk(list(holders))
            for org_id in sorted(holders):
                recommended = _holder_set(programme, code, rule.level, org_id)
                chosen = [
                    a
                    for a in recommended
                    if a.pk in adding or a.pk in pending or a.state in CAP_STATES
                ]
                undecided = [
                    a
                    for a in recommended
                    if a.state == AppState.RECOMMENDED and a not in chosen and a.pk not in rejected
                ]
                failure = setrules.check_rule(
                    rule,
                    holder=f"{names[org_id].name}推荐的申报",
                    members=[a.applicant_org for a in chosen],
                    added=[a.applicant_org for a in chosen if a.pk in adding],
                    room=_room(category, rule.level, len(recommended), len(chosen), undecided),
                    recommended=len(recommended),
                    **setrules.rule_context(
                        rule,
                        spec,
                        category,
                        programme.issuer,
                        names[org_id],
                        {a.applicant_org_id: a.topic for a in recommended},
                    ),
                )
                if failure is not None:
                    raise SelectionError(failure.message)
