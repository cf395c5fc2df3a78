"""Who may do what with programmes, quotas and participant lists: (allowed, reason) pairs.

The reason is what a page shows when the answer is no.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from edupilot.orgs.models import Role
from edupilot.orgs.scoping import Scope

from .models import Programme

ADMIN_ROLES = (Role.PROGRAMME_ADMIN, Role.PLATFORM_ADMIN)


def can_view_programmes(scope: Scope) -> tuple[bool, str]:
    if not scope.is_authenticated:
        return False, _("请先登录。")
    if scope.role not in ADMIN_ROLES:
        return False, _("只有项目管理员和平台管理员可以查看项目管理页面。")
    return True, ""


def can_manage_programme(scope: Scope, programme: Programme) -> tuple[bool, str]:
    """Override quotas and import lists: the issuer's programme admins and platform admins.

    A city that holds a quota sees it but may not change it: places are set by the issuer.
    """
    if scope.is_platform_admin:
        return True, ""
    if scope.role == Role.PROGRAMME_ADMIN and scope.org_id == programme.issuer_id:
        return True, ""
    return False, _("只有发文单位（%(issuer)s）的项目管理员可以调整名额和导入名单。") % {
        "issuer": programme.issuer.name
    }
