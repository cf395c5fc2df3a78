"""Downloads of the pilot period: a submission's paper form (PDF) and the issuer's acceptance
results (XLSX). Thin: reads go through the pilots' scoped selectors (404 outside the scope)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.views.decorators.http import require_GET

from edupilot.pilots.selectors import issuer_programme

from . import pilots
from .pdf import pdf_response
from .stored import serve_or_render


@login_required
@require_GET
def submission_form(request, pk):
    """A plan, report, acceptance or case with its opinion boxes (the draft, or a version)."""
    raw = request.GET.get("version") or ""
    if raw and not (raw.isdigit() and len(raw) < 10):
        raise Http404
    doc = pilots.access_submission_document(request.scope, pk, version=int(raw) if raw else None)
    return serve_or_render(pilots.stored_submission(doc))


@login_required
@require_GET
def acceptance_results(request, pk):
    """Every acceptance of the programme, for its issuer's programme admins."""
    return pilots.AcceptanceResults(issuer_programme(request.scope, pk)).response()


@login_required
@require_GET
def award_decision(request, pk, stage):
    """以奖代补的决定: the issuer's decision document of an awards stage, with its table."""
    doc = pilots.award_decision(issuer_programme(request.scope, pk), stage)
    return pdf_response(pilots.render_award_decision(doc), doc["filename"])
