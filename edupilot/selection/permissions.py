"""Who may do what in selection: ``can_<verb>_<thing>(scope, obj) -> (bool, reason)``.

The transition tables (``workflows.py``, and the application's approve / reject rows) name
these; the pages' buttons come from them (``pages.py``: allowed, or greyed out with the
reason), and the services refuse with the same reasons (through ``rules.check_manage`` and
:func:`edupilot.core.errors.check`).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.applications.models import Application, AppState
from edupilot.core.errors import first_refusal
from edupilot.orgs.models import Role
from edupilot.orgs.scoping import Scope
from edupilot.programmes.models import Programme

from .models import (
    Announcement,
    AnnouncementState,
    ApprovalDecision,
    ApprovalOutcome,
    ExpertAssignment,
    Objection,
    ObjectionState,
)

Result = tuple[bool, str]
OK: Result = (True, "")

# Applications that wait for the issuer, and so for the experts; where the flow puts the
# panel between two reviews, those waiting at the panel's step of their chain.
SCORING_STATES = (AppState.RECOMMENDED, AppState.SUBMITTED)


def panel_step(application: Application) -> dict | None:
    """The expert panel's step of the chain, where the flow puts the panel between reviews;
    None where the panel scores applications that await approval."""
    return next((s for s in application.chain or [] if s.get("kind") == "expert_scoring"), None)


def at_panel(application: Application) -> bool:
    step = panel_step(application)
    return (
        step is not None
        and application.state == AppState.SUBMITTED
        and application.current_step is not None
        and application.chain[application.current_step] == step
    )


def fmt_time(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def decision_level(application: Application) -> dict | None:
    """The issuer's step of the application's chain (the last one)."""
    return application.chain[-1] if application.chain else None


def decision_deadline(application: Application) -> dt.datetime | None:
    step = decision_level(application)
    if step is None:
        return None
    return application.programme.level_deadline(application.category, step["level"])


def decision_in_time(application: Application, now: dt.datetime | None = None) -> Result:
    """Before the issuer's deadline for the application's category (when it has one)."""
    deadline = decision_deadline(application)
    if deadline is not None and (now or timezone.now()) > deadline:
        return False, (
            _(
                "“%(category)s”的审定截止时间 %(deadline)s（北京时间）已过，不能再进行专家评审或审定。"
            )
            % {"category": application.category_name, "deadline": fmt_time(deadline)}
        )
    return OK


# --- who -------------------------------------------------------------------------------------


def can_open_selection(scope: Scope, programme: Programme | None = None) -> Result:
    """The selection pages: programme admins; for one programme, its issuer's admins only."""
    if programme is not None:
        return can_manage_selection(scope, programme)
    if scope.is_authenticated and scope.role == Role.PROGRAMME_ADMIN:
        return OK
    return False, _("只有项目管理员可以组织专家评审和审定。")


def can_manage_selection(scope: Scope, programme: Programme) -> Result:
    """Pool, assignments, decisions and announcements: the issuer's programme admins only."""
    if scope.role == Role.PROGRAMME_ADMIN and scope.org_id == programme.issuer_id:
        return OK
    return False, _("只有发文单位（%(issuer)s）的项目管理员可以组织专家评审和审定。") % {
        "issuer": programme.issuer.name
    }


def can_list_expert_tasks(scope: Scope, obj=None) -> Result:
    if scope.is_authenticated and scope.role == Role.EXPERT:
        return OK
    return False, _("只有评审专家有评审任务。")


class Assigned(Protocol):
    """A task assigned to one expert: selection's, or a pilot's acceptance review."""

    expert_id: int


def is_assigned_expert(scope: Scope, assignment: Assigned) -> Result:
    if scope.role == Role.EXPERT and scope.user_id == assignment.expert_id:
        return OK
    return False, _("只有被分配的专家本人可以评分。")


# --- what, now ---------------------------------------------------------------------------------


def scoring_state(application: Application) -> Result:
    step = panel_step(application)
    if step is not None:
        if at_panel(application):
            return OK
        return False, (
            _("%(org)s 的申报当前不在“%(stage)s”阶段（状态：%(state)s），不能安排或进行专家评审。")
            % {
                "org": application.applicant_org.name,
                "stage": step["name"],
                "state": application.get_state_display(),
            }
        )
    if application.state == AppState.RECOMMENDED:
        return OK
    return False, (
        _("%(org)s 的申报当前状态为“%(state)s”，只有“待审定”的申报可以安排专家评审。")
        % {"org": application.applicant_org.name, "state": application.get_state_display()}
    )


def group_opinion_state(application: Application) -> Result:
    """The expert group's opinion: while the panel scores, and where the panel is a step of
    the chain, also after it closed while the application is still under review."""
    step = panel_step(application)
    if (
        step is not None
        and application.state in (AppState.SUBMITTED, AppState.RECOMMENDED)
        and application.current_step is not None
        and application.current_step > application.chain.index(step)
    ):
        return OK
    return scoring_state(application)


def can_score_assignment(scope: Scope, assignment: ExpertAssignment) -> Result:
    """The assigned expert, on an open task of the application's current version."""
    for result in (is_assigned_expert(scope, assignment), _task_open(assignment)):
        if not result[0]:
            return result
    application = assignment.application
    ok, why = scoring_state(application)
    if not ok:
        return ok, why
    if assignment.version != application.version:
        return False, _("申报已重新提交，本评审任务已失效。")
    return OK


def _task_open(assignment: ExpertAssignment) -> Result:
    if not assignment.is_active:
        return False, _("该评审任务已被撤回。")
    if assignment.submitted_at is not None:
        return False, _("评分已于 %(when)s 提交，不能再修改。") % {
            "when": fmt_time(assignment.submitted_at)
        }
    return OK


def can_unassign_expert(scope: Scope, assignment: ExpertAssignment) -> Result:
    return first_refusal(
        can_manage_selection(scope, assignment.application.programme),
        (not assignment.is_active, _("该评审任务已撤回。")),
        (assignment.submitted_at is not None, _("专家已提交评分，评审任务不能撤回。")),
    )


def can_decide_application(scope: Scope, application: Application, *, decided: bool) -> Result:
    """Approve or reject: a RECOMMENDED application without an active decision (``decided``:
    whether it has one, which the caller has already fetched)."""
    ok, why = can_manage_selection(scope, application.programme)
    if not ok:
        return ok, why
    if application.state != AppState.RECOMMENDED:
        return False, (
            _("“%(org)s”当前状态为“%(state)s”，不在待审定状态")
            % {"org": application.applicant_org.name, "state": application.get_state_display()}
        )
    if decided:
        return False, _("“%(org)s”已有审定决定，如需改变请先撤销") % {
            "org": application.applicant_org.name
        }
    return OK


def has_active_decision(application: Application) -> bool:
    """Whether the application has an active decision. A page that fetched the decisions
    already sets ``application.selection_decided`` while it computes the buttons, and spares
    the query (the board: one query for all its rows; ``pages.decide_actions``)."""
    decided = getattr(application, "selection_decided", None)
    if decided is None:
        decided = ApprovalDecision.objects.filter(application=application, is_active=True).exists()
    return decided


def _decision_open(scope: Scope, application: Application) -> Result:
    ok, why = can_decide_application(scope, application, decided=has_active_decision(application))
    if not ok:
        return ok, why
    return decision_in_time(application)


def can_approve_application(scope: Scope, application: Application) -> Result:
    """The issuer's 同意立项 on a RECOMMENDED application without a decision, in time. The
    decision is pending; the ``approve`` transition is taken when the announcement is
    published."""
    return _decision_open(scope, application)


def can_reject_application(scope: Scope, application: Application) -> Result:
    """不予立项: as :func:`can_approve_application` (the reason is asked by the service)."""
    return _decision_open(scope, application)


def can_revoke_decision(scope: Scope, decision: ApprovalDecision) -> Result:
    return first_refusal(
        can_manage_selection(scope, decision.programme),
        (not decision.is_active, _("该审定决定已撤销。")),
        (
            decision.announcement_id is not None,
            _("该审定决定已随公示发布，不能撤销；如有异议请在公示中处理。"),
        ),
    )


def can_assign_expert(scope: Scope, application: Application) -> Result:
    """Put a pool expert on the application: while it waits for the panel (or the issuer)."""
    ok, why = can_manage_selection(scope, application.programme)
    if not ok:
        return ok, why
    return scoring_state(application)


def can_record_group_opinion(scope: Scope, application: Application) -> Result:
    """The expert group's opinion (专家组意见): while the panel scores, or after it."""
    ok, why = can_manage_selection(scope, application.programme)
    if not ok:
        return ok, why
    return group_opinion_state(application)


def can_publish_announcement(scope: Scope, programme: Programme) -> Result:
    """Publish the pending decisions as an announcement (公示): at least one approval pending
    on an application that still awaits the issuer."""
    ok, why = can_manage_selection(scope, programme)
    if not ok:
        return ok, why
    pending = ApprovalDecision.objects.filter(
        programme=programme,
        is_active=True,
        announcement__isnull=True,
        outcome=ApprovalOutcome.APPROVE,
        application__state=AppState.RECOMMENDED,
    )
    if not pending.exists():
        return False, _("没有待公示的同意立项决定，请先在审定页面作出决定。")
    return OK


def can_record_objection(scope: Scope, announcement: Announcement) -> Result:
    return first_refusal(
        can_manage_selection(scope, announcement.programme),
        (
            announcement.state != AnnouncementState.PUBLISHED,
            _("公示已结束，最终名单已公布，不能再登记异议。"),
        ),
    )


def can_resolve_objection(scope: Scope, objection: Objection) -> Result:
    return first_refusal(
        can_manage_selection(scope, objection.announcement.programme),
        (
            objection.announcement.state != AnnouncementState.PUBLISHED,
            _("公示已结束，不能再处理异议。"),
        ),
        (
            objection.state != ObjectionState.OPEN,
            _("该异议已处理（%(state)s）。") % {"state": objection.get_state_display()},
        ),
    )


def can_close_announcement(
    scope: Scope | None, announcement: Announcement, now: dt.datetime | None = None
) -> Result:
    """After the objection period, with no objection left open; ``scope`` None is the
    periodic task acting for the system."""
    if scope is not None:
        ok, why = can_manage_selection(scope, announcement.programme)
        if not ok:
            return ok, why
    if announcement.state != AnnouncementState.PUBLISHED:
        return False, _("最终名单已经公布。")
    if (now or timezone.now()) <= announcement.objection_until:
        return False, (
            _("公示期至 %(until)s（北京时间），期满后才能公布最终名单。")
            % {"until": fmt_time(announcement.objection_until)}
        )
    open_ = announcement.objections.filter(state=ObjectionState.OPEN).select_related("entry")
    names = sorted({o.entry.unit_name for o in open_})
    if names:
        return False, (
            _("还有 %(n)s 条异议未处理（%(names)s），请先处理再公布最终名单。")
            % {"n": len(open_), "names": _("、").join(names)}
        )
    return OK
