"""Writes for the review chain: one function per transition.

Every service locks the rows it changes, checks permission, state and the level's deadline,
writes, records an audit event in the same transaction and queues notifications. Errors are
:class:`ReviewError` with a Chinese message meant for the screen; when one is raised nothing
has changed.

Locks are always taken in the same order, so that two services never wait on each other:
applications (by id) → review levels (for ranks, by key) → recommendation sets of set rules
(by key) → quota rows (by id) → audit chain.

The transitions (step *i* of a chain of *n*; steps 0 … n-2 recommend, n-1 decides):

=====================  ===========================  =====================================
service                from                         to
=====================  ===========================  =====================================
review_recommend       SUBMITTED at i < n-1         SUBMITTED at i+1, or RECOMMENDED at n-1
review_return          SUBMITTED / RECOMMENDED at i RETURNED (lower recommendations freed)
review_not_recommend   SUBMITTED at i < n-1         NOT_RECOMMENDED
review_withdraw_…      SUBMITTED / RECOMMENDED at   SUBMITTED at i (its place freed)
                       i+1, upper level not acted
(submission hook)      any → SUBMITTED at 0         RECOMMENDED at 0 when n == 1
=====================  ===========================  =====================================
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.applications.models import Application, AppState
from edupilot.applications.workflows import APPLICATION
from edupilot.audit.services import Actor, audit_record
from edupilot.orgs.scoping import Scope

from . import joint
from .locks import (  # noqa: F401 - re-exported for selectors, views and tests
    LevelKey,
    _deactivate,
    _level_key,
    _lock_applications,
    _lock_levels,
    _lock_one,
    level_recommendations,
)
from .models import Deactivation, ReviewAction, ReviewDecision
from .permissions import (  # noqa: F401 - re-exported for selectors, views and tests
    REVIEWER_ROLES,
    TIER_LABELS,
    ReviewDenied,
    ReviewError,
    _fmt,
    can_decide,
    can_withdraw_recommendation,
    check_decide,
    check_withdraw_recommendation,
    current_step_info,
    issuer_acted,
    last_step,
    level_deadline,
)
from .quotas import (  # noqa: F401 - re-exported for selectors, views and tests
    QuotaState,
    quota_buckets,
    quota_refusal,
    quota_state,
)
from .recommendations import (  # noqa: F401 - part of the chain's services
    review_rerank,
    review_withdraw_recommendation,
)
from .sets import check_leaving, check_sets, lock_sets, priority_rank, set_groups
from .support import (  # noqa: F401 - OPINION_MAX is re-exported for views
    OPINION_MAX,
    _check_rules,
    _clean_text,
    _notify,
    _notify_applicant,
    _notify_next_level,
    _notify_reviewers,
    _prefixed,
    _start_review,
    about,
)

logger = logging.getLogger(__name__)


def _decide(app, step: int, action: str, actor: Actor, now, **fields) -> ReviewDecision:
    """The decision row of ``app``'s current version at ``step`` of its chain."""
    info = app.chain[step]
    return ReviewDecision.objects.create(
        application=app,
        programme_id=app.programme_id,
        category=app.category,
        version=app.version,
        step=step,
        level=info["level"],
        tier=info["tier"],
        org_id=info["org"],
        action=action,
        decided_by=actor.user if getattr(actor.user, "pk", None) else None,
        decided_at=now,
        **fields,
    )


def _bulk(applications, locked_one, message: str, *, lock_levels: bool = False, **kwargs):
    """Lock ``applications`` (by id, the global order) and apply ``locked_one`` to each, all or
    none; a refusal names the application it is about."""
    ids = [a.pk for a in applications]
    if not ids:
        raise ReviewError(message)
    locked = _lock_applications(ids)
    if lock_levels:
        _lock_levels(
            (d.programme_id, d.category, d.level, d.org_id)
            for d in ReviewDecision.objects.filter(
                application_id__in=list(locked), active=True, action=ReviewAction.RECOMMEND
            )
        )
    return [locked_one(locked[pk], prefix=about(locked[pk]), **kwargs) for pk in sorted(locked)]


def _pass_on_last(
    app, step: int, opinion: str, actor: Actor, now, *, transition: str
) -> tuple[ReviewDecision, int]:
    """Pass ``app`` on from ``step`` ranked last of its level, for steps whose completion no
    reviewer ranks (an expert panel finishing, a joint review agreeing); no quota bucket."""
    key = _level_key(app, step)
    _lock_levels([key])
    rank = level_recommendations(key).count() + 1
    return _pass_on(app, step, rank, opinion, None, actor, now, transition=transition), rank


def _pass_on(
    app, step: int, rank: int, opinion: str, bucket_key, actor: Actor, now, *, transition: str
) -> ReviewDecision:
    """Record ``app``'s recommendation at ``step`` and move it to the next step: the last
    step is the one that decides, so an application reaching it is "recommended"."""
    decision = _decide(
        app,
        step,
        ReviewAction.RECOMMEND,
        actor,
        now,
        rank=rank,
        opinion=opinion,
        quota_level=bucket_key[2] if bucket_key else "",
        quota_holder_id=bucket_key[3] if bucket_key else None,
        quota_direct=bucket_key[4] if bucket_key else False,
    )
    nxt = step + 1
    final = nxt == last_step(app)
    app.current_step = nxt
    app.current_org_id = app.chain[nxt]["org"]
    APPLICATION.advance(app, transition, to=AppState.RECOMMENDED if final else AppState.SUBMITTED)
    fields = ["current_step", "current_org", "state", "updated_at"]
    _start_review(app, now, fields)
    app.save(update_fields=fields)
    joint.open_step(app)
    return decision


# --- recommend -------------------------------------------------------------------------------


def _recommend_locked(
    apps: list[Application],
    *,
    ranks: list[int | None],
    opinion: str,
    scope: Scope,
    actor: Actor,
    now: dt.datetime,
) -> list[ReviewDecision]:
    """Recommend already-locked applications, all or none, in the order given."""
    if any(joint.is_joint(a) for a in apps):
        if len(apps) > 1:
            raise ReviewError(_("联合审核阶段由各单位逐件发表意见，不能批量推荐。"))
        return [
            joint.joint_opinion_record(
                apps[0],
                action=ReviewAction.RECOMMEND,
                text=opinion,
                scope=scope,
                actor=actor,
                now=now,
            )
        ]
    several = len(apps) > 1
    prefix = about if several else (lambda a: "")
    for app in apps:
        with _prefixed(prefix(app)):
            check_decide(scope, app, ReviewAction.RECOMMEND, now)
    for app in apps:
        _check_rules(app)
    steps = {app.pk: app.current_step for app in apps}
    _lock_levels(_level_key(app, steps[app.pk]) for app in apps)
    # Set rules: each recommendation set these change, locked before the quota rows.
    groups = set_groups(apps, steps)
    lock_sets(key for _, key in groups)

    # Quota: every bucket these recommendations spend, locked and counted once.
    spends: dict[tuple, list[Application]] = defaultdict(list)
    policies: dict[tuple, tuple] = {}
    buckets_of: dict[int, list[tuple]] = {}
    for app in apps:
        keys = []
        for policy, bucket in quota_buckets(app, steps[app.pk]):
            key = (app.programme_id, app.category, bucket.level, bucket.holder.pk, bucket.direct)
            spends[key].append(app)
            policies.setdefault(key, (app, policy, bucket))
            keys.append(key)
        buckets_of[app.pk] = keys
    states: dict[tuple, QuotaState] = {}
    # Sorted keys give every transaction the same order of quota row locks, so two bulk
    # recommendations sharing buckets queue instead of deadlocking.
    for key in sorted(spends):
        app, policy, bucket = policies[key]
        state = quota_state(app, policy, bucket, lock=True)
        needed = len(spends[key])
        if state.limit is not None and state.used + needed > state.limit:
            raise ReviewError(quota_refusal(state, needed))
        states[key] = state
    if groups and (broken := check_sets(groups, states, spends)):
        raise ReviewError(broken)

    decisions = []
    for app, wanted_rank in zip(apps, ranks, strict=True):
        step = steps[app.pk]
        info = app.chain[step]
        level_qs = level_recommendations(_level_key(app, step))
        count = level_qs.count()
        if wanted_rank is None:
            wanted_rank = priority_rank(app, level_qs)
        rank = count + 1 if wanted_rank is None else min(max(int(wanted_rank), 1), count + 1)
        if rank <= count:
            level_qs.filter(rank__gte=rank).update(rank=F("rank") + 1)
        bucket_key = buckets_of[app.pk][0] if buckets_of[app.pk] else None
        state_before = app.state
        decision = _pass_on(
            app, step, rank, opinion, bucket_key, actor, now, transition="recommend"
        )
        decisions.append(decision)
        nxt = step + 1
        quota_after = {
            "bucket": states[bucket_key].name if bucket_key else None,
            "used": states[bucket_key].used + 1 if bucket_key else None,
            "limit": states[bucket_key].limit if bucket_key else None,
        }
        if bucket_key:
            states[bucket_key].used += 1
        audit_record(
            actor=actor,
            action="review.recommend",
            obj=app,
            before={"state": state_before, "step": step},
            after={
                "state": app.state,
                "step": nxt,
                "level": info["level"],
                "rank": rank,
                "version": app.version,
                "decision": decision.pk,
                **quota_after,
            },
        )
        nxt_info = app.chain[nxt]
        _notify_reviewers(
            app,
            nxt,
            event="review.recommended",
            title=f"{info['org_name']}推荐了{app.applicant_org.name}的申报",
            body=f"{app.programme.title}·{app.category_name}：{info['org_name']}推荐（第 {rank} 名），"
            f"请{nxt_info['org_name']}{nxt_info['name']}。",
            actor=actor,
        )
        _notify_applicant(
            app,
            event="review.recommended",
            title=f"您的申报已通过{info['org_name']}推荐",
            body=f"{app.programme.title}·{app.category_name}：已由{info['org_name']}推荐至"
            f"{nxt_info['org_name']}。推荐意见：{opinion}",
            actor=actor,
        )
    return decisions


@transaction.atomic
def review_recommend(
    *,
    application: Application,
    scope: Scope,
    actor: Actor,
    opinion: str,
    rank: int | None = None,
    now: dt.datetime | None = None,
) -> ReviewDecision:
    """Recommend to the next level, within the quota; ``rank`` inserts it at that place
    among the level's recommendations (default: last)."""
    now = now or timezone.now()
    opinion = _clean_text(opinion, _("推荐意见"))
    if rank is not None and rank < 1:
        raise ReviewError(_("推荐排序须为正整数。"))
    app = _lock_one(application)
    return _recommend_locked(
        [app], ranks=[rank], opinion=opinion, scope=scope, actor=actor, now=now
    )[0]


@transaction.atomic
def review_recommend_bulk(
    *,
    applications: Sequence[Application],
    scope: Scope,
    actor: Actor,
    opinion: str,
    now: dt.datetime | None = None,
) -> list[ReviewDecision]:
    """Recommend a ranked selection (best first), appended after the level's earlier ones.

    All or nothing: if one cannot be recommended, or they do not all fit in the quota,
    none is, and the message says which and why.
    """
    now = now or timezone.now()
    opinion = _clean_text(opinion, _("推荐意见"))
    order = [a.pk for a in applications]
    if not order:
        raise ReviewError(_("请先选择要推荐的申报。"))
    if len(set(order)) != len(order):
        raise ReviewError(_("同一申报被选择了两次。"))
    locked = _lock_applications(order)
    if len(locked) != len(order):
        raise ReviewError(_("所选申报有的已不存在。"))
    apps = [locked[pk] for pk in order]
    return _recommend_locked(
        apps, ranks=[None] * len(apps), opinion=opinion, scope=scope, actor=actor, now=now
    )


# --- a panel's step completes --------------------------------------------------------------


@transaction.atomic
def review_panel_done(
    *, application: Application, actor: Actor, opinion: str, now: dt.datetime | None = None
) -> ReviewDecision | None:
    """The expert panel's step of ``application``'s chain has the scores it needs: record it as
    the step's recommendation and move the application on to the next stage. Nothing happens
    when the application is not (any more) at a panel step; called by selection on each score.
    """
    now = now or timezone.now()
    app = _lock_one(application)
    info = current_step_info(app)
    if app.state != AppState.SUBMITTED or info is None or info.get("kind") != "expert_scoring":
        return None
    step = app.current_step
    decision, _rank = _pass_on_last(app, step, opinion, actor, now, transition="panel_done")
    audit_record(
        actor=actor,
        action="review.panel_done",
        obj=app,
        before={"state": AppState.SUBMITTED, "step": step},
        after={"state": app.state, "step": app.current_step, "level": info["level"]},
    )
    title = f"{app.applicant_org.name}的申报已完成{info['name']}"
    _notify_next_level(app, title=title, said=opinion, actor=actor)
    return decision


# --- return and not recommend -------------------------------------------------------------


def _close(
    app: Application, step: int, action: str, transition: str, reasons: str, actor, now, **after
) -> ReviewDecision:
    """Record ``action`` (return or not recommend) with ``reasons`` at ``step``, take ``app``
    out of review by ``transition`` and audit it as ``review.<transition>`` (``after`` adds to
    the audited state)."""
    info = app.chain[step]
    decision = _decide(app, step, action, actor, now, reasons=reasons)
    state_before = app.state
    APPLICATION.advance(app, transition)
    app.current_org = None
    fields = ["state", "current_org", "updated_at"]
    _start_review(app, now, fields)
    app.save(update_fields=fields)
    audit_record(
        actor=actor,
        action=f"review.{transition}",
        obj=app,
        before={"state": state_before, "step": step},
        after={
            "state": app.state,
            "level": info["level"],
            "reasons": reasons,
            "version": app.version,
            "decision": decision.pk,
            **after,
        },
    )
    return decision


def _return_locked(
    app: Application, *, reasons: str, scope: Scope, actor: Actor, now: dt.datetime, prefix: str
) -> ReviewDecision:
    with _prefixed(prefix):
        check_decide(scope, app, ReviewAction.RETURN, now)
        joint.joint_return_record(app, reasons=reasons, scope=scope, actor=actor, now=now)
    step = app.current_step
    info = app.chain[step]
    lower = list(
        ReviewDecision.objects.filter(
            application=app, active=True, action=ReviewAction.RECOMMEND, step__lt=step
        ).order_by("step")
    )
    _lock_levels((d.programme_id, d.category, d.level, d.org_id) for d in lower)
    if broken := check_leaving(app, lower):  # a confirm_ratio the issuer has filled
        raise ReviewError(broken)
    _deactivate(lower, Deactivation.RETURNED_ABOVE, now)
    decision = _close(
        app, step, ReviewAction.RETURN, "return", reasons, actor, now, freed=[d.pk for d in lower]
    )
    deadline = level_deadline(app, step)
    until = f"请在 {_fmt(deadline)}（北京时间）前修改并重新提交。" if deadline else ""
    _notify_applicant(
        app,
        event="review.returned",
        title=f"您的申报被{info['org_name']}退回修改",
        body=f"{app.programme.title}·{app.category_name}。退回理由：{reasons}。{until}",
        actor=actor,
    )
    for d in lower:
        _notify_reviewers(
            app,
            d.step,
            event="review.returned",
            title=f"{app.applicant_org.name}的申报被{info['org_name']}退回修改",
            body=f"本级对其的推荐已失效，名额已释放。退回理由：{reasons}",
            actor=actor,
        )
    return decision


@transaction.atomic
def review_return(
    *,
    application: Application,
    scope: Scope,
    actor: Actor,
    reasons: str,
    now: dt.datetime | None = None,
) -> ReviewDecision:
    """Send the application back to the applicant for revision; lower levels' places are freed."""
    now = now or timezone.now()
    reasons = _clean_text(reasons, _("退回理由"))
    app = _lock_one(application)
    return _return_locked(app, reasons=reasons, scope=scope, actor=actor, now=now, prefix="")


@transaction.atomic
def review_return_bulk(
    *,
    applications: Sequence[Application],
    scope: Scope,
    actor: Actor,
    reasons: str,
    now: dt.datetime | None = None,
) -> list[ReviewDecision]:
    """Return several applications with the same reasons; all or none."""
    now = now or timezone.now()
    reasons = _clean_text(reasons, _("退回理由"))
    return _bulk(
        applications,
        _return_locked,
        _("请先选择要退回的申报。"),
        lock_levels=True,
        reasons=reasons,
        scope=scope,
        actor=actor,
        now=now,
    )


def _not_recommend_locked(
    app: Application, *, reason: str, scope: Scope, actor: Actor, now: dt.datetime, prefix: str
) -> ReviewDecision:
    with _prefixed(prefix):
        check_decide(scope, app, ReviewAction.NOT_RECOMMEND, now)
        if joint.is_joint(app):
            return joint.joint_opinion_record(
                app,
                action=ReviewAction.NOT_RECOMMEND,
                text=reason,
                scope=scope,
                actor=actor,
                now=now,
            )
    step = app.current_step
    info = app.chain[step]
    decision = _close(app, step, ReviewAction.NOT_RECOMMEND, "not_recommend", reason, actor, now)
    _notify_applicant(
        app,
        event="review.not_recommended",
        title=f"您的申报未获{info['org_name']}推荐",
        body=f"{app.programme.title}·{app.category_name}。理由：{reason}",
        actor=actor,
    )
    return decision


@transaction.atomic
def review_not_recommend(
    *,
    application: Application,
    scope: Scope,
    actor: Actor,
    reason: str,
    now: dt.datetime | None = None,
) -> ReviewDecision:
    """Say no, with the reason. Final for this application."""
    now = now or timezone.now()
    reason = _clean_text(reason, _("不予推荐的理由"))
    app = _lock_one(application)
    return _not_recommend_locked(app, reason=reason, scope=scope, actor=actor, now=now, prefix="")


@transaction.atomic
def review_not_recommend_bulk(
    *,
    applications: Sequence[Application],
    scope: Scope,
    actor: Actor,
    reason: str,
    now: dt.datetime | None = None,
) -> list[ReviewDecision]:
    now = now or timezone.now()
    reason = _clean_text(reason, _("不予推荐的理由"))
    return _bulk(
        applications,
        _not_recommend_locked,
        _("请先选择申报。"),
        reason=reason,
        scope=scope,
        actor=actor,
        now=now,
    )
