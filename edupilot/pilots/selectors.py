"""Scoped reads of pilots: the list per level (with filters) and one pilot.

Every read starts from :func:`pilots_for`, which filters through ``orgs.scoping.scoped``: the
unit sees its own pilots, a bureau its subtree's, a named supervising centre those it
supervises; experts and other orgs see none (404).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from edupilot.orgs.scoping import Scope, get_or_404, scoped
from edupilot.programmes.models import Programme

from .models import Pilot, PilotState

PAGE_SIZE = 50


def pilots_for(scope: Scope) -> QuerySet[Pilot]:
    return scoped(Pilot.objects.all(), scope, org_field="unit")


def access_pilot(scope: Scope, pk) -> Pilot:
    qs = pilots_for(scope).select_related("programme", "programme__issuer", "unit", "supervisor")
    return get_or_404(qs, pk=pk)


@dataclass
class PilotFilters:
    programme: int | None = None
    state: str = ""
    category: str = ""
    q: str = ""

    @classmethod
    def from_query(cls, params) -> PilotFilters:
        def _int(v):
            try:
                return int(v) if v and len(v) < 12 else None
            except ValueError:
                return None

        state = params.get("state", "")
        return cls(
            programme=_int(params.get("programme")),
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
