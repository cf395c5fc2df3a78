"""Who may do what to an org: named predicates returning (allowed, reason).

The reason is what the page shows. ``scope=None`` means the command line (a system actor),
which may do everything.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import ADMIN_KINDS, Org, OrgKind, Role, Tier, path_within
from .scoping import Scope

# The attributes eligibility rules, quotas and review chains are computed from belong to the
# bureau: a school could otherwise make itself eligible (Quanzhou's >= 30/50 Mbps) by typing.
BUREAU_FIELDS = (
    "name",
    "stages",
    "ownership",
    "locality",
    "bandwidth_mbps",
    "teacher_count",
    "student_count",
    "computer_count",
    "division_code",
    "is_active",
)
# What a school keeps itself: how to reach it.
CONTACT_FIELDS = (
    "address",
    "postcode",
    "website",
    "contact_name",
    "contact_phone",
    "contact_email",
)
EDITABLE_FIELDS = BUREAU_FIELDS + CONTACT_FIELDS

Decision = tuple[bool, str]


def is_below(scope: Scope, org: Org) -> bool:
    """Strictly inside the scope's subtree: an upper org acts on its lower orgs, not on itself."""
    return path_within(org.path, scope.org_path) and org.pk != scope.org_id


def can_import(scope: Scope | None) -> Decision:
    if scope is None or scope.is_platform_admin or scope.is_reviewer:
        return True, ""
    return False, _("只有教育部门的审核人、项目管理员或平台管理员可以导入学校名单。")


def import_root_path(scope: Scope | None) -> str | None:
    """The subtree an import may write in; None = anywhere."""
    if scope is None or scope.is_platform_admin:
        return None
    return scope.org_path


def editable_fields(scope: Scope | None, org: Org) -> tuple[str, ...]:
    if scope is None or scope.is_platform_admin:
        return EDITABLE_FIELDS
    if org.kind in ADMIN_KINDS:
        # The administrative tree is the division registry's; only platform admins touch it.
        return ()
    if scope.is_reviewer and is_below(scope, org):
        return EDITABLE_FIELDS
    if scope.is_applicant and scope.org_id == org.pk:
        return CONTACT_FIELDS
    return ()


def can_edit(scope: Scope | None, org: Org) -> Decision:
    if editable_fields(scope, org):
        return True, ""
    if org.kind in ADMIN_KINDS:
        return False, _("省、市、县级机构的信息由平台管理员维护。")
    return False, _("您无权修改该机构的信息。")


def can_move(scope: Scope | None, org: Org, new_parent: Org) -> Decision:
    if org.kind == OrgKind.PROVINCE:
        return False, _("省级机构没有上级，不能移动。")
    if new_parent.is_within(org):
        return False, _("不能把机构移到它自己或它的下级机构之下。")
    if new_parent.kind == OrgKind.SCHOOL:
        return False, _("上级机构不能是学校。")
    if new_parent.kind == OrgKind.GROUP:
        return False, _("教育集团不是上级机构：校区留在所在地，在机构页设置所属集团。")
    if org.kind == OrgKind.CITY and new_parent.kind != OrgKind.PROVINCE:
        return False, _("设区市的上级只能是省级机构。")
    if org.kind in (OrgKind.COUNTY, OrgKind.ZONE) and new_parent.kind not in (
        OrgKind.PROVINCE,
        OrgKind.CITY,
    ):
        return False, _("县级机构和功能区的上级只能是省级机构或设区市。")
    if scope is None or scope.is_platform_admin:
        return True, ""
    if org.kind in ADMIN_KINDS:
        return False, _("调整行政区划隶属关系须由平台管理员操作。")
    if not scope.is_reviewer:
        return False, _("您无权调整机构的隶属关系。")
    if not is_below(scope, org):
        return False, _("该机构不在您的管辖范围内。")
    if not path_within(new_parent.path, scope.org_path):
        return False, _("新的上级机构不在您的管辖范围内。")
    return True, ""


# --- accounts of an org's members (used by accounts and by the org page) ---------------------


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
        if any(m.role == Role.PLATFORM_ADMIN for m in memberships):
            return False, _("不能重置同级或上级账号的密码。")
        return True, ""
    if not scope.is_reviewer or not memberships:
        return False, _("您无权重置该账号的密码。")
    for m in memberships:
        if m.role == Role.PLATFORM_ADMIN:
            return False, _("您无权重置该账号的密码。")
        if not path_within(m.org.path, scope.org_path) or m.org_id == scope.org_id:
            return False, _("该账号在您管辖范围以外还有身份，只能由更上级的部门重置。")
        # Below in the tree is not enough: a zone under a county acts at county level too.
        if TIER_RANK.get(m.org.tier, 99) <= TIER_RANK.get(scope.org_tier, -1):
            return False, _("不能重置同级或上级账号的密码。")
    return True, ""


# Higher levels first: an account may be reset only from a strictly higher level.
TIER_RANK = {Tier.PROVINCE: 0, Tier.CITY: 1, Tier.COUNTY: 2, Tier.UNIT: 3}


# --- adding units: divisions, zones, school groups (units.py) --------------------------------


def can_manage_units(scope: Scope | None) -> Decision:
    """Platform admins anywhere; a province's or city's programme admin in its own subtree."""
    if scope is None or scope.is_platform_admin:
        return True, ""
    if scope.is_programme_admin and scope.org_kind in (OrgKind.PROVINCE, OrgKind.CITY):
        return True, ""
    return False, _("只有平台管理员和省、市两级的项目管理员可以添加行政区划、功能区和教育集团。")


def can_add_under(scope: Scope | None, parent: Org) -> Decision:
    allowed, reason = can_manage_units(scope)
    if not allowed:
        return allowed, reason
    outside = scope is not None and not scope.is_platform_admin
    if outside and not path_within(parent.path, scope.org_path):
        return False, _("上级机构不在您的管辖范围内。")
    return True, ""
