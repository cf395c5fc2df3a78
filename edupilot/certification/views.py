"""Pages for certification. Thin: fetch through selectors (scoped), act through services.

An object outside the user's scope is a 404; an action the user may not take on an object
it can see (a city reviewer deciding a district's school) is a 403 naming who may.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from edupilot.accounts.services import actor_from
from edupilot.core.jobs import job_start
from edupilot.documents.pdf import pdf_response, render_pdf
from edupilot.orgs.models import Membership, Org, OrgKind, Role
from edupilot.programmes.models import ParticipantList
from edupilot.programmes.services import ParticipantsImportInvalid

from . import files, forms, importers, permissions, selectors, services
from .exports import SchoolReportExport
from .models import (
    Batch,
    BatchState,
    Decision,
    EntryState,
    Evidence,
    Filing,
    ImportState,
    Indicator,
    Provisional,
    Standard,
    VisitState,
)
from .standards import StandardFileInvalid, parse_bytes, resolve


def refused(request, reason: str, status: int = 403):
    return render(request, "certification/refused.html", {"reason": reason}, status=status)


def _bureau(request) -> bool:
    return request.scope.is_reviewer or request.scope.is_platform_admin


# --- home and batches ------------------------------------------------------------------------


@login_required
def home(request):
    scope = request.scope
    batches = selectors.batches_for(scope)
    my_entries = []
    if scope.is_applicant:
        my_entries = list(selectors.entries_of_school(scope))
    visits = selectors.visits_for_user(scope) if scope.is_authenticated else []
    can_create = scope.is_programme_admin and scope.org_kind in (
        OrgKind.PROVINCE,
        OrgKind.CITY,
        OrgKind.COUNTY,
    )
    return render(
        request,
        "certification/home.html",
        {"batches": batches, "my_entries": my_entries, "visits": visits, "can_create": can_create},
    )


@login_required
def batch_create(request):
    scope = request.scope
    if not scope.is_programme_admin:
        return refused(request, "只有教育行政部门的项目管理员可以设立认定批次")
    owner = Org.objects.get(pk=scope.org_id)
    form = forms.BatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            batch = services.batch_create(
                owner=owner,
                code=d["code"],
                name=d["name"],
                certification_date=d["certification_date"],
                cutoff=d["cutoff"],
                standard=d["standard"],
                additional=d["additional"],
                exempt_titles=d["exempt_titles"],
                stages=d["stages"],
                programme=d["programme"],
                actor=actor_from(request),
            )
        except services.Refused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"已设立认定批次“{batch.name}”，纳入 {batch.entries.count()} 所学校"
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
    overview = selectors.batch_overview(scope, batch)
    actor = actor_from(request)
    is_owner_admin = permissions.can_run_batch(actor, batch)[0]
    my_org = Org.objects.filter(pk=scope.org_id).first()
    is_district = bool(
        my_org
        and my_org.pk != batch.owner_id
        and my_org.kind in (OrgKind.COUNTY, OrgKind.ZONE)
        and my_org.path.startswith(batch.owner.path)
    )
    district_standard = None
    derived = []
    if is_district:
        district_standard = (
            batch.district_standards.filter(certifier=my_org).select_related("standard").first()
        )
        derived = [
            s for s in Standard.objects.exclude(pk=batch.standard_id) if batch.standard in s.chain()
        ]
    my_row = next((r for r in overview["districts"] if r.org.pk == scope.org_id), None)
    return render(
        request,
        "certification/batch_detail.html",
        {
            "batch": batch,
            "overview": overview,
            "is_owner_admin": is_owner_admin,
            "is_district": is_district,
            "can_adopt": is_district and scope.is_programme_admin,
            "is_certifier": my_row is not None,
            "my_row": my_row,
            "district_standard": district_standard,
            "derived": derived,
            "titles": selectors.title_lists(batch),
            "additional": batch.additional_standards.all(),
            "can_import": permissions.can_import(actor, batch)[0],
            "queue_count": selectors.queue_for(scope, batch).count() if my_row else 0,
        },
    )


@login_required
def entry_list(request, pk):
    scope = request.scope
    batch = selectors.access_batch(scope, pk)
    if not _bureau(request) and not scope.is_expert:
        raise Http404
    qs = selectors.filter_entries(selectors.entries_for(scope, batch), request.GET)
    if request.GET.get("mine"):
        qs = qs.filter(certifier_id=scope.org_id)
    qs = qs.order_by("certifier__path", "school__path")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    certifiers = Org.objects.filter(
        pk__in=selectors.entries_for(scope, batch).values("certifier_id")
    ).order_by("path")
    query = request.GET.copy()
    query.pop("page", None)
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
            "query": query.urlencode(),
            "params": request.GET,
        },
    )


@login_required
@require_POST
def batch_assess(request, pk):
    batch = selectors.access_batch(request.scope, pk)
    ok, reason = permissions.can_import(actor_from(request), batch)
    if not ok:
        return refused(request, reason)
    job = job_start(
        "certification.assess",
        actor=actor_from(request),
        scope=request.scope,
        params={"batch_id": batch.pk},
    )
    return redirect("core:job_detail", job.pk)


@login_required
@require_POST
def batch_export(request, pk):
    scope = request.scope
    batch = selectors.access_batch(scope, pk)
    if not _bureau(request):
        raise Http404
    certifier = request.POST.get("certifier") or ""
    params = {"batch_id": batch.pk}
    if certifier.isdigit():
        params["certifier_id"] = int(certifier)
    job = job_start(
        "certification.results_xlsx", actor=actor_from(request), scope=scope, params=params
    )
    return redirect("core:job_detail", job.pk)


def _batch_action(request, pk, fn, done: str):
    batch = selectors.access_batch(request.scope, pk)
    actor = actor_from(request)
    ok, reason = permissions.can_run_batch(actor, batch)
    if not ok:
        return refused(request, reason)
    try:
        fn(batch=batch, actor=actor)
    except services.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("certification:batch_detail", batch.pk)


@login_required
@require_POST
def batch_freeze(request, pk):
    return _batch_action(
        request, pk, services.batch_freeze, "本批次数据已冻结，此后的导入和更正不再改变本批次"
    )


@login_required
@require_POST
def batch_publish(request, pk):
    return _batch_action(request, pk, services.batch_publish, "认定名单已公布")


@login_required
@require_POST
def batch_sync(request, pk):
    return _batch_action(
        request, pk, services.batch_sync_roster, "认定名单已按机构库和称号名单更新"
    )


@login_required
@require_POST
def batch_adopt(request, pk):
    scope = request.scope
    batch = selectors.access_batch(scope, pk)
    try:
        standard = Standard.objects.get(pk=request.POST.get("standard"))
    except (Standard.DoesNotExist, ValueError):
        messages.error(request, "请选择认定标准")
        return redirect("certification:batch_detail", batch.pk)
    org = Org.objects.get(pk=scope.org_id)
    actor = actor_from(request)
    if not permissions.acts_for(actor, org, (Role.PROGRAMME_ADMIN,)):
        return refused(request, "只有本单位项目管理员可以设定认定标准")
    try:
        services.batch_adopt_standard(batch=batch, certifier=org, standard=standard, actor=actor)
    except services.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"本单位学校将按“{standard}”认定，请重新评估")
    return redirect("certification:batch_detail", batch.pk)


@login_required
@require_POST
def titles_import(request, pk, list_pk):
    batch = selectors.access_batch(request.scope, pk)
    try:
        plist = batch.exempt_titles.get(pk=list_pk)
    except ParticipantList.DoesNotExist as exc:
        raise Http404 from exc
    actor = actor_from(request)
    ok, reason = permissions.can_run_batch(actor, batch)
    if not ok:
        return refused(request, reason)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择称号名单文件（XLSX 或 CSV）")
        return redirect("certification:batch_detail", batch.pk)
    try:
        report = services.titles_import(
            plist=plist,
            content=upload.read(),
            filename=upload.name,
            replace=bool(request.POST.get("replace")),
            actor=actor,
        )
    except services.Refused as exc:
        messages.error(request, str(exc))
    except ParticipantsImportInvalid as exc:
        errors = [r.message for r in exc.report.rows if r.action == "error"]
        messages.error(request, "名单有错误，未导入：" + "；".join(errors[:20]))
    else:
        messages.success(request, f"“{plist.title}”：{report.summary()}")
    return redirect("certification:batch_detail", batch.pk)


# --- imports -----------------------------------------------------------------------------------


@login_required
def import_list(request, pk):
    scope = request.scope
    batch = selectors.access_batch(scope, pk)
    if not _bureau(request):
        raise Http404
    actor = actor_from(request)
    sources = selectors.sources_for(scope)
    form = forms.ImportForm(request.POST or None, request.FILES or None, sources=sources)
    if request.method == "POST":
        ok, reason = permissions.can_import(actor, batch)
        if not ok:
            return refused(request, reason)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                started = services.import_prepare(
                    batch=batch,
                    source=form.cleaned_data["source"],
                    content=upload.read(),
                    filename=upload.name,
                    as_of=form.cleaned_data["as_of"],
                    actor=actor,
                )
            except services.Refused as exc:
                form.add_error(None, str(exc))
            else:
                if not started.created:
                    messages.info(
                        request,
                        "该文件（同一数据来源、同一对应关系）此前已导入，本次未作任何改动",
                    )
                    return redirect("certification:import_detail", started.run.pk)
                job = job_start(
                    "certification.import",
                    actor=actor,
                    scope=scope,
                    params={"run_id": started.run.pk},
                )
                started.run.job_id = job.pk
                started.run.save(update_fields=["job_id"])
                # The import's own page shows provenance and, once done, the row report.
                return redirect("certification:import_detail", started.run.pk)
    runs = selectors.imports_for(scope, batch)[:100]
    return render(
        request,
        "certification/import_list.html",
        {"batch": batch, "form": form, "runs": runs, "sources": sources},
    )


@login_required
def import_detail(request, pk):
    run = selectors.access_import(request.scope, pk)
    issues = Paginator(run.issues.all(), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "certification/import_detail.html",
        {
            "run": run,
            "batch": run.batch,
            "issues": issues,
            "running": run.state == ImportState.RUNNING,
        },
    )


# --- data sources ---------------------------------------------------------------------------------


@login_required
def source_list(request):
    if not _bureau(request):
        raise Http404
    return render(
        request, "certification/source_list.html", {"sources": selectors.sources_for(request.scope)}
    )


def _indicator_choices():
    seen = {}
    for ind in Indicator.objects.select_related("standard").order_by("standard__code", "order"):
        seen.setdefault(
            ind.code, f"{ind.code} {ind.name}（{ind.standard.short_title or ind.standard.title}）"
        )
    return sorted(seen.items())


@login_required
def source_edit(request, pk=None):
    scope = request.scope
    if not _bureau(request):
        raise Http404
    source = selectors.access_source(scope, pk) if pk else None
    owner = source.owner if source else Org.objects.get(pk=scope.org_id)
    actor = actor_from(request)
    if request.method == "POST" and not permissions.acts_for(actor, owner):
        return refused(request, f"只有{owner.name}可以修改该数据来源")
    initial = {}
    if source:
        initial = {
            "code": source.code,
            "name": source.name,
            "system": source.system,
            "code_column": source.code_column,
            "name_column": source.name_column,
            "sheet": source.sheet,
            "header_row": source.header_row,
        }
    form = forms.SourceForm(request.POST or None, request.FILES or None, initial=initial)
    columns = list(source.known_columns) if source else []
    current = {m["column"]: m for m in (source.mapping if source else [])}
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        sample = d.get("sample")
        if sample is not None:
            try:
                headers, _rows = importers.read_table(
                    sample.read(), sample.name, sheet=d["sheet"], header_row=d["header_row"]
                )
                columns = [h for h in headers if h]
            except importers.TableError as exc:
                form.add_error("sample", str(exc))
        posted_columns = request.POST.getlist("column")
        for extra in posted_columns:
            if extra and extra not in columns:
                columns.append(extra)
        mapping = []
        for i, column in enumerate(posted_columns):
            code = request.POST.get(f"indicator_{i}", "")
            if column and code:
                mapping.append(
                    {
                        "column": column,
                        "indicator": code,
                        "scale": request.POST.get(f"scale_{i}") or 1,
                    }
                )
        new_col = request.POST.get("new_column", "").strip()
        new_ind = request.POST.get("new_indicator", "").strip()
        if new_col and new_ind:
            mapping.append({"column": new_col, "indicator": new_ind, "scale": 1})
            if new_col not in columns:
                columns.append(new_col)
        if not form.errors:
            try:
                source = services.source_save(
                    owner=owner,
                    code=d["code"],
                    name=d["name"],
                    system=d["system"],
                    code_column=d["code_column"],
                    name_column=d["name_column"],
                    sheet=d["sheet"],
                    header_row=d["header_row"],
                    mapping=mapping,
                    known_columns=columns,
                    actor=actor,
                )
            except services.Refused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, f"已保存数据来源“{source.name}”（{len(source.mapping)} 列已对应指标）"
                )
                return redirect("certification:source_edit", source.pk)
    rows = []
    for column in columns:
        m = current.get(column, {})
        rows.append(
            {"column": column, "indicator": m.get("indicator", ""), "scale": m.get("scale", 1)}
        )
    for column, m in current.items():
        if column not in columns:
            rows.append({"column": column, "indicator": m["indicator"], "scale": m.get("scale", 1)})
    return render(
        request,
        "certification/source_form.html",
        {
            "form": form,
            "source": source,
            "rows": rows,
            "indicators": _indicator_choices(),
            "owner": owner,
        },
    )


# --- standards ---------------------------------------------------------------------------------------


@login_required
def standard_list(request):
    if not _bureau(request):
        raise Http404
    form = forms.StandardUploadForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        if not request.scope.is_programme_admin and not request.scope.is_platform_admin:
            return refused(request, "只有项目管理员可以载入认定标准")
        upload = form.cleaned_data["file"]
        try:
            parsed = parse_bytes(upload.read(), upload.name)
            if form.cleaned_data["load"]:
                outcome = services.standard_load(parsed=parsed, actor=actor_from(request))
                labels = {"created": "已载入", "updated": "已更新", "unchanged": "内容未变"}
                messages.success(request, f"{labels[outcome.action]}：{outcome.standard}")
                return redirect("certification:standard_detail", outcome.standard.pk)
            base = None
            if parsed.spec.extends:
                base_obj = Standard.objects.filter(code=parsed.spec.extends).first()
                base = services.resolved_from_db(base_obj) if base_obj else None
            resolved = resolve(parsed, base)
            messages.success(
                request, f"校验通过：{parsed.spec.title}，{len(resolved.indicators)} 项指标"
            )
        except StandardFileInvalid as exc:
            errors = exc.errors
        except services.Refused as exc:
            form.add_error(None, str(exc))
    return render(
        request,
        "certification/standard_list.html",
        {"standards": selectors.standards(), "form": form, "errors": errors},
    )


@login_required
def standard_detail(request, pk):
    if not _bureau(request):
        raise Http404
    try:
        standard = selectors.standards().get(pk=pk)
    except Standard.DoesNotExist as exc:
        raise Http404 from exc
    indicators = list(standard.indicators.all())
    return render(
        request,
        "certification/standard_detail.html",
        {"standard": standard, "indicators": indicators, "chain": standard.chain()[1:]},
    )


# --- one school ---------------------------------------------------------------------------------------


@login_required
def entry_detail(request, pk):
    scope = request.scope
    entry = selectors.access_entry(scope, pk)
    actor = actor_from(request)
    view = selectors.entry_view(entry) if entry.state != EntryState.EXEMPT else None
    can_certify = permissions.can_certify(actor, entry)[0]
    can_correct = permissions.can_correct(actor, entry)[0]
    corrections_open = (
        entry.batch.state == BatchState.OPEN and timezone.localdate() <= entry.batch.cutoff
    )
    visits = list(entry.visits.prefetch_related("team", "findings", "findings__evidence"))
    open_visit = next((v for v in visits if v.state == VisitState.ASSIGNED), None)
    indicator_choices = []
    if view:
        for section in view.sections:
            if section.is_base:
                continue
            for row in section.rows:
                indicator_choices.append(
                    (row.indicator.code, f"{row.indicator.code} {row.indicator.name}")
                )
    ctx = {
        "entry": entry,
        "batch": entry.batch,
        "view": view,
        "can_certify": can_certify,
        "can_correct": can_correct and corrections_open,
        "corrections_open": corrections_open,
        "corrections": entry.corrections.prefetch_related("evidence").select_related("filed_by"),
        "visits": visits,
        "open_visit": open_visit,
        "is_editable": entry.state in (EntryState.QUEUED, EntryState.DECIDED),
        "decision_form": forms.DecisionForm(initial={"decision": entry.decision or None}),
        "correction_form": forms.CorrectionForm(indicators=indicator_choices),
        "finding_form": forms.FindingForm(indicators=indicator_choices),
        "visit_form": forms.VisitForm(candidates=_team_candidates(entry)) if can_certify else None,
        "show_result": scope.is_reviewer
        or scope.is_platform_admin
        or entry.decision
        or scope.is_expert,
        "in_team": open_visit is not None and permissions.can_record_finding(actor, open_visit)[0],
    }
    return render(request, "certification/entry_detail.html", ctx)


def _team_candidates(entry):
    members = (
        Membership.objects.filter(is_active=True)
        .filter(services.team_member_q(entry.certifier))
        .select_related("user", "org")
        .order_by("user__username")
    )
    seen = {}
    for m in members:
        seen.setdefault(
            str(m.user_id), f"{m.user.display_name}（{m.org.name} · {m.get_role_display()}）"
        )
    return list(seen.items())


def _entry_action(request, pk):
    entry = selectors.access_entry(request.scope, pk)
    actor = actor_from(request)
    ok, reason = permissions.can_certify(actor, entry)
    return entry, actor, (None if ok else refused(request, reason))


@login_required
@require_POST
def entry_decide(request, pk):
    entry, actor, denied = _entry_action(request, pk)
    if denied:
        return denied
    form = forms.DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择认定结论并填写认定意见")
        return redirect("certification:entry_detail", entry.pk)
    try:
        services.entry_decide(
            entry=entry,
            decision=form.cleaned_data["decision"],
            opinion=form.cleaned_data["opinion"],
            actor=actor,
        )
    except services.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"已作出认定结论：{Decision(form.cleaned_data['decision']).label}"
        )
    return redirect("certification:entry_detail", entry.pk)


@login_required
@require_POST
def visit_assign(request, pk):
    entry, actor, denied = _entry_action(request, pk)
    if denied:
        return denied
    form = forms.VisitForm(request.POST, candidates=_team_candidates(entry))
    if not form.is_valid():
        messages.error(
            request, "核查组信息有误：" + "；".join(e for es in form.errors.values() for e in es)
        )
        return redirect("certification:entry_detail", entry.pk)
    team = list(get_user_model().objects.filter(pk__in=[int(x) for x in form.cleaned_data["team"]]))
    try:
        services.visit_assign(
            entry=entry,
            team=team,
            team_note=form.cleaned_data["team_note"],
            planned_for=form.cleaned_data["planned_for"],
            actor=actor,
        )
    except services.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已安排实地核查")
    return redirect("certification:entry_detail", entry.pk)


@login_required
@require_POST
def finding_record(request, pk):
    visit = selectors.access_visit(request.scope, pk)
    actor = actor_from(request)
    ok, reason = permissions.can_record_finding(actor, visit)
    if not ok:
        return refused(request, reason)
    entry = visit.entry
    choices = [(c, c) for c in request.POST.getlist("indicator")]
    form = forms.FindingForm(request.POST, request.FILES, indicators=choices)
    if not form.is_valid():
        messages.error(
            request, "核查意见有误：" + "；".join(e for es in form.errors.values() for e in es)
        )
        return redirect("certification:entry_detail", entry.pk)
    upload = form.cleaned_data.get("evidence")
    evidence = [(upload.name, upload.read())] if upload else []
    try:
        finding = services.finding_record(
            visit=visit,
            indicator=form.cleaned_data["indicator"],
            met=form.cleaned_data["met"],
            observed=form.cleaned_data["observed"],
            reason=form.cleaned_data["reason"],
            evidence=evidence,
            actor=actor,
        )
    except services.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"已记录指标 {finding.indicator} 的核查意见：{finding.get_verdict_display()}"
        )
    return redirect("certification:entry_detail", entry.pk)


@login_required
@require_POST
def visit_complete(request, pk):
    visit = selectors.access_visit(request.scope, pk)
    actor = actor_from(request)
    ok, reason = permissions.can_record_finding(actor, visit)
    if not ok:
        return refused(request, reason)
    try:
        services.visit_complete(visit=visit, summary=request.POST.get("summary", ""), actor=actor)
    except services.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "实地核查已完成")
    return redirect("certification:entry_detail", visit.entry_id)


@login_required
@require_POST
def correction_file(request, pk):
    entry = selectors.access_entry(request.scope, pk)
    actor = actor_from(request)
    ok, reason = permissions.can_correct(actor, entry)
    if not ok:
        return refused(request, reason)
    choices = [(c, c) for c in request.POST.getlist("indicator")]
    form = forms.CorrectionForm(request.POST, request.FILES, indicators=choices)
    if not form.is_valid():
        messages.error(
            request, "更正申请有误：" + "；".join(e for es in form.errors.values() for e in es)
        )
        return redirect("certification:entry_detail", entry.pk)
    upload = form.cleaned_data["evidence"]
    try:
        services.correction_file(
            entry=entry,
            indicator=form.cleaned_data["indicator"],
            raw_value=form.cleaned_data["value"],
            reason=form.cleaned_data["reason"],
            evidence=[(upload.name, upload.read())],
            actor=actor,
        )
    except services.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "更正申请已提交，待认定单位处理")
    return redirect("certification:entry_detail", entry.pk)


@login_required
@require_POST
def correction_decide(request, pk):
    correction = selectors.access_correction(request.scope, pk)
    actor = actor_from(request)
    entry = selectors.access_entry(request.scope, correction.entry_id)
    ok, reason = permissions.can_certify(actor, entry)
    if not ok:
        return refused(request, reason)
    accept = request.POST.get("accept") == "1"
    try:
        services.correction_decide(
            correction=correction,
            accept=accept,
            response=request.POST.get("response", ""),
            actor=actor,
        )
    except services.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已采纳更正" if accept else "已不予采纳")
    return redirect("certification:entry_detail", entry.pk)


@login_required
def evidence_download(request, pk):
    try:
        ev = Evidence.objects.select_related("file", "correction", "finding__visit").get(pk=pk)
    except Evidence.DoesNotExist as exc:
        raise Http404 from exc
    entry_id = ev.correction.entry_id if ev.correction_id else ev.finding.visit.entry_id
    selectors.access_entry(request.scope, entry_id)
    content = files.read_file(ev.file)
    response = HttpResponse(content, content_type=ev.file.content_type)
    response["Content-Disposition"] = content_disposition_header(False, ev.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def certificate_pdf(request, pk):
    entry = selectors.access_entry(request.scope, pk)
    if not entry.is_certified or not entry.is_final:
        return refused(request, "该校尚未被认定为智慧校园（或认定结果尚未报备），不能出具证书", 404)
    content = render_pdf(
        "certification/pdf/certificate.html",
        {"entry": entry, "batch": entry.batch, "today": timezone.localdate()},
    )
    return pdf_response(content, f"{entry.school.name}-智慧校园认定证书.pdf", inline=True)


@login_required
def school_report(request, pk, fmt):
    if fmt not in ("pdf", "xlsx"):
        raise Http404
    entry = selectors.access_entry(request.scope, pk)
    if entry.state == EntryState.EXEMPT:
        return refused(request, "该校已自动认定，无需达标清单", 404)
    view = selectors.entry_view(entry)
    if fmt == "xlsx":
        return SchoolReportExport(view).response()
    content = render_pdf(
        "certification/pdf/school_report.html",
        {"view": view, "entry": entry, "batch": entry.batch, "today": timezone.localdate()},
    )
    return pdf_response(content, f"{entry.school.name}-未达标指标清单.pdf", inline=True)


# --- filing ---------------------------------------------------------------------------------------------


@login_required
def filing(request, pk):
    scope = request.scope
    batch = selectors.access_batch(scope, pk)
    if not _bureau(request):
        raise Http404
    org = Org.objects.get(pk=scope.org_id) if scope.org_id else None
    actor = actor_from(request)
    if request.method == "POST" and request.POST.get("action") == "return":
        return _filing_return(request, batch, actor)
    if request.method == "POST":
        ok, reason = permissions.can_file(actor, batch, org)
        if not ok:
            return refused(request, reason)
        try:
            f = services.filing_submit(
                batch=batch, org=org, note=request.POST.get("note", ""), actor=actor
            )
        except services.Refused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                f"已向{batch.owner.name}报备：认定 {f.certified} 所，不予认定 {f.not_certified} 所，暂缓 {f.deferred} 所，自动认定 {f.exempt} 所",
            )
        return redirect("certification:filing", batch.pk)
    filings = batch.filings.select_related("org", "filed_by", "returned_by")
    sees_all = scope.is_platform_admin or (
        org is not None and (org.pk == batch.owner_id or batch.owner.path.startswith(org.path))
    )
    if not sees_all:
        filings = filings.filter(org_id=scope.org_id)
    mine = batch.filings.filter(org=org).order_by("-filed_at") if org else batch.filings.none()
    return render(
        request,
        "certification/filing.html",
        {
            "batch": batch,
            "filings": filings,
            "org": org,
            "can_file": permissions.can_file(actor, batch, org)[0] if org else False,
            "can_return": permissions.can_return_filing(actor, batch)[0]
            and batch.state != BatchState.PUBLISHED,
            "already": mine.filter(returned_at__isnull=True).first(),
            "returned": mine.filter(returned_at__isnull=False).first(),
            "pending": batch.entries.filter(certifier=org, state=EntryState.QUEUED).count()
            if org
            else 0,
        },
    )


def _filing_return(request, batch, actor):
    ok, reason = permissions.can_return_filing(actor, batch)
    if not ok:
        return refused(request, reason)
    try:
        filing = batch.filings.get(pk=int(request.POST.get("filing", "")))
    except (ValueError, Filing.DoesNotExist):
        raise Http404 from None
    try:
        services.filing_return(filing=filing, reason=request.POST.get("reason", ""), actor=actor)
    except services.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已退回{filing.org.name}的报备，待其修改后重新报备")
    return redirect("certification:filing", batch.pk)


# --- experts ---------------------------------------------------------------------------------------------


@login_required
def my_visits(request):
    return render(
        request,
        "certification/my_visits.html",
        {"visits": selectors.visits_for_user(request.scope)},
    )


# --- public -------------------------------------------------------------------------------------------------


def public_index(request):
    return render(
        request, "certification/public_index.html", {"batches": selectors.published_batches()}
    )


def public_batch(request, code):
    try:
        batch = selectors.published_batches().get(code=code)
    except Batch.DoesNotExist as exc:
        raise Http404 from exc
    rows = selectors.public_list(batch)
    return render(request, "certification/public_list.html", {"batch": batch, "rows": rows})
