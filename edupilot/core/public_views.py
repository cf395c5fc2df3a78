"""The public portal (公开信息): ``/`` for visitors without login, and ``/public/`` with search.

The sections come from :mod:`edupilot.core.public` (each app registers its own), so this
module knows no app. Nothing here needs a login, and nothing shows a person.
"""

from __future__ import annotations

from django.shortcuts import render

from .public import clean_query, collect, sections

PORTAL_ITEMS = 5  # items of each section on the portal
INDEX_ITEMS = 20  # items of each section on /public/
SECTION_ITEMS = 200  # items of one section on /public/?section=


def portal(request):
    return render(request, "public/portal.html", {"blocks": collect("", PORTAL_ITEMS)})


def public_index(request):
    q = clean_query(request.GET.get("q"))
    wanted = request.GET.get("section") or ""
    known = {s.key for s in sections()}
    if wanted in known:
        blocks = [b for b in collect(q, SECTION_ITEMS) if b["section"].key == wanted]
    else:
        wanted = ""
        blocks = collect(q, INDEX_ITEMS)
    return render(
        request,
        "public/index.html",
        {
            "blocks": blocks,
            "q": q,
            "section": wanted,
            "found": sum(len(b["items"]) for b in blocks),
            "all_sections": sections(),
        },
    )
