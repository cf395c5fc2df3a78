"""Who may act on an application's review, and when: ``can_…`` predicates and the
``check_…`` functions services call (they raise :class:`ReviewError` / :class:`ReviewDenied`).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.applications.models import Application, AppState
from edupilot.core.errors import Denied, Refused
from edupilot.orgs.models import Role, Tier
from edupilot.orgs.scoping import Scope

from . import hooks
from .models import JointOpinion, JointVerdict, ReviewAction, ReviewDecision

TIER_LABELS = dict(Tier.choices)
REVIEWER_ROLES = (Role.REVIEWER, Role.PROGRAMME_ADMIN)


class ReviewError(Refused):
    """A refused review action; the message says why."""


class ReviewDenied(ReviewError, Denied):
    """The scope may not act here at all (as opposed to: not now, not in this state)."""


def _fmt(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# --- where an application stands -----------------------------------------------------------


def last_step(application: Application) -> int:
    return len(application.chain) - 1


def step_info(chain: list | None, step: int | None) -> dict | None:
    """The chain's entry at ``step`` (the level reviewing now), None past or before it."""
    if step is None or not chain or step >= len(chain):
        return None
    return chain[step]


def current_step_info(application: Application) -> dict | None:
    return step_info(application.chain, application.current_step)


def stage_actions(application: Application, level_key: str) -> list[str]:
    """What the file lets reviewers do at a stage (``actions``; all three by default)."""
    category = application.programme.parsed.category(application.category)
    stage = next((s for s in category.pipeline if s.key == level_key), None)
    return list(getattr(stage, "actions", None) or [a.value for a in ReviewAction])


def level_deadline(application: Application, step: int) -> dt.datetime | None:
    return application.programme.level_deadline(
        application.category, application.chain[step]["level"]
    )


# --- permission predicates: (allowed, reason) ---------------------------------------------


def _is_step_reviewer(scope: Scope, application: Application, step: int) -> bool:
    info = application.chain[step]
    # A joint review step is acted on by each of its orgs (review/joint.py).
    return (
        scope.is_authenticated
        and scope.role in REVIEWER_ROLES
        and scope.org_id in (info.get("orgs") or [info["org"]])
    )


def check_decide(
    scope: Scope, application: Application, action: str, now: dt.datetime | None = None
) -> None:
    """Raise ReviewDenied / ReviewError unless ``scope`` may take ``action`` now."""
    info = current_step_info(application)
    if info is None or application.state not in (AppState.SUBMITTED, AppState.RECOMMENDED):
        raise ReviewError(
            _("申报当前状态为“%(state)s”，不在审核中。")
            % {"state": application.get_state_display()}
        )
    step = application.current_step
    if not _is_step_reviewer(scope, application, step):
        raise ReviewDenied(
            _("本申报当前由%(org)s（%(stage)s）审核，本账号不能操作。")
            % {"org": info["org_name"], "stage": info["name"]}
        )
    if "orgs" in info:
        said = (
            JointOpinion.objects.filter(
                application=application,
                version=application.version,
                step=step,
                org_id=scope.org_id,
            )
            .exclude(verdict=JointVerdict.PENDING)
            .first()
        )
        if said is not None:
            raise ReviewError(
                _("本单位已对本申报发表意见（%(verdict)s），%(stage)s等待其他联合审核单位的意见。")
                % {"verdict": said.get_verdict_display(), "stage": info["name"]}
            )
    if info.get("kind") == "expert_scoring":
        raise ReviewError(
            _("本申报正在%(stage)s阶段：专家评分达到要求后自动进入下一阶段，此阶段不能审核。")
            % {"stage": info["name"]}
        )
    allowed = stage_actions(application, info["level"])
    if action not in allowed:
        raise ReviewError(
            _("本阶段（%(stage)s）按项目通知不能%(action)s。")
            % {"stage": info["name"], "action": ReviewAction(action).label}
        )
    final = step == last_step(application)
    if action in (ReviewAction.RECOMMEND, ReviewAction.NOT_RECOMMEND) and final:
        raise ReviewError(_("本级为审定层级，请通过审定（立项）功能处理。"))
    if final and action == ReviewAction.RETURN:
        why = issuer_acted(application)
        if getattr(why, "kind", None) == hooks.DECIDED:
            raise ReviewError(_("%(why)s，请先撤销该决定再退回修改。") % {"why": why})
    if application.state == AppState.RECOMMENDED and not final:
        raise ReviewError(_("申报状态与审核步骤不一致，请联系平台管理员。"))
    deadline = level_deadline(application, step)
    now = now or timezone.now()
    if deadline is not None and now > deadline:
        raise ReviewError(
            _("本级（%(stage)s）审核截止时间 %(deadline)s（北京时间）已过，不能再操作。")
            % {"stage": info["name"], "deadline": _fmt(deadline)}
        )


def can_decide(
    scope: Scope, application: Application, action: str, now: dt.datetime | None = None
) -> tuple[bool, str]:
    """May ``scope`` take ``action`` (a ReviewAction) on ``application`` now, and if not, why."""
    try:
        check_decide(scope, application, action, now)
    except ReviewError as exc:
        return False, exc.message
    return True, ""


def _upper_level_acted(decision: ReviewDecision, application: Application) -> str:
    """Why a recommendation can no longer be withdrawn ('' when it still can)."""
    if not decision.counts:
        return _("该推荐已不再有效。")
    if decision.version != application.version:
        return _("申报已重新提交，该推荐已失效。")
    if application.current_step != decision.step + 1 or application.state not in (
        AppState.SUBMITTED,
        AppState.RECOMMENDED,
    ):
        return _("上级已对该申报作出处理，不能撤回推荐。")
    if ReviewDecision.objects.filter(
        application=application, version=application.version, step__gt=decision.step
    ).exists():
        return _("上级已对该申报作出处理，不能撤回推荐。")
    if application.chain[decision.step].get("kind") == "joint_review":
        return _("联合审核的结论由各单位共同作出，不能由一个单位撤回。")
    if (
        JointOpinion.objects.filter(
            application=application, version=application.version, step=decision.step + 1
        )
        .exclude(verdict=JointVerdict.PENDING)
        .exists()
    ):
        return _("联合审核单位已发表意见，不能撤回推荐。")
    if decision.step + 1 == last_step(application):
        why = issuer_acted(application)
        if why:
            return _("%(why)s，不能撤回推荐。") % {"why": why}
    return ""


def issuer_acted(application: Application) -> str:
    """What the issuer's level has already done on an application awaiting its decision.

    Expert scoring and a pending approval decision are the issuer acting, even though the
    application stays RECOMMENDED until the announcement is published; the apps that record
    them answer through :mod:`edupilot.review.hooks`.
    """
    return hooks.issuer_acted(application)


def check_withdraw_recommendation(
    scope: Scope, decision: ReviewDecision, now: dt.datetime | None = None
) -> None:
    application = decision.application
    if not (
        scope.is_authenticated and scope.role in REVIEWER_ROLES and scope.org_id == decision.org_id
    ):
        raise ReviewDenied(_("只有作出推荐的审核单位可以撤回推荐。"))
    why = _upper_level_acted(decision, application)
    if why:
        raise ReviewError(why)
    deadline = level_deadline(application, decision.step)
    now = now or timezone.now()
    if deadline is not None and now > deadline:
        raise ReviewError(
            _("本级（%(stage)s）审核截止时间 %(deadline)s（北京时间）已过，不能再撤回推荐。")
            % {"stage": application.chain[decision.step]["name"], "deadline": _fmt(deadline)}
        )


def can_withdraw_recommendation(
    scope: Scope, decision: ReviewDecision, now: dt.datetime | None = None
) -> tuple[bool, str]:
    try:
        check_withdraw_recommendation(scope, decision, now)
    except ReviewError as exc:
        return False, exc.message
    return True, ""
