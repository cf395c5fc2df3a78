"""The pilot period's sections of the public portal (``edupilot.core.public``): titles and
achievement listings made final after their 公示, and accepted cases (典型案例). Unit names,
titles and programme titles only: nothing about a person."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q, QuerySet
from django.urls import reverse

from edupilot.core.public import PublicItem

from .models import Honour, HonourState, Submission, SubmissionState

SEARCHED = ("pilot__unit__name", "pilot__programme__title")


def _items(
    rows: QuerySet, q: str, limit: int, *, searched, when: str, title: Callable, **badge
) -> list[PublicItem]:
    """Rows of a pilot (newest ``when`` first) matching ``q`` in one of ``searched``, as items
    of the public titles-and-cases page, under the programme's title."""
    rows = rows.select_related("pilot__unit", "pilot__programme")
    if q:
        match = Q()
        for field in searched:
            match |= Q(**{f"{field}__icontains": q})
        rows = rows.filter(match)
    url = reverse("pilots_public:honours")
    return [
        PublicItem(
            title=title(row),
            url=url,
            meta=row.pilot.programme.title,
            when=getattr(row, when),
            **badge,
        )
        for row in rows.order_by(f"-{when}", "-pk")[:limit]
    ]


def final_honours(q: str, limit: int) -> list[PublicItem]:
    return _items(
        Honour.objects.filter(state=HonourState.FINAL),
        q,
        limit,
        searched=("title_name", *SEARCHED),
        when="final_at",
        title=lambda h: f"{h.pilot.unit.name}：{h.title_name}",
        badge="已认定",
        badge_kind="ok",
    )


def accepted_cases(q: str, limit: int) -> list[PublicItem]:
    return _items(
        Submission.objects.filter(kind="cases", state=SubmissionState.ACCEPTED),
        q,
        limit,
        searched=SEARCHED,
        when="decided_at",
        title=lambda s: f"{s.pilot.unit.name}：典型案例",
    )
