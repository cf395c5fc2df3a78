"""Pages of one school: its data and result, corrections, site visits, the decision, and its
documents (certificate, unmet-indicator report, evidence)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from edupilot.audit.services import actor_from
from edupilot.core.action_views import object_action
from edupilot.core.actions import run_action
from edupilot.core.errors import Denied, Refused, check
from edupilot.documents.stored import serve_or_render

from .. import files, forms, permissions, selectors, services
from ..certificates import certificate_document, school_report_document
from ..exports import SchoolReportExport
from ..models import Decision, EntryState
from .common import cleaned, entry_url, refused


@login_required
def entry_detail(request, pk):
    scope = request.scope
    entry = selectors.access_entry(scope, pk)
    ctx = selectors.entry_page(scope, entry)
    choices = ctx["indicator_choices"]
    visit_actions = ctx["visit_actions"]
    ctx.update(
        decision_form=forms.DecisionForm(initial={"decision": entry.decision or None}),
        correction_form=forms.CorrectionForm(indicators=choices),
        finding_form=forms.FindingForm(indicators=choices),
        visit_form=forms.VisitForm(candidates=selectors.team_candidates(entry))
        if "assign" in visit_actions and visit_actions["assign"].allowed
        else None,
    )
    return render(request, "certification/entry_detail.html", ctx)


@login_required
def self_assessment(request, pk):
    """The school's self-assessment with its application: save a draft or submit. Points that
    cannot be saved are shown with what was typed and a message per item."""
    scope = request.scope
    entry = selectors.access_entry(scope, pk)
    check(permissions.can_self_assess(scope, entry))  # only the school itself: else 403
    typed, errors = None, {}
    if request.method == "POST":
        submit = request.POST.get("action") == "submit"
        try:
            sa = services.self_assessment_save(
                entry=entry, scores=request.POST, submit=submit, scope=scope,
                actor=actor_from(request),
            )  # fmt: skip
        except Denied:
            raise
        except Refused as exc:
            typed, errors = request.POST, exc.errors
            messages.error(request, exc.message)
        else:
            if sa.submitted_at:
                gate = selectors.access_entry(scope, pk).gate_reason
                messages.success(request, _("自评已提交。") + (gate or _("符合本批次申报条件。")))
            else:
                messages.success(request, _("自评已保存（草稿），提交后方计入申报。"))
            return redirect("certification:self_assessment", entry.pk)
    ctx = selectors.self_assessment_page(scope, entry, typed=typed, errors=errors)
    return render(request, "certification/self_assessment.html", ctx)


@login_required
@require_POST
def entry_decide(request, pk):
    entry = selectors.access_entry(request.scope, pk)
    form = forms.DecisionForm(request.POST)

    def decide():
        if not form.is_valid():
            raise Refused(_("请选择认定结论并填写认定意见"))
        return services.entry_decide(
            entry=entry,
            decision=form.cleaned_data["decision"],
            opinion=form.cleaned_data["opinion"],
            scope=request.scope,
            actor=actor_from(request),
        )

    return run_action(
        request,
        decide,
        success=lambda e: _("已作出认定结论：%(label)s") % {"label": Decision(e.decision).label},
        back=entry_url(entry.pk),
    )


@login_required
@require_POST
def visit_assign(request, pk):
    entry = selectors.access_entry(request.scope, pk)
    form = forms.VisitForm(request.POST, candidates=selectors.team_candidates(entry))

    def assign():
        d = cleaned(form, _("核查组信息有误："))
        ids = [int(x) for x in d["team"]]
        return services.visit_assign(
            entry=entry,
            team=list(get_user_model().objects.filter(pk__in=ids)),
            team_note=d["team_note"],
            planned_for=d["planned_for"],
            scope=request.scope,
            actor=actor_from(request),
        )

    return run_action(request, assign, success=_("已安排实地核查"), back=entry_url(entry.pk))


@login_required
@require_POST
def finding_record(request, pk):
    visit = selectors.access_visit(request.scope, pk)
    choices = [(c, c) for c in request.POST.getlist("indicator")]
    form = forms.FindingForm(request.POST, request.FILES, indicators=choices)

    def record():
        d = cleaned(form, _("核查意见有误："))
        upload = d.get("evidence")
        return services.finding_record(
            visit=visit,
            indicator=d["indicator"],
            met=d["met"],
            observed=d["observed"],
            reason=d["reason"],
            evidence=[(upload.name, upload.read())] if upload else [],
            scope=request.scope,
            actor=actor_from(request),
        )

    return run_action(
        request,
        record,
        success=lambda f: (
            _("已记录指标 %(indicator)s 的核查意见：%(verdict)s")
            % {"indicator": f.indicator, "verdict": f.get_verdict_display()}
        ),
        back=entry_url(visit.entry_id),
    )


visit_complete = object_action(
    selectors.access_visit,
    services.visit_complete,
    "visit",
    posted=("summary",),
    success=gettext_lazy("实地核查已完成"),
    back=lambda visit: entry_url(visit.entry_id),
)


@login_required
@require_POST
def correction_file(request, pk):
    entry = selectors.access_entry(request.scope, pk)
    choices = [(c, c) for c in request.POST.getlist("indicator")]
    form = forms.CorrectionForm(request.POST, request.FILES, indicators=choices)

    def file():
        # Who files comes first: another school's account is refused (403) whatever it sent.
        check(permissions.can_file_correction(request.scope, entry))
        d = cleaned(form, _("更正申请有误："))
        upload = d["evidence"]
        return services.correction_file(
            entry=entry,
            indicator=d["indicator"],
            raw_value=d["value"],
            reason=d["reason"],
            evidence=[(upload.name, upload.read())],
            scope=request.scope,
            actor=actor_from(request),
        )

    return run_action(
        request, file, success=_("更正申请已提交，待认定单位处理"), back=entry_url(entry.pk)
    )


@login_required
@require_POST
def correction_decide(request, pk):
    correction = selectors.access_correction(request.scope, pk)
    accept = request.POST.get("action") == "accept"
    return run_action(
        request,
        lambda: services.correction_decide(
            correction=correction,
            accept=accept,
            response=request.POST.get("response", ""),
            scope=request.scope,
            actor=actor_from(request),
        ),
        success=_("已采纳更正") if accept else _("已不予采纳"),
        back=entry_url(correction.entry_id),
    )


@login_required
def evidence_download(request, pk):
    ev = selectors.access_evidence(request.scope, pk)
    content = files.read_file(ev.file)
    response = HttpResponse(content, content_type=ev.file.content_type)
    response["Content-Disposition"] = content_disposition_header(False, ev.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def certificate_pdf(request, pk):
    entry = selectors.access_entry(request.scope, pk)
    if not entry.is_certified or not entry.is_final:
        return refused(
            request, _("该校尚未被认定为智慧校园（或认定结果尚未报备），不能出具证书"), 404
        )
    # Stored when the batch was published, or on the first click: served as a file.
    return serve_or_render(certificate_document(entry))


@login_required
def school_report(request, pk, fmt):
    if fmt not in ("pdf", "xlsx"):
        raise Http404
    entry = selectors.access_entry(request.scope, pk)
    if entry.state == EntryState.EXEMPT:
        return refused(request, _("该校已自动认定，无需达标清单"), 404)
    view = selectors.entry_view(entry)
    if fmt == "xlsx":
        return SchoolReportExport(view).response()
    return serve_or_render(school_report_document(entry, view))


@login_required
def my_visits(request):
    return render(
        request,
        "certification/my_visits.html",
        {"visits": selectors.visits_for_user(request.scope)},
    )
