"""Scoped reads of pilots: the list per level (with filters), one pilot, and the rows of its
stages (submissions and their files, inspections, acceptance submissions and reviews, titles).

Every read starts from :func:`pilots_for`, which filters through ``orgs.scoping.scoped``: the
unit sees its own pilots, a bureau its subtree's, a named supervising centre those it
supervises; experts and other orgs see none (404). A stage's row is read through its pilot's
:func:`access_pilot`, an expert's review is the expert's own, and the titles-and-awards reads
are the issuer's programme admins' only.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from edupilot.orgs.scoping import Scope, get_or_404, scoped
from edupilot.programmes.models import Programme

from .models import (
    AcceptanceReview,
    Honour,
    HonourObjection,
    Inspection,
    Pilot,
    PilotState,
    Submission,
    SubmissionAttachment,
)
from .permissions import can_manage_honours

PAGE_SIZE = 50


def pilots_for(scope: Scope) -> QuerySet[Pilot]:
    return scoped(Pilot.objects.all(), scope, org_field="unit")


def access_pilot(scope: Scope, pk) -> Pilot:
    qs = pilots_for(scope).select_related("programme", "programme__issuer", "unit", "supervisor")
    return get_or_404(qs, pk=pk)


# --- the rows of a pilot's stages ------------------------------------------------------------


def access_submission(scope: Scope, pk) -> Submission:
    """One submission of a pilot the scope sees (404 otherwise)."""
    qs = Submission.objects.filter(pilot__in=pilots_for(scope)).select_related(
        "pilot", "pilot__programme", "pilot__programme__issuer", "pilot__unit", "pilot__supervisor"
    )
    return get_or_404(qs, pk=pk)


def access_submission_file(scope: Scope, pk, file_pk) -> SubmissionAttachment:
    """A file of a submission the scope sees (old versions' files too), else 404."""
    sub = access_submission(scope, pk)
    qs = SubmissionAttachment.objects.filter(submission=sub).select_related("blob")
    return get_or_404(qs, pk=file_pk)


def access_inspection(scope: Scope, pk) -> Inspection:
    pilot_id = get_object_or_404(Inspection.objects.values_list("pilot_id", flat=True), pk=pk)
    pilot = access_pilot(scope, pilot_id)
    inspection = Inspection.objects.select_related("org").get(pk=pk)
    inspection.pilot = pilot
    return inspection


def access_acceptance_submission(scope: Scope, pk) -> Submission:
    qs = Submission.objects.filter(kind="acceptance").values_list("pilot_id", flat=True)
    pilot = access_pilot(scope, get_object_or_404(qs, pk=pk))
    sub = Submission.objects.get(pk=pk)
    sub.pilot = pilot
    return sub


def own_review(scope: Scope, pk) -> AcceptanceReview:
    """An expert's own active review; 404 for anyone else."""
    return get_object_or_404(
        AcceptanceReview.objects.select_related(
            "submission", "submission__pilot", "submission__pilot__programme",
            "submission__pilot__unit",
        ),
        pk=pk, expert_id=scope.user_id or 0, is_active=True,
    )  # fmt: skip


def issuer_programme(scope: Scope, pk) -> Programme:
    """The programme, for its issuer's programme admins only (404 for everyone else)."""
    programme = get_object_or_404(Programme.objects.select_related("issuer"), pk=pk)
    if not can_manage_honours(scope, programme)[0]:
        raise Http404
    return programme


def issuer_honour(scope: Scope, pk) -> Honour:
    honour = get_object_or_404(Honour.objects.select_related("pilot"), pk=pk)
    honour.pilot.programme = issuer_programme(scope, honour.pilot.programme_id)
    return honour


def issuer_honour_objection(scope: Scope, pk) -> HonourObjection:
    """An objection to a title, for the issuer's programme admins only (404 for the rest)."""
    objection = get_object_or_404(
        HonourObjection.objects.select_related("honour", "honour__pilot"), pk=pk
    )
    objection.honour = issuer_honour(scope, objection.honour_id)
    return objection


def query_int(v) -> int | None:
    """An id from a query parameter: None when absent, not a number, or absurdly long."""
    try:
        return int(v) if v and len(str(v)) < 12 else None
    except ValueError:
        return None


# --- the list ---------------------------------------------------------------------------------


@dataclass
class PilotFilters:
    programme: int | None = None
    state: str = ""
    category: str = ""
    q: str = ""

    @classmethod
    def from_query(cls, params) -> PilotFilters:
        state = params.get("state", "")
        return cls(
            programme=query_int(params.get("programme")),
            state=state if state in PilotState.values else "",
            category=(params.get("category") or "")[:64],
            q=(params.get("q") or "").replace("\x00", "").strip()[:100],
        )


@dataclass
class PilotList:
    page: Page
    filters: PilotFilters
    programmes: list[Programme]
    states: list[tuple[str, str]]
    counts: list[tuple[str, int]]


def pilot_list(scope: Scope, params, page_number=1) -> PilotList:
    f = PilotFilters.from_query(params)
    base = pilots_for(scope)
    qs = base.select_related("programme", "unit", "supervisor")
    if f.programme:
        qs = qs.filter(programme_id=f.programme)
    if f.state:
        qs = qs.filter(state=f.state)
    if f.category:
        qs = qs.filter(category=f.category)
    if f.q:
        qs = qs.filter(Q(unit__name__icontains=f.q) | Q(title__icontains=f.q))
    by_state = dict(base.values_list("state").order_by().annotate(n=Count("pk")))
    counts = [(label, by_state.get(value, 0)) for value, label in PilotState.choices]
    programmes = list(
        Programme.objects.filter(pk__in=base.values("programme_id"))
        .order_by("-pk")
        .only("pk", "code", "title")
    )
    paginator = Paginator(qs.order_by("programme_id", "unit_path", "pk"), PAGE_SIZE)
    return PilotList(
        page=paginator.get_page(page_number),
        filters=f,
        programmes=programmes,
        states=list(PilotState.choices),
        counts=counts,
    )
