"""Programme pages for programme admins and platform admins: programmes, quotas, lists."""

from __future__ import annotations

import hashlib
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from edupilot.audit.services import actor_from

from . import presenters, selectors, services, tables
from .permissions import can_manage_programme, can_view_programmes


def admin_page(view):
    """Logged in, and a programme or platform admin; otherwise 403 with the reason."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        ok, reason = can_view_programmes(request.scope)
        if not ok:
            return render(request, "programmes/denied.html", {"reason": reason}, status=403)
        return view(request, *args, **kwargs)

    return wrapped


def denied(request, reason: str):
    return render(request, "programmes/denied.html", {"reason": reason}, status=403)


@admin_page
def programme_list(request):
    programmes = list(selectors.programmes_for(request.scope).select_related("issuer"))
    now = timezone.now()
    rows = [
        {
            "programme": p,
            "open": p.is_open(now),
            "categories": len(p.parsed.categories),
            "manage": can_manage_programme(request.scope, p)[0],
        }
        for p in programmes
    ]
    return render(request, "programmes/list.html", {"rows": rows, "now": now})


@admin_page
def programme_detail(request, code):
    programme = selectors.access_programme(request.scope, code)
    return render(
        request,
        "programmes/detail.html",
        {
            "programme": programme,
            "view": presenters.programme_view(programme),
            "manage": can_manage_programme(request.scope, programme)[0],
        },
    )


@admin_page
def quota_page(request, code):
    programme = selectors.access_programme(request.scope, code)
    category = request.GET.get("category") or None
    if category and programme.parsed.category(category) is None:
        category = None
    overview = selectors.quota_overview_for(request.scope, programme, category)
    return render(
        request,
        "programmes/quotas.html",
        {
            "programme": programme,
            "overview": overview,
            "category": category,
            "categories": programme.parsed.categories,
            "manage": can_manage_programme(request.scope, programme)[0],
            "level_label": presenters.TIER_LABEL,
        },
    )


class QuotaOverrideForm(forms.Form):
    value = forms.IntegerField(
        label=gettext_lazy("调整后的名额"),
        min_value=0,
        max_value=100000,
        required=False,
        help_text=gettext_lazy("留空表示取消调整，恢复按政策（名额表或公式）确定的名额。"),
    )
    reason = forms.CharField(
        label=gettext_lazy("调整理由"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("调整名额必须填写理由。")},
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("调整名额必须填写理由。"))
        return reason


@admin_page
@require_http_methods(["GET", "POST"])
def quota_override(request, code, pk):
    programme = selectors.access_programme(request.scope, code)
    ok, reason = can_manage_programme(request.scope, programme)
    if not ok:
        return denied(request, reason)
    allocation = selectors.access_allocation(request.scope, programme, pk)
    initial = {"value": allocation.override}
    form = QuotaOverrideForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.quota_override(
                allocation=allocation,
                value=form.cleaned_data["value"],
                reason=form.cleaned_data["reason"],
                actor=actor_from(request),
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("已调整 %(holder)s 的名额。") % {"holder": allocation.holder.name},
            )
            return redirect(f"{programme_url(programme, 'quotas')}?category={allocation.category}")
    return render(
        request,
        "programmes/quota_override.html",
        {
            "programme": programme,
            "allocation": allocation,
            "form": form,
            "level_label": presenters.TIER_LABEL,
        },
        status=400 if request.method == "POST" else 200,
    )


def programme_url(programme, page: str) -> str:
    from django.urls import reverse

    return reverse(f"programmes:{page}", args=[programme.code])


@admin_page
def list_index(request):
    lists = list(selectors.lists_for(request.scope))
    counts = {
        pk: n
        for pk, n in selectors.scoped_entry_counts(request.scope, [pl.pk for pl in lists]).items()
    }
    return render(
        request,
        "programmes/lists.html",
        {"lists": [(pl, counts.get(pl.pk, 0)) for pl in lists]},
    )


class ListImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("名单文件（CSV 或 XLSX）"),
        help_text=gettext_lazy("列：机构代码或机构名称、状态、备注；第一行为表头。"),
    )
    replace = forms.BooleanField(
        label=gettext_lazy("以文件为准：移除文件中没有的单位"), required=False
    )
    dry_run = forms.BooleanField(label=gettext_lazy("只检查，不导入"), required=False)


@admin_page
def list_detail(request, code):
    plist = selectors.access_list(request.scope, code)
    manage, _reason = selectors.can_manage_list(request.scope, plist)
    return render(
        request,
        "programmes/list_detail.html",
        {
            "plist": plist,
            "entries": list(selectors.list_entries_for(request.scope, plist)),
            "programmes": [
                p
                for p in selectors.programmes_using_list(plist)
                if selectors.programmes_for(request.scope).filter(pk=p.pk).exists()
            ],
            "manage": manage,
            "form": ListImportForm() if manage else None,
        },
    )


@admin_page
@require_POST
def list_import(request, code):
    plist = selectors.access_list(request.scope, code)
    ok, reason = selectors.can_manage_list(request.scope, plist)
    if not ok:
        return denied(request, reason)
    form = ListImportForm(request.POST, request.FILES)
    report = None
    error = ""
    if form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            rows = tables.read_list_rows(data, upload.name)
            report = services.participants_import(
                plist=plist,
                rows=rows,
                actor=actor_from(request),
                replace=form.cleaned_data["replace"],
                dry_run=form.cleaned_data["dry_run"],
                source_name=upload.name,
                source_sha256=hashlib.sha256(data).hexdigest(),
            )
        except tables.TableInvalid as exc:
            error = str(exc)
        except services.ParticipantsImportInvalid as exc:
            report = exc.report
            error = _("文件有错误，未导入任何数据。请修改后重新上传。")
    status = 200 if report is not None and not error else 400
    if report is not None and not error and not report.dry_run:
        messages.success(request, _("名单已导入：%(summary)s") % {"summary": report.summary()})
    return render(
        request,
        "programmes/list_import_result.html",
        {"plist": plist, "form": form, "report": report, "error": error},
        status=status,
    )
