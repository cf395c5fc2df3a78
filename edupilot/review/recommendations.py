"""Writes on a level's recommendations once made: withdraw one (its place is freed, the
application returns to the level's queue) and reorder them. Same discipline and lock order as
review/services.py, which re-exports both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.applications.workflows import APPLICATION
from edupilot.audit.services import Actor, audit_record
from edupilot.orgs.scoping import Scope
from edupilot.programmes.models import Programme

from .locks import _deactivate, _lock_levels, _lock_one, level_recommendations
from .models import Deactivation, JointOpinion, JointVerdict, ReviewDecision
from .permissions import (
    REVIEWER_ROLES,
    ReviewDenied,
    ReviewError,
    _fmt,
    check_withdraw_recommendation,
)
from .sets import check_leaving
from .support import _notify_applicant, _notify_reviewers

# --- withdraw a recommendation ----------------------------------------------------------------


@transaction.atomic
def review_withdraw_recommendation(
    *,
    decision: ReviewDecision,
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> ReviewDecision:
    """Take a recommendation back while the upper level has not acted; its place is freed
    and the application returns to this level's queue."""
    now = now or timezone.now()
    app = _lock_one(decision.application)
    _lock_levels([(decision.programme_id, decision.category, decision.level, decision.org_id)])
    # Read under both locks: the app lock fixes its state, the level lock its rank.
    decision = ReviewDecision.objects.get(pk=decision.pk)
    decision.application = app
    check_withdraw_recommendation(scope, decision, now)
    if broken := check_leaving(app, [decision]):  # a confirm_ratio the issuer has filled
        raise ReviewError(broken)
    rank = decision.rank
    _deactivate([decision], Deactivation.WITHDRAWN, now)
    upper = app.chain[app.current_step]
    state_before, step_before = app.state, app.current_step
    app.current_step = decision.step
    app.current_org_id = decision.org_id
    APPLICATION.advance(app, "withdraw_recommendation")
    app.save(update_fields=["current_step", "current_org", "state", "updated_at"])
    # A joint step above it had opened its orgs' (still empty) opinions: they close.
    JointOpinion.objects.filter(
        application=app, version=app.version, step__gt=decision.step, verdict=JointVerdict.PENDING
    ).delete()
    audit_record(
        actor=actor,
        action="review.withdraw_recommendation",
        obj=app,
        before={"state": state_before, "step": step_before, "rank": rank},
        after={"state": app.state, "step": app.current_step, "decision": decision.pk},
    )
    _notify_reviewers(
        app,
        step_before,
        event="review.recommendation_withdrawn",
        title=f"{app.chain[decision.step]['org_name']}撤回了对{app.applicant_org.name}的推荐",
        body=f"{app.programme.title}·{app.category_name}：该申报已不在{upper['org_name']}待审列表中。",
        actor=actor,
    )
    _notify_applicant(
        app,
        event="review.recommendation_withdrawn",
        title=f"{app.chain[decision.step]['org_name']}撤回了对您申报的推荐",
        body=f"{app.programme.title}·{app.category_name}：申报回到{app.chain[decision.step]['org_name']}重新审核。",
        actor=actor,
    )
    return decision


# --- reorder a level's recommendations --------------------------------------------------------


@transaction.atomic
def review_rerank(
    *,
    programme: Programme,
    category: str,
    level: str,
    order: Sequence[int],
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> list[ReviewDecision]:
    """Set the ranks of this level's active recommendations to the order of decision ids."""
    now = now or timezone.now()
    if not (scope.is_authenticated and scope.role in REVIEWER_ROLES):
        raise ReviewDenied(_("只有审核单位可以调整推荐排序。"))
    key = (programme.pk, category, level, scope.org_id)
    deadline = programme.level_deadline(category, level)
    if deadline is None:
        raise ReviewError(_("审核层级不存在。"))
    if now > deadline:
        raise ReviewError(
            _("本级审核截止时间 %(deadline)s（北京时间）已过，不能再调整排序。")
            % {"deadline": _fmt(deadline)}
        )
    _lock_levels([key])
    current = {d.pk: d for d in level_recommendations(key).select_for_update()}
    wanted = [int(i) for i in order]
    if sorted(wanted) != sorted(current) or len(set(wanted)) != len(wanted):
        raise ReviewError(_("排序须包含本级全部有效推荐且不重复；列表可能已变化，请刷新后重试。"))
    before = {pk: d.rank for pk, d in current.items()}
    for i, pk in enumerate(wanted, start=1):
        if current[pk].rank != i:
            current[pk].rank = i
            current[pk].save(update_fields=["rank"])
    audit_record(
        actor=actor,
        action="review.rerank",
        object_type="review.level",
        object_id=f"{programme.code}/{category}/{level}/{scope.org_id}",
        before={"ranks": before},
        after={"ranks": {pk: current[pk].rank for pk in wanted}},
    )
    return [current[pk] for pk in wanted]
