"""Who may do what in the pilot period: ``can_<verb>_<thing>(scope, obj) -> (bool, reason)``.

The transition tables (``workflows.py``) name these; pages show a greyed-out button with the
reason when one says no, and services check them again under lock.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from edupilot.core.errors import first_refusal
from edupilot.orgs.models import Role, path_within
from edupilot.selection.permissions import is_assigned_expert  # an acceptance review's too

from .models import PilotState, SubmissionState

Result = tuple[bool, str]
OK: Result = (True, "")
APPROVER_ROLES = (Role.REVIEWER, Role.PROGRAMME_ADMIN)


# --- submissions (plans, reports, acceptance materials, cases) -----------------------------------


def stage_of(submission):
    spec = submission.pilot.spec
    return spec.stage(submission.stage) if spec else None


def is_unit(scope, pilot) -> bool:
    return scope.is_authenticated and scope.role == Role.APPLICANT and scope.org_id == pilot.unit_id


def is_approver(scope, pilot, approver: str) -> bool:
    """The stage's approver: the issuer's reviewers and admins, or (``supervisor``) those of the
    supervising org or of any org above it up to the issuer."""
    if not scope.is_authenticated or scope.role not in APPROVER_ROLES:
        return False
    issuer = pilot.programme.issuer
    if approver == "issuer":
        return scope.org_id == issuer.pk
    path = scope.org_path or ""
    return bool(path) and pilot.supervisor.path.startswith(path) and path.startswith(issuer.path)


def closed_for(pilot, kind: str) -> bool:
    """Whether the pilot takes no more submissions of ``kind``: none once it is closed, but
    for the typical case (典型案例) of a pilot that passed acceptance — what it is a case of."""
    if kind == "cases" and pilot.state == PilotState.ACCEPTED:
        return False
    return pilot.is_closed


def can_edit_submission(scope, submission) -> tuple[bool, str]:
    pilot = submission.pilot
    if not is_unit(scope, pilot):
        return False, _("只有试点单位可以填写和提交。")
    if closed_for(pilot, submission.kind):
        return False, _("试点已结束，不能再提交材料。")
    if submission.state not in (SubmissionState.DRAFT, SubmissionState.RETURNED):
        return False, _("材料已提交，等待审核，不能修改。")
    stage = stage_of(submission)
    if stage is None:
        return False, _("该阶段已不在试点期安排中。")
    if stage.kind == "acceptance" and pilot.state not in (
        PilotState.ACTIVE,
        PilotState.RECTIFYING,
    ):
        return False, _("验收材料已提交，不能重复提交。")
    return OK


def can_submit_submission(scope, submission) -> tuple[bool, str]:
    return can_edit_submission(scope, submission)


def _can_decide(scope, submission) -> tuple[bool, str]:
    if submission.state != SubmissionState.SUBMITTED:
        return False, _("只有待审核的材料可以审核。")
    stage = stage_of(submission)
    if stage is None:
        return False, _("该阶段已不在试点期安排中。")
    if not is_approver(scope, submission.pilot, stage.approver):
        if stage.approver == "issuer":
            return False, _("该阶段的材料由发文单位审核。")
        return False, _("只有督导单位或其上级教育行政部门可以审核。")
    return OK


def can_accept_submission(scope, submission) -> tuple[bool, str]:
    ok, reason = _can_decide(scope, submission)
    if ok and submission.kind == "acceptance":
        return False, _("验收材料由发文单位评定验收等级，不在此处通过。")
    return ok, reason


def can_return_submission(scope, submission) -> tuple[bool, str]:
    return _can_decide(scope, submission)


# --- stages -------------------------------------------------------------------------------------
# Inspections, acceptance, titles and awards (pilots.inspections / acceptance / honours).


def is_issuer_admin(scope, programme) -> Result:
    if scope.role == Role.PROGRAMME_ADMIN and scope.org_id == programme.issuer_id:
        return OK
    return False, _("只有发文单位（%(issuer)s）的项目管理员可以办理。") % {
        "issuer": programme.issuer.name
    }


def is_pilot_unit(scope, pilot) -> Result:
    if scope.role == Role.APPLICANT and scope.org_id == pilot.unit_id:
        return OK
    return False, _("只有试点单位（%(unit)s）可以办理。") % {"unit": pilot.unit.name}


def is_inspector(scope, pilot) -> Result:
    """The pilot's inspection stage lets its supervisor (or an org above it up to the issuer)
    and/or the issuer inspect; reviewers and programme admins of those orgs act."""
    stage = pilot.spec.stage_of("inspection") if pilot.spec else None
    by = stage.by if stage else ("supervisor", "issuer")
    if scope.role not in (Role.REVIEWER, Role.PROGRAMME_ADMIN) or not scope.org_path:
        return False, _("只有督导单位或发文单位的审核人、项目管理员可以检查。")
    issuer = pilot.programme.issuer
    if "issuer" in by and scope.org_id == issuer.pk:
        return OK
    if (
        "supervisor" in by
        and path_within(pilot.supervisor.path, scope.org_path)
        and path_within(scope.org_path, issuer.path)
    ):
        return OK
    who = _("、").join(
        {"supervisor": _("督导单位（及其上级）"), "issuer": _("发文单位")}[b] for b in by
    )
    return False, _("只有%(who)s可以安排和办理检查。") % {"who": who}


def can_schedule_inspection(scope, pilot) -> Result:
    if pilot.is_closed:
        return False, _("试点已结束（%(state)s），不再安排检查。") % {
            "state": pilot.get_state_display()
        }
    if pilot.spec is None or pilot.spec.stage_of("inspection") is None:
        return False, _("本项目的试点期没有检查环节。")
    return is_inspector(scope, pilot)


def can_record_inspection(scope, inspection) -> Result:
    return is_inspector(scope, inspection.pilot)


def can_respond_inspection(scope, inspection) -> Result:
    return is_pilot_unit(scope, inspection.pilot)


def can_close_inspection(scope, inspection) -> Result:
    return is_inspector(scope, inspection.pilot)


def can_assign_acceptance_expert(scope, submission) -> Result:
    return first_refusal(
        is_issuer_admin(scope, submission.pilot.programme),
        (submission.state != "submitted", _("验收材料提交后才能分配专家。")),
    )


def can_score_acceptance(scope, review) -> Result:
    return first_refusal(
        is_assigned_expert(scope, review),
        (not review.is_active, _("该评审任务已取消。")),
        (review.submitted_at is not None, _("评分已提交，不能再修改。")),
        (review.submission.state != "submitted", _("验收材料不在评审中。")),
    )


def can_decide_acceptance(scope, submission) -> Result:
    ok, reason = is_issuer_admin(scope, submission.pilot.programme)
    if not ok:
        return ok, reason
    if submission.state != "submitted" or submission.pilot.state != "acceptance":
        return False, _("试点不在验收中，不能评定等级。")
    stage = submission.pilot.spec.stage(submission.stage)
    done = sum(1 for r in submission.reviews.all() if r.is_active and r.submitted_at)
    if stage is not None and done < stage.min_scores:
        return False, _("至少 %(min_scores)s 位专家提交评分后才能评定（已提交 %(done)s 位）。") % {
            "min_scores": stage.min_scores,
            "done": done,
        }
    return OK


def can_manage_honours(scope, programme) -> Result:
    return is_issuer_admin(scope, programme)


def can_grant_award(scope, pilot) -> Result:
    return first_refusal(
        is_issuer_admin(scope, pilot.programme),
        (pilot.state != "accepted", _("只有通过验收的试点可以奖补。")),
    )


def can_record_honour_objection(scope, honour) -> Result:
    """The issuer records written objections to a title while it is on 公示."""
    return first_refusal(
        is_issuer_admin(scope, honour.pilot.programme),
        (honour.state != "announced", _("只有公示中的称号可以登记异议。")),
    )


def can_resolve_honour_objection(scope, objection) -> Result:
    return first_refusal(
        is_issuer_admin(scope, objection.honour.pilot.programme),
        (objection.state != "open", _("该异议已处理。")),
    )
