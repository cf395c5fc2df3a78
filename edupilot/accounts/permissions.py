"""Who may request and approve admin accounts: predicates returning (allowed, reason).

Who may provision accounts for an org and reset its members' passwords is decided over the
org tree, in orgs.permissions (the org page shows those buttons too)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from edupilot.orgs.models import Org
from edupilot.orgs.scoping import Scope

Decision = tuple[bool, str]


def can_request_admin_account(scope: Scope | None, org: Org) -> Decision:
    """File attachment 2 for ``org``: its own bureau, or a platform admin on its behalf."""
    if scope is None or scope.is_platform_admin:
        return True, ""
    if scope.is_reviewer and scope.org_id == org.pk:
        return True, ""
    return False, _("只能为本单位申请项目管理员账号。")


def can_decide_admin_request(scope: Scope | None, request) -> Decision:
    """The issuer's programme admin, or a platform admin, approves or rejects."""
    if scope is None or scope.is_platform_admin:
        return True, ""
    if scope.is_programme_admin and scope.org_id == request.programme.issuer_id:
        return True, ""
    return False, _("只有发文单位的项目管理员或平台管理员可以审批管理员账号申请。")
