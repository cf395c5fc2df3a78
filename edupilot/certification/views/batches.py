"""Pages of a batch: home, set-up, overview, school list, batch actions, titles, filing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from edupilot.audit.services import actor_from
from edupilot.core.action_views import object_action
from edupilot.core.actions import run_action, safe_back
from edupilot.core.errors import Denied, Refused
from edupilot.core.jobs import job_start
from edupilot.programmes.models import ParticipantList
from edupilot.programmes.services import ParticipantsImportInvalid

from .. import forms, permissions, selectors, services
from ..models import Decision, EntryState, Filing, Provisional
from ..workflows import ENTRY
from .common import batch_url, bureau_batch, form_submit, is_bureau

# --- home and batches ------------------------------------------------------------------------


@login_required
def home(request):
    scope = request.scope
    my_entries = list(selectors.entries_of_school(scope)) if scope.is_applicant else []
    visits = selectors.visits_for_user(scope) if scope.is_authenticated else []
    can_create = (
        scope.org_id is not None
        and scope.org_kind in permissions.BATCH_OWNER_KINDS
        and scope.is_programme_admin
    )
    return render(
        request,
        "certification/home.html",
        {
            "batches": selectors.batches_for(scope),
            "my_entries": my_entries,
            "visits": visits,
            "can_create": can_create,
        },
    )


@login_required
def batch_create(request):
    scope = request.scope
    if not scope.is_programme_admin:
        raise Denied(_("只有教育行政部门的项目管理员可以设立认定批次"))
    owner = scope.org
    form = forms.BatchForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        # The form's fields are the service's arguments.
        batch = form_submit(
            form,
            lambda: services.batch_create(
                owner=owner, **form.cleaned_data, scope=scope, actor=actor_from(request)
            ),
        )
        if batch is not None:
            messages.success(
                request,
                _("已设立认定批次“%(batch)s”，纳入 %(count)s 所学校")
                % {"batch": batch.name, "count": batch.entries.count()},
            )
            return redirect("certification:batch_detail", batch.pk)
    return render(request, "certification/batch_form.html", {"form": form, "owner": owner})


@login_required
def batch_detail(request, pk):
    scope = request.scope
    batch = selectors.access_batch(scope, pk)
    if scope.is_applicant:
        entry = selectors.entries_for(scope, batch).first()
        if entry is None:
            raise Http404
        return redirect("certification:entry_detail", entry.pk)
    return render(request, "certification/batch_detail.html", selectors.batch_page(scope, batch))


@login_required
def entry_list(request, pk):
    scope = request.scope
    batch = selectors.access_batch(scope, pk)
    if not is_bureau(request) and not scope.is_expert:
        raise Http404
    qs = selectors.filter_entries(selectors.entries_for(scope, batch), request.GET)
    if request.GET.get("mine"):
        qs = qs.filter(certifier_id=scope.org_id)
    qs = qs.order_by("certifier__path", "school__path")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    certifiers = selectors.certifiers_of(scope, batch)
    # The schools a bulk decision may include: the transition's own states and predicate.
    decide = ENTRY["decide"]
    decidable = set()
    for e in page:
        e.batch = batch  # the predicate reads the owner: no query per row
        if decide.leaves(e.state) and decide.check_permission(scope, e)[0]:
            decidable.add(e.pk)
    return render(
        request,
        "certification/entry_list.html",
        {
            "batch": batch,
            "page": page,
            "certifiers": certifiers,
            "states": EntryState.choices,
            "provisionals": Provisional.choices,
            "decisions": Decision.choices,
            "params": request.GET,
            "decidable": decidable,
        },
    )


BULK_MAX = 500


@login_required
@require_POST
def entries_decide(request, pk):
    """One conclusion for the schools ticked on the list, decided and audited one by one
    (``services.entries_decide_bulk``); each school's result is shown."""
    scope = request.scope
    batch = selectors.access_batch(scope, pk)
    if not is_bureau(request):
        raise Http404
    ids = list(dict.fromkeys(int(v) for v in request.POST.getlist("sel") if v.isdigit()))
    back = safe_back(request, reverse("certification:entry_list", args=[batch.pk]))
    if len(ids) > BULK_MAX:
        messages.error(request, _("一次最多选择 %(max)s 所学校") % {"max": BULK_MAX})
        return redirect(back)
    entries = list(selectors.entries_for(scope, batch).filter(pk__in=ids))
    if len(entries) != len(ids):
        raise Http404
    form = forms.DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择认定结论并填写认定意见"))
        return redirect(back)
    try:
        outcomes = services.entries_decide_bulk(
            entries=entries,
            decision=form.cleaned_data["decision"],
            opinion=form.cleaned_data["opinion"],
            scope=scope,
            actor=actor_from(request),
        )
    except Refused as exc:
        messages.error(request, exc.message)
        return redirect(back)
    done = [o.entry.school.name for o in outcomes if o.ok]
    if done:
        label = Decision(form.cleaned_data["decision"]).label
        messages.success(
            request,
            _("已对 %(count)s 所学校作出认定结论“%(label)s”：%(names)s")
            % {"count": len(done), "label": label, "names": "、".join(done)},
        )
    for o in outcomes:
        if not o.ok:
            messages.error(
                request,
                _("%(school)s未作出结论：%(message)s")
                % {"school": o.entry.school.name, "message": o.message},
            )
    return redirect(back)


batch_assess = object_action(
    selectors.access_batch,
    services.batch_assess_start,
    "batch",
    success=None,
    back=batch_url,
    done=lambda job: reverse("core:job_detail", args=[job.pk]),
)


@login_required
@require_POST
def batch_export(request, pk):
    batch = bureau_batch(request, pk)
    certifier = request.POST.get("certifier") or ""
    params = {"batch_id": batch.pk}
    if certifier.isdigit():
        params["certifier_id"] = int(certifier)
    job = job_start(
        "certification.results_xlsx", actor=actor_from(request), scope=request.scope, params=params
    )
    return redirect("core:job_detail", job.pk)


def _batch_action(service, success: str):
    return object_action(selectors.access_batch, service, "batch", success=success, back=batch_url)


batch_freeze = _batch_action(
    services.batch_freeze, gettext_lazy("本批次数据已冻结，此后的导入和更正不再改变本批次")
)
batch_publish = _batch_action(services.batch_publish, gettext_lazy("认定名单已公布"))
batch_sync = _batch_action(
    services.batch_sync_roster, gettext_lazy("认定名单已按机构库和称号名单更新")
)


@login_required
@require_POST
def batch_adopt(request, pk):
    scope = request.scope
    batch = selectors.access_batch(scope, pk)

    def adopt():
        standard = selectors.standard_chosen(request.POST.get("standard"))
        if standard is None:
            raise Refused(_("请选择认定标准"))
        services.batch_adopt_standard(
            batch=batch,
            certifier=scope.org,
            standard=standard,
            scope=scope,
            actor=actor_from(request),
        )
        return standard

    return run_action(
        request,
        adopt,
        success=lambda standard: (
            _("本单位学校将按“%(standard)s”认定，请重新评估") % {"standard": standard}
        ),
        back=batch_url(batch),
    )


@login_required
@require_POST
def titles_import(request, pk, list_pk):
    batch = selectors.access_batch(request.scope, pk)
    try:
        plist = batch.exempt_titles.get(pk=list_pk)
    except ParticipantList.DoesNotExist as exc:
        raise Http404 from exc

    def import_titles():
        upload = request.FILES.get("file")
        if upload is None:
            raise Refused(_("请选择称号名单文件（XLSX 或 CSV）"))
        try:
            return services.titles_import(
                plist=plist,
                content=upload.read(),
                filename=upload.name,
                replace=bool(request.POST.get("replace")),
                scope=request.scope,
                actor=actor_from(request),
            )
        except ParticipantsImportInvalid as exc:
            errors = [r.message for r in exc.report.rows if r.action == "error"]
            raise Refused(
                _("名单有错误，未导入：%(errors)s") % {"errors": "；".join(errors[:20])}
            ) from exc

    return run_action(
        request,
        import_titles,
        success=lambda report: (
            _("“%(plist)s”：%(summary)s") % {"plist": plist.title, "summary": report.summary()}
        ),
        back=batch_url(batch),
    )


# --- filing ---------------------------------------------------------------------------------------


@login_required
def filing(request, pk):
    scope = request.scope
    batch = bureau_batch(request, pk)
    org = scope.org
    back = reverse("certification:filing", args=[batch.pk])
    if request.method == "POST" and request.POST.get("action") == "return":
        return _filing_return(request, batch, back)
    if request.method == "POST":
        return run_action(
            request,
            lambda: services.filing_submit(
                batch=batch,
                org=org,
                note=request.POST.get("note", ""),
                scope=scope,
                actor=actor_from(request),
            ),
            success=lambda f: (
                _(
                    "已向%(owner)s报备：认定 %(certified)s 所，不予认定 %(not_certified)s 所，暂缓 %(deferred)s 所，自动认定 %(exempt)s 所"
                )
                % {
                    "owner": batch.owner.name,
                    "certified": f.certified,
                    "not_certified": f.not_certified,
                    "deferred": f.deferred,
                    "exempt": f.exempt,
                }
            ),
            back=back,
        )
    return render(request, "certification/filing.html", selectors.filing_page(scope, batch, org))


def _filing_return(request, batch, back: str):
    try:
        filing = batch.filings.get(pk=int(request.POST.get("filing", "")))
    except (ValueError, Filing.DoesNotExist):
        raise Http404 from None
    return run_action(
        request,
        lambda: services.filing_return(
            filing=filing,
            reason=request.POST.get("reason", ""),
            scope=request.scope,
            actor=actor_from(request),
        ),
        success=_("已退回%(org)s的报备，待其修改后重新报备") % {"org": filing.org.name},
        back=back,
    )
