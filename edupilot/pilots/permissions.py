"""Who may do what in the pilot period: ``can_<verb>_<thing>(scope, obj) -> (bool, reason)``.

The transition tables (``workflows.py``) name these; pages show a greyed-out button with the
reason when one says no, and services check them again under lock.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from edupilot.orgs.models import Role

from .models import PilotState, SubmissionState

OK = (True, "")
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


def can_edit_submission(scope, submission) -> tuple[bool, str]:
    pilot = submission.pilot
    if not is_unit(scope, pilot):
        return False, _("只有试点单位可以填写和提交。")
    if pilot.is_closed:
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
