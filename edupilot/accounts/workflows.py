"""A lower org's request for a programme admin account (Henan's attachment 2), as a table."""

from django.utils.translation import gettext_lazy as _

from edupilot.core.workflow import NEW, T, Workflow

from .models import AdminRequestState

_SVC = "edupilot.accounts.services"
ISSUER = _("发文单位")

ADMIN_REQUEST = Workflow(
    "admin_request",
    "accounts.AdminAccountRequest",
    AdminRequestState,
    [
        T(
            "submit",
            NEW,
            AdminRequestState.PENDING,
            f"{_SVC}.admin_request_submit",
            who=_("下级教育部门"),
            label=_("提交申请"),
        ),  # fmt: skip
        T(
            "approve",
            AdminRequestState.PENDING,
            AdminRequestState.APPROVED,
            f"{_SVC}.admin_request_approve",
            who=ISSUER,
            label=_("开通"),
        ),  # fmt: skip
        T(
            "reject",
            AdminRequestState.PENDING,
            AdminRequestState.REJECTED,
            f"{_SVC}.admin_request_reject",
            who=ISSUER,
            label=_("不予开通"),
        ),  # fmt: skip
    ],
    title=_("项目管理员账号申请"),
)
