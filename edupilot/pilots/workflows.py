"""The pilot period's lifecycles, as transition tables.

A pilot (:data:`PILOT`) is made when the final list is published and closes with its
acceptance grade. What the unit hands in at a stage — plan, report, acceptance materials, a
case — is a :class:`~.models.Submission` (:data:`SUBMISSION`); inspections (:data:`INSPECTION`)
and titles (:data:`HONOUR`) have their own. ``permission`` predicates live in
``permissions.py`` and give the pages' buttons with their reasons.
"""

from django.utils.translation import gettext_lazy as _

from edupilot.core.workflow import NEW, T, Workflow

from .models import (
    HonourObjectionState,
    HonourState,
    InspectionState,
    PilotState,
    SubmissionState,
)

_SVC = "edupilot.pilots.services"
_INS = "edupilot.pilots.inspections"
_ACC = "edupilot.pilots.acceptance"
_HON = "edupilot.pilots.honours"
_CAN = "edupilot.pilots.permissions"
UNIT = _("试点单位")
SUPERVISOR = _("督导单位或发文单位")
ISSUER = _("发文单位")
SYSTEM = _("系统")

ACTIVE, ACCEPTANCE = PilotState.ACTIVE, PilotState.ACCEPTANCE
RECTIFYING, ACCEPTED, FAILED = PilotState.RECTIFYING, PilotState.ACCEPTED, PilotState.FAILED
DRAFT, SUBMITTED = SubmissionState.DRAFT, SubmissionState.SUBMITTED
RETURNED, DONE = SubmissionState.RETURNED, SubmissionState.ACCEPTED
SCHEDULED, FIXING = InspectionState.SCHEDULED, InspectionState.RECTIFYING
ANSWERED, CLOSED = InspectionState.ANSWERED, InspectionState.CLOSED
PROPOSED, ANNOUNCED = HonourState.PROPOSED, HonourState.ANNOUNCED
FINAL, WITHDRAWN = HonourState.FINAL, HonourState.WITHDRAWN

# fmt: off
PILOT_ROWS = [
    T("create",           NEW,                   ACTIVE,                        "edupilot.pilots.creation.pilots_create",      who=SYSTEM, label=_("列入试点")),
    T("open_acceptance",  [ACTIVE, RECTIFYING],  ACCEPTANCE,                    f"{_SVC}.submission_submit",  who=UNIT, label=_("提交验收材料")),
    T("reopen",           ACCEPTANCE,            [ACTIVE, RECTIFYING],          f"{_SVC}.submission_return",  who=SUPERVISOR, label=_("退回验收材料")),
    T("decide",           ACCEPTANCE,            [ACCEPTED, RECTIFYING, FAILED], f"{_ACC}.acceptance_decide", who=ISSUER, label=_("评定验收等级")),
]
SUBMISSION_ROWS = [
    T("start",            NEW,                   DRAFT,                         f"{_SVC}.submission_save",    who=UNIT, label=_("填写")),
    T("submit",           [DRAFT, RETURNED],     SUBMITTED,                     f"{_SVC}.submission_submit",  who=UNIT, label=_("提交"), permission=f"{_CAN}.can_submit_submission", url="pilots:submission_submit"),
    T("accept",           SUBMITTED,             DONE,                          f"{_SVC}.submission_accept",  who=SUPERVISOR, label=_("审核通过"), permission=f"{_CAN}.can_accept_submission", url="pilots:submission_accept"),
    T("return",           SUBMITTED,             RETURNED,                      f"{_SVC}.submission_return",  who=SUPERVISOR, label=_("退回修改"), permission=f"{_CAN}.can_return_submission", url="pilots:submission_return", style="secondary"),
    T("graded",           SUBMITTED,             [DONE, RETURNED],              f"{_ACC}.acceptance_decide",  who=ISSUER, label=_("评定验收等级")),
]
INSPECTION_ROWS = [
    T("schedule",         NEW,                   SCHEDULED,                     f"{_INS}.inspection_schedule", who=SUPERVISOR, label=_("安排检查"), permission=f"{_CAN}.can_schedule_inspection", url="pilots:inspection_schedule"),
    T("record",           SCHEDULED,             [FIXING, CLOSED],              f"{_INS}.inspection_record",   who=SUPERVISOR, label=_("填写检查意见"), permission=f"{_CAN}.can_record_inspection", url="pilots:inspection_record"),
    T("respond",          FIXING,                ANSWERED,                      f"{_INS}.inspection_respond",  who=UNIT, label=_("提交整改情况"), permission=f"{_CAN}.can_respond_inspection", url="pilots:inspection_respond"),
    T("close",            ANSWERED,              CLOSED,                        f"{_INS}.inspection_close",    who=SUPERVISOR, label=_("整改验收，结束检查"), permission=f"{_CAN}.can_close_inspection", url="pilots:inspection_close"),
    T("demand_again",     ANSWERED,              FIXING,                        f"{_INS}.inspection_close",    who=SUPERVISOR, label=_("整改不到位，继续整改"), style="secondary"),
]
HONOUR_ROWS = [
    T("propose",          NEW,                   PROPOSED,                      f"{_HON}.honour_propose",      who=ISSUER, label=_("拟认定")),
    T("announce",         PROPOSED,              ANNOUNCED,                     f"{_HON}.honours_announce",    who=ISSUER, label=_("发布公示")),
    T("finalize",         ANNOUNCED,             FINAL,                         f"{_HON}.honours_finalize",    who=_("发文单位（或公示期满自动）"), label=_("公布认定名单")),
    T("withdraw",         [PROPOSED, ANNOUNCED], WITHDRAWN,                     f"{_HON}.honour_withdraw",     who=ISSUER, label=_("撤销（异议成立）"), style="secondary"),
]
OBJ_OPEN, OBJ_UPHELD = HonourObjectionState.OPEN, HonourObjectionState.UPHELD
OBJ_DISMISSED = HonourObjectionState.DISMISSED
_OBJ = "edupilot.pilots.honour_objections"
HONOUR_OBJECTION_ROWS = [
    T("record",           NEW,                   OBJ_OPEN,                      f"{_OBJ}.honour_objection_record",  who=ISSUER, label=_("登记异议"), permission=f"{_CAN}.can_record_honour_objection"),
    T("resolve",          OBJ_OPEN,              [OBJ_UPHELD, OBJ_DISMISSED],   f"{_OBJ}.honour_objection_resolve", who=ISSUER, label=_("处理异议"), permission=f"{_CAN}.can_resolve_honour_objection"),
]
# fmt: on

PILOT = Workflow("pilot", "pilots.Pilot", PilotState, PILOT_ROWS, title=_("试点"))
SUBMISSION = Workflow(
    "pilot_submission", "pilots.Submission", SubmissionState, SUBMISSION_ROWS, title=_("试点材料")
)
INSPECTION = Workflow(
    "inspection", "pilots.Inspection", InspectionState, INSPECTION_ROWS, title=_("检查")
)
HONOUR = Workflow("honour", "pilots.Honour", HonourState, HONOUR_ROWS, title=_("称号认定"))
HONOUR_OBJECTION = Workflow(
    "honour_objection",
    "pilots.HonourObjection",
    HonourObjectionState,
    HONOUR_OBJECTION_ROWS,
    title=_("称号公示异议"),
)
