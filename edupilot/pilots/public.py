"""The pilot period's sections of the public portal (``edupilot.core.public``): titles and
achievement listings made final after their 公示, and accepted cases (典型案例). Unit names,
titles and programme titles only: nothing about a person."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from edupilot.core.public import PublicItem

from .models import Honour, HonourState, Submission, SubmissionState


def final_honours(q: str, limit: int) -> list[PublicItem]:
    rows = Honour.objects.filter(state=HonourState.FINAL).select_related(
        "pilot__unit", "pilot__programme"
    )
    if q:
        rows = rows.filter(
            Q(title_name__icontains=q)
            | Q(pilot__unit__name__icontains=q)
            | Q(pilot__programme__title__icontains=q)
        )
    url = reverse("pilots_public:honours")
    return [
        PublicItem(
            title=f"{h.pilot.unit.name}：{h.title_name}",
            url=url,
            meta=h.pilot.programme.title,
            when=h.final_at,
            badge="已认定",
            badge_kind="ok",
        )
        for h in rows.order_by("-final_at", "-pk")[:limit]
    ]


def accepted_cases(q: str, limit: int) -> list[PublicItem]:
    rows = Submission.objects.filter(kind="cases", state=SubmissionState.ACCEPTED).select_related(
        "pilot__unit", "pilot__programme"
    )
    if q:
        rows = rows.filter(
            Q(pilot__unit__name__icontains=q) | Q(pilot__programme__title__icontains=q)
        )
    url = reverse("pilots_public:honours")
    return [
        PublicItem(
            title=f"{s.pilot.unit.name}：典型案例",
            url=url,
            meta=s.pilot.programme.title,
            when=s.decided_at,
        )
        for s in rows.order_by("-decided_at", "-pk")[:limit]
    ]
