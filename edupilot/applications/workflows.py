"""The application's lifecycle, as one transition table.

Every change of ``Application.state`` goes through :data:`APPLICATION` (``advance``), in the
service named on its row; ``tests/core/test_workflow_guard.py`` fails on a state assignment
anywhere else. ``docs/architecture.md`` shows the table as a diagram.
"""

from django.utils.translation import gettext_lazy as _

from edupilot.core.workflow import NEW, T, Workflow

from .models import AppState

DRAFT, SUBMITTED, RETURNED = AppState.DRAFT, AppState.SUBMITTED, AppState.RETURNED
WITHDRAWN, NOT_RECOMMENDED = AppState.WITHDRAWN, AppState.NOT_RECOMMENDED
RECOMMENDED, APPROVED, REJECTED, PILOT, FORWARDED = (
    AppState.RECOMMENDED,
    AppState.APPROVED,
    AppState.REJECTED,
    AppState.PILOT,
    AppState.FORWARDED,
)

_APP = "edupilot.applications.services"
_REVIEW = "edupilot.review.services"
_SELECTION = "edupilot.selection.announcements"
_SELECTION_CAN = "edupilot.selection.permissions"

APPLICANT = _("申报单位")
STEP_REVIEWER = _("当前步骤的审核单位")
ISSUER = _("发文单位")
SYSTEM = _("系统")

# fmt: off
ROWS = [
    #  name                       from                                  to                          service                                                   who / label
    T("start",                    NEW,                                  DRAFT,                      f"{_APP}.application_start",                              who=APPLICANT, label=_("发起申报")),
    T("edit",                     WITHDRAWN,                            DRAFT,                      f"{_APP}.application_save_draft",                         who=APPLICANT, label=_("修改")),
    T("submit",                   [DRAFT, RETURNED, WITHDRAWN],         SUBMITTED,                  f"{_APP}.application_submit",                             who=APPLICANT, label=_("提交")),
    T("withdraw",                 SUBMITTED,                            WITHDRAWN,                  f"{_APP}.application_withdraw",                           who=APPLICANT, label=_("撤回")),
    # A chain of one step: the issuer is the applicant's only reviewer.
    T("from_round",               NEW,                                  SUBMITTED,                  "edupilot.selection.cascade.cascade_recommend",           who=SYSTEM, label=_("下级评选确认后报送")),
    T("direct_to_issuer",         SUBMITTED,                            RECOMMENDED,                "edupilot.review.receivers.on_application_submitted",     who=SYSTEM, label=_("直接报送审定")),
    # To the next step; reaching the last (deciding) step, the application awaits approval.
    T("recommend",                SUBMITTED,                            [SUBMITTED, RECOMMENDED],   f"{_REVIEW}.review_recommend",                            who=STEP_REVIEWER, label=_("推荐")),
    T("panel_done",               SUBMITTED,                            [SUBMITTED, RECOMMENDED],   f"{_REVIEW}.review_panel_done",                           who=SYSTEM, label=_("专家评审完成")),
    T("return",                   [SUBMITTED, RECOMMENDED],             RETURNED,                   f"{_REVIEW}.review_return",                               who=STEP_REVIEWER, label=_("退回修改")),
    T("not_recommend",            SUBMITTED,                            NOT_RECOMMENDED,            f"{_REVIEW}.review_not_recommend",                        who=STEP_REVIEWER, label=_("不予推荐")),
    T("withdraw_recommendation",  [SUBMITTED, RECOMMENDED],             SUBMITTED,                  f"{_REVIEW}.review_withdraw_recommendation",              who=_("作出推荐的审核单位"), label=_("撤回推荐")),
    # The issuer's decisions take effect when the announcement is published. Their buttons
    # (the selection pages) record the decision, pending until then; the predicates say
    # whether the issuer may decide now.
    T("approve",                  RECOMMENDED,                          APPROVED,                   f"{_SELECTION}.announcement_publish",                     who=ISSUER, label=_("同意立项"), permission=f"{_SELECTION_CAN}.can_approve_application"),
    T("reject",                   RECOMMENDED,                          REJECTED,                   f"{_SELECTION}.announcement_publish",                     who=ISSUER, label=_("不予立项"), permission=f"{_SELECTION_CAN}.can_reject_application", style="danger"),
    T("objection_upheld",         APPROVED,                             REJECTED,                   f"{_SELECTION}.objection_resolve",                        who=ISSUER, label=_("异议成立")),
    T("become_pilot",             APPROVED,                             PILOT,                      f"{_SELECTION}.announcement_close",                       who=ISSUER, label=_("公示结束，确定立项")),
    # A round (``parent``): the confirmed unit is its issuer's recommendation to the parent.
    T("forward",                  APPROVED,                             FORWARDED,                  f"{_SELECTION}.announcement_close",                       who=ISSUER, label=_("公示结束，推荐报送上级项目")),
]
# fmt: on

APPLICATION = Workflow("application", "applications.Application", AppState, ROWS, title=_("申报"))
