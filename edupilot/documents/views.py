"""Downloads of the notices' documents. Views stay thin: reads go through the scope.

Small documents answer directly (a form, a city's summary table, the quota table, the
announcement list); large ones (a province's summary of thousands of rows, a queue's forms
as one ZIP) start a background job and send the user to its progress page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from edupilot.audit.services import actor_from
from edupilot.core.jobs import job_start, jobs_for

from . import announcements, forms, quotas, selectors, summaries
from .jobs import render_published_task
from .stored import serve_or_render, serve_or_start

KINDS = ("documents.summary_xlsx", "documents.forms_zip")
# The "please wait" page of a document being rendered reloads itself this often.
REFRESH_SECONDS = 3


def _require_documents(request) -> None:
    if not summaries.can_use_documents(request.scope):
        raise Http404


@login_required
@require_GET
def index(request):
    """What the scope's org can download, programme by programme."""
    _require_documents(request)
    scope = request.scope
    items = selectors.document_index(scope)
    jobs = list(jobs_for(scope).filter(kind__in=KINDS).order_by("-created_at")[:10])
    return render(
        request,
        "documents/notices/index.html",
        {"items": items, "jobs": jobs, "direct_max": summaries.DIRECT_MAX_ROWS},
    )


@login_required
@require_http_methods(["GET", "POST"])
def summary(request, code, key):
    """A summary table: directly when small, otherwise (or on request) as a background job."""
    _require_documents(request)
    scope = request.scope
    programme = summaries.access_document_programme(scope, code)
    spec = summaries.access_summary_spec(programme, key)
    org_param = request.POST.get("org") if request.method == "POST" else request.GET.get("org")
    target = summaries.summary_target(scope, org_param or None)
    if request.method == "POST":
        job = job_start(
            "documents.summary_xlsx",
            actor=actor_from(request),
            scope=scope,
            params={"programme": programme.code, "table": spec.table.key, "org": target.param},
        )
        return redirect("core:job_detail", job.pk)
    export = summaries.SummaryExport(
        scope=scope, spec=spec, target=target, filler=request.user.display_name
    )
    rows = export.total()
    if rows > summaries.DIRECT_MAX_ROWS:
        return render(
            request,
            "documents/notices/background.html",
            {"programme": programme, "spec": spec, "target": target, "rows": rows},
        )
    return export.response()


@login_required
@require_GET
def quota_table(request, code):
    _require_documents(request)
    programme = quotas.access_quota_programme(request.scope, code)
    category = request.GET.get("category") or ""
    if category and programme.parsed.category(category) is None:
        raise Http404
    return quotas.QuotaExport(
        scope=request.scope, programme=programme, category=category
    ).response()


@login_required
@require_POST
def forms_zip(request, code):
    """Start the job that renders a queue's forms into one ZIP."""
    _require_documents(request)
    scope = request.scope
    programme = summaries.access_document_programme(scope, code)
    queue = request.POST.get("queue", "pending")
    category = request.POST.get("category", "")
    if queue not in forms.QUEUES or (category and programme.parsed.category(category) is None):
        raise Http404
    job = job_start(
        "documents.forms_zip",
        actor=actor_from(request),
        scope=scope,
        params={"programme": programme.code, "queue": queue, "category": category},
    )
    return redirect("core:job_detail", job.pk)


@login_required
@require_GET
def application_form(request, pk):
    """One application's form as the notice prints it: the working copy for stamping (or,
    ``draft=1``, watermarked 草稿), or a submitted version (``version=N``)."""
    try:
        version = int(request.GET["version"]) if request.GET.get("version") else None
    except ValueError:
        raise Http404 from None
    draft = request.GET.get("draft") == "1"
    doc = forms.access_form_document(request.scope, pk, version=version, draft=draft)
    return serve_or_render(forms.stored_form(doc))


@require_GET
def announcement(request, pk):
    """The public list of an announcement as PDF (no login, like its page).

    Served from storage: rendered in the background when published. A reader who comes
    before that render has finished starts it (or joins it) and sees a page that reloads.
    """
    doc = announcements.announcement_document(pk)
    response = serve_or_start(doc, lambda: render_published_task(doc.kind, doc.object_id))
    if response is not None:
        return response
    return render(
        request,
        "documents/rendering.html",
        {"filename": doc.filename, "refresh": REFRESH_SECONDS},
        status=202,
    )
