"""Who may provision, reset and approve accounts: predicates returning (allowed, reason)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from edupilot.orgs.models import Org, Role, path_within
from edupilot.orgs.scoping import Scope

Decision = tuple[bool, str]


def can_provision(scope: Scope | None, org: Org) -> Decision:
    """Open accounts for the schools of ``org``'s subtree (``org`` itself may be the scope's)."""
    if scope is None or scope.is_platform_admin:
        return True, ""
    if not scope.is_reviewer:
        return False, _("只有教育部门的审核人、项目管理员或平台管理员可以开通账号。")
    if not path_within(org.path, scope.org_path):
        return False, _("该机构不在您的管辖范围内。")
    return True, ""


def can_reset_password(scope: Scope | None, user) -> Decision:
    """An upper org resets the password of a user that acts only below it.

    A user with any role outside the actor's subtree (or at the actor's own org) is not
    the actor's to reset: otherwise a county reviewer could take over a city's account.
    """
    if scope is None:
        return True, ""
    if user.is_superuser or user.is_staff:
        return False, _("系统管理员账号不能在此重置。")
    if scope.user_id == user.pk:
        return False, _("请通过“修改密码”修改自己的密码。")
    memberships = [m for m in user.memberships.all() if m.is_active]
    if scope.is_platform_admin:
        return True, ""
    if not scope.is_reviewer or not memberships:
        return False, _("您无权重置该账号的密码。")
    for m in memberships:
        if m.role == Role.PLATFORM_ADMIN:
            return False, _("您无权重置该账号的密码。")
        if not path_within(m.org.path, scope.org_path) or m.org_id == scope.org_id:
            return False, _("该账号在您管辖范围以外还有身份，只能由更上级的部门重置。")
    return True, ""


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
