"""Public announcement pages (公示), no login: unit names, categories, topics and regions only."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from . import selectors


def _issuer_label(programme) -> str:
    # The notice's own issuing body (河南省电化教育馆) rather than the org tree's node (河南省).
    return programme.parsed.issuer_name or programme.issuer.name


def public_list(request):
    items = list(selectors.public_announcements()[:200])
    for a in items:
        a.issuer_label = _issuer_label(a.programme)
    return render(request, "selection/public/list.html", {"announcements": items})


def public_detail(request, pk):
    ann = selectors.public_announcement(pk)
    return render(
        request,
        "selection/public/detail.html",
        {
            "ann": ann,
            "issuer_label": _issuer_label(ann.programme),
            "show_topic": any(e.topic_name for e in ann.listed_entries),
            "now": timezone.now(),
        },
    )
