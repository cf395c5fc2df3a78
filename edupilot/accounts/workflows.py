"""A lower org's request for a programme admin account (Henan's attachment 2), as a table."""

from django.utils.translation import gettext_lazy as _

from edupilot.core.workflow import NEW, T, Workflow

from .models import AdminRequestState

_SVC = "edupilot.accounts.services"
ISSUER = _("发文单位")

PENDING, APPROVED, REJECTED = (
    AdminRequestState.PENDING,
    AdminRequestState.APPROVED,
    AdminRequestState.REJECTED,
)

# fmt: off
ROWS = [
    T("submit",  NEW,     PENDING,  f"{_SVC}.admin_request_submit",  who=_("下级教育部门"), label=_("提交申请")),
    T("approve", PENDING, APPROVED, f"{_SVC}.admin_request_approve", who=ISSUER, label=_("开通")),
    T("reject",  PENDING, REJECTED, f"{_SVC}.admin_request_reject",  who=ISSUER, label=_("不予开通")),
]
# fmt: on

ADMIN_REQUEST = Workflow(
    "admin_request", "accounts.AdminAccountRequest", AdminRequestState, ROWS,
    title=_("项目管理员账号申请"),
)  # fmt: skip
