"""Org pages: browse the tree, a unit's page, edits, moves, roster imports. All scoped."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from edupilot.audit.services import actor_from

from . import permissions, selectors, services
from . import units as unit_services
from .forms import (
    DivisionForm,
    GroupForm,
    ImportForm,
    MoveForm,
    OrgAttributesForm,
    OrgFilterForm,
    ZoneForm,
)
from .importer import roster_template
from .models import Org, OrgKind, Role
from .regions import DivisionError
from .scoping import scoped

BUREAU_ROLES = (Role.REVIEWER, Role.PROGRAMME_ADMIN, Role.PLATFORM_ADMIN)


def _require_bureau(request):
    if request.scope.role not in BUREAU_ROLES:
        raise PermissionDenied(_("只有教育部门的账号可以浏览机构。"))


@login_required
def browse(request):
    """The tree (children of ``under`` with school counts) beside a paged, filtered list."""
    scope = request.scope
    if scope.is_applicant:
        return redirect("orgs:mine")
    _require_bureau(request)
    form = OrgFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    under_code = request.GET.get("under", "")
    root = selectors.scope_root(scope)
    under = selectors.access_org(scope, under_code) if under_code else root
    children, direct = selectors.children_with_counts(under, scope)
    crumbs = selectors.visible_ancestors(scope, under) if under is not None else []
    qs = None
    if under is not None or filters.get("q"):
        qs = selectors.org_search(
            scope,
            under=under,
            q=filters.get("q", ""),
            kind=filters.get("kind", ""),
            stage=filters.get("stage", ""),
        )
    page = selectors.org_page(qs, request.GET.get("page")) if qs is not None else None
    return render(
        request,
        "orgs/browse.html",
        {
            "form": form,
            "under": under,
            "root": root,
            "crumbs": crumbs,
            "children": children,
            "direct": direct,
            "page": page,
            "can_manage_units": permissions.can_manage_units(scope)[0],
        },
    )


@login_required
def mine(request):
    if request.scope.org_id is None:
        raise Http404
    return redirect("orgs:detail", code=request.scope.org.code)


@login_required
def detail(request, code):
    scope = request.scope
    org = selectors.access_org(scope, code)
    children, direct = ([], 0)
    if org.is_admin_org:
        children, direct = selectors.children_with_counts(org, scope)
    members = list(selectors.members_of(org)) if not scope.is_applicant else []
    return render(
        request,
        "orgs/detail.html",
        {
            "org": org,
            "crumbs": selectors.visible_ancestors(scope, org),
            "children": children,
            "direct": direct,
            "members": [(m, permissions.can_reset_password(scope, m.user)[0]) for m in members],
            "can_edit": permissions.can_edit(scope, org)[0],
            "can_provision": permissions.can_provision(scope, org)[0],
            "can_move": scope.is_platform_admin
            or (scope.is_reviewer and permissions.is_below(scope, org) and not org.is_admin_org),
            "move_form": MoveForm(),
            "campuses": (
                list(scoped(org.campuses.all(), scope).order_by("path"))
                if org.kind == OrgKind.GROUP
                else []
            ),
        },
    )


@login_required
def edit(request, code):
    scope = request.scope
    org = selectors.access_org(scope, code)
    allowed = permissions.editable_fields(scope, org)
    if not allowed:
        raise PermissionDenied(permissions.can_edit(scope, org)[1])
    form = OrgAttributesForm(request.POST or None, instance=org, allowed=allowed)
    if request.method == "POST" and form.is_valid():
        loaded = form.cleaned_data.get("loaded_at") or ""
        try:
            loaded_at = dt.datetime.fromisoformat(loaded) if loaded else None
        except ValueError:
            loaded_at = None
        try:
            services.org_update(
                org=org,
                changes=form.changes(),
                actor=actor_from(request),
                scope=scope,
                loaded_at=loaded_at,
            )
        except services.OrgChangedError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已保存。"))
            return redirect("orgs:detail", code=org.code)
    return render(request, "orgs/edit.html", {"org": org, "form": form, "allowed": allowed})


@require_POST
@login_required
def move(request, code):
    scope = request.scope
    org = selectors.access_org(scope, code)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写新的上级机构代码。"))
        return redirect("orgs:detail", code=org.code)
    target = scoped(Org.objects.all(), scope).filter(code=form.cleaned_data["parent"]).first()
    if target is None:
        messages.error(
            request,
            _("上级机构代码 %(code)s 不存在或不在您的管辖范围内。")
            % {"code": form.cleaned_data["parent"]},
        )
        return redirect("orgs:detail", code=org.code)
    try:
        n = services.org_move(org=org, new_parent=target, actor=actor_from(request), scope=scope)
    except services.OrgMoveError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("已移到 %(name)s 之下（%(n)s 个机构）。") % {"name": target.name, "n": n},
        )
    return redirect("orgs:detail", code=org.code)


@login_required
def import_roster(request):
    scope = request.scope
    allowed, reason = permissions.can_import(scope)
    if not allowed:
        raise PermissionDenied(reason)
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        dry_run = request.POST.get("action") != "import"
        try:
            report = services.orgs_import(
                data=upload.read(),
                filename=upload.name,
                actor=actor_from(request),
                scope=scope,
                dry_run=dry_run,
                strict=form.cleaned_data["strict"],
            )
        except services.ImportFileError as exc:
            form.add_error("file", str(exc))
    root = selectors.scope_root(scope)
    return render(
        request,
        "orgs/import.html",
        {
            "form": form,
            "report": report,
            "root": root,
            "changes": (report.changes[:200] if report else []),
        },
    )


@login_required
def import_template(request):
    allowed, reason = permissions.can_import(request.scope)
    if not allowed:
        raise PermissionDenied(reason)
    data = roster_template()
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = "attachment; filename=roster-template.xlsx"
    return response


UNIT_FORMS = {"division": DivisionForm, "zone": ZoneForm, "group": GroupForm}


def _unit_parent(scope, form) -> Org | None:
    parent = scoped(Org.objects.all(), scope).filter(code=form.cleaned_data["parent"]).first()
    if parent is None:
        form.add_error("parent", _("机构代码不存在或不在您的管辖范围内。"))
    return parent


def _add_unit(request, kind: str, form) -> str | None:
    """Act on one valid form; the success message, or None (errors are on the form)."""
    scope, actor = request.scope, actor_from(request)
    data = form.cleaned_data
    if kind == "division":
        result = unit_services.add_divisions(codes=data["codes"], actor=actor, scope=scope)
        names = "、".join(o.name for o in result.orgs)
        return _("已添加%(names)s：新增 %(n)s 个机构，已存在 %(m)s 个。") % {
            "names": names,
            "n": len(result.created),
            "m": result.existing,
        }
    parent = _unit_parent(scope, form)
    if parent is None:
        return None
    if kind == "zone":
        org = unit_services.create_zone(
            code=data["code"], name=data["name"], parent=parent, actor=actor, scope=scope
        )
        return _("已添加功能区 %(name)s。") % {"name": org.name}
    group = (
        scoped(Org.objects.filter(kind=OrgKind.GROUP), scope)
        .filter(code=data["code"].strip())
        .first()
    )
    if group is not None:
        unit_services.set_campuses(group=group, campuses=data["campuses"], actor=actor, scope=scope)
        return _("已更新教育集团 %(name)s 的校区。") % {"name": group.name}
    group = unit_services.create_group(
        code=data["code"],
        name=data["name"],
        parent=parent,
        campuses=data["campuses"],
        actor=actor,
        scope=scope,
    )
    return _("已添加教育集团 %(name)s。") % {"name": group.name}


@login_required
def units(request):
    """Add divisions from the registry, functional zones and school groups (own subtree)."""
    allowed, reason = permissions.can_manage_units(request.scope)
    if not allowed:
        raise PermissionDenied(reason)
    kind = request.POST.get("form") if request.method == "POST" else None
    forms = {k: cls(request.POST if k == kind else None, prefix=k) for k, cls in UNIT_FORMS.items()}
    if kind in forms and forms[kind].is_valid():
        form = forms[kind]
        try:
            done = _add_unit(request, kind, form)
        except (DivisionError, unit_services.UnitError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
            done = None
        if done:
            messages.success(request, done)
            return redirect("orgs:units")
    root = selectors.scope_root(request.scope)
    return render(request, "orgs/units.html", {"forms": forms, "root": root, "active": kind})


def detail_url(org: Org) -> str:
    return reverse("orgs:detail", args=[org.code])
