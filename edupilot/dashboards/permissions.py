"""Who may see a region's dashboard."""

from __future__ import annotations

from django.utils.translation import gettext as _

from edupilot.orgs.models import ADMIN_KINDS, Org
from edupilot.orgs.scoping import Scope


def can_view_dashboard(scope: Scope, org: Org | None = None) -> tuple[bool, str]:
    """A bureau's reviewers and programme admins (and the platform admin) see the dashboards
    of their own region and of the regions below it; schools, units and experts see none."""
    if not scope.is_authenticated:
        return False, _("请先登录。")
    if scope.is_expert:
        return False, _("评审专家没有统计看板。")
    if scope.is_applicant:
        return False, _("统计看板供教育行政部门使用；本单位的申报情况请在“我的申报”中查看。")
    if not (scope.is_reviewer or scope.is_platform_admin):
        return False, _("您没有查看统计看板的权限。")
    if not scope.is_platform_admin and scope.org_kind not in ADMIN_KINDS:
        return False, _("统计看板按行政区域汇总下级单位；本单位不是行政区域，没有下级统计。")
    if org is not None:
        if org.kind not in ADMIN_KINDS:
            return False, _("统计看板只汇总行政区域（省、市、县）的下级单位。")
        if not scope.contains_org(org):
            return False, _("该地区不在您的管辖范围内。")
    return True, ""
