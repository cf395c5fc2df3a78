"""Adding units to the tree: divisions from the registry, functional zones, school groups.

Platform admins act anywhere; a province's or city's programme admin inside its own subtree
(``permissions.can_manage_units``). Every write is audited.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record

from . import permissions
from .importer import parse_code
from .models import Org, OrgKind
from .regions import AddResult, add_region, reporting_codes
from .scoping import Scope


class UnitError(ValueError):
    """A unit that cannot be added as asked; the message says why, in Chinese."""


@transaction.atomic
def add_divisions(*, codes: list[str], actor: Actor, scope: Scope | None = None) -> AddResult:
    """``add_region`` for a user: only divisions that land inside the scope's subtree."""
    allowed, reason = permissions.can_manage_units(scope)
    if not allowed:
        raise PermissionDenied(reason)
    if scope is not None and not scope.is_platform_admin:
        own = scope.org.code
        for code in codes:
            if own not in reporting_codes(code):
                raise PermissionDenied(_("行政区划 %(code)s 不在您的管辖范围内") % {"code": code})
    result = add_region(codes)
    if result.created:
        audit_record(
            actor=actor,
            action="orgs.add_region",
            object_type="orgs.region",
            object_id=",".join(codes)[:64],
            after={"codes": codes, "created": [o.code for o in result.created][:200]},
        )
    return result


def _new_org(code: str, name: str, kind: str, parent: Org, scope: Scope | None, **attrs) -> Org:
    allowed, reason = permissions.can_add_under(scope, parent)
    if not allowed:
        raise PermissionDenied(reason)
    try:
        code = parse_code(code)
    except ValueError as exc:
        raise UnitError(str(exc)) from exc
    name = (name or "").strip()
    if not name:
        raise UnitError(_("请填写名称"))
    if Org.objects.filter(code=code).exists():
        raise UnitError(_("代码 %(code)s 已被其他机构使用") % {"code": code})
    org = Org(code=code, name=name, kind=kind, parent=parent, **attrs)
    org.save()
    return org


@transaction.atomic
def create_zone(
    *, code: str, name: str, parent: Org, actor: Actor, scope: Scope | None = None
) -> Org:
    """A functional or development zone without a division code; it acts as a county under a
    city (as a city under a province)."""
    if parent.kind not in (OrgKind.PROVINCE, OrgKind.CITY):
        raise UnitError(_("功能区、开发区须设在省级机构或设区市之下"))
    org = _new_org(code, name, OrgKind.ZONE, parent, scope, division_code="")
    audit_record(actor=actor, action="org.create", obj=org, after=_snapshot(org))
    return org


@transaction.atomic
def create_group(
    *,
    code: str,
    name: str,
    parent: Org,
    campuses: list[str],
    actor: Actor,
    scope: Scope | None = None,
) -> Org:
    """A school group (教育集团) under the bureau that runs it, and its campuses."""
    if not parent.is_admin_org:
        raise UnitError(_("教育集团须设在教育行政部门（省、市、县或功能区）之下"))
    group = _new_org(code, name, OrgKind.GROUP, parent, scope, division_code=parent.division_code)
    audit_record(actor=actor, action="org.create", obj=group, after=_snapshot(group))
    set_campuses(group=group, campuses=campuses, actor=actor, scope=scope)
    return group


def _campus_problem(school: Org | None, code: str, group: Org, scope: Scope | None) -> str:
    if school is None:
        return _("学校代码 %(code)s 不存在") % {"code": code}
    if school.kind != OrgKind.SCHOOL:
        return _("%(school)s（%(code)s）不是学校") % {"school": school.name, "code": code}
    if scope is not None and not scope.contains_org(school):
        return _("%(school)s（%(code)s）不在您的管辖范围内") % {"school": school.name, "code": code}
    if school.group_id and school.group_id != group.pk:
        return _("%(school)s（%(code)s）已是另一个教育集团的校区") % {
            "school": school.name,
            "code": code,
        }
    return ""


@transaction.atomic
def set_campuses(
    *, group: Org, campuses: list[str], actor: Actor, scope: Scope | None = None
) -> list[Org]:
    """Make exactly ``campuses`` (school codes) the group's campuses. All or nothing."""
    group = Org.objects.select_for_update().get(pk=group.pk)
    if group.kind != OrgKind.GROUP:
        raise UnitError(_("%(group)s 不是教育集团") % {"group": group.name})
    allowed, reason = permissions.can_add_under(scope, group)
    if not allowed:
        raise PermissionDenied(reason)
    codes = list(dict.fromkeys(c.strip() for c in campuses if c.strip()))
    schools = {o.code: o for o in Org.objects.filter(code__in=codes)}
    problems = [p for c in codes if (p := _campus_problem(schools.get(c), c, group, scope))]
    if problems:
        raise UnitError("；".join(problems))
    before = sorted(group.campuses.values_list("code", flat=True))
    Org.objects.filter(group=group).exclude(code__in=codes).update(group=None)
    Org.objects.filter(code__in=codes).update(group=group)
    if before != sorted(codes):
        audit_record(
            actor=actor,
            action="org.group_campuses",
            obj=group,
            before={"campuses": before},
            after={"campuses": sorted(codes)},
        )
    return [schools[c] for c in codes]


def _snapshot(org: Org) -> dict:
    return {"code": org.code, "name": org.name, "kind": org.kind, "parent": org.parent.code}
