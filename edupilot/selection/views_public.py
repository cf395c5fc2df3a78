"""Public announcement pages (公示), no login: unit names, categories, topics and regions only
(and the member schools of a region bid, which are units too)."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from edupilot.core.public import PublicItem, clean_query
from edupilot.programmes import cascade

from . import selectors
from .models import AnnouncementState


def _issuer_label(programme) -> str:
    # The notice's own issuing body (河南省电化教育馆) rather than the org tree's node (河南省).
    return programme.issuers_text


def public_list(request):
    q = clean_query(request.GET.get("q"))
    state = request.GET.get("state") or ""
    if state not in AnnouncementState.values:
        state = ""
    items = list(selectors.public_announcements_search(q, state)[:200])
    for a in items:
        a.issuer_label = _issuer_label(a.programme)
    return render(
        request, "selection/public/list.html", {"announcements": items, "q": q, "state": state}
    )


def public_detail(request, pk):
    ann = selectors.public_announcement(pk)
    return render(
        request,
        "selection/public/detail.html",
        {
            "ann": ann,
            "issuer_label": _issuer_label(ann.programme),
            "parent_title": cascade.parent_title(ann.programme),
            "show_topic": any(e.topic_name for e in ann.listed_entries),
            "show_grade": any(e.grade_name for e in ann.listed_entries),
            "show_members": any(e.member_names for e in ann.listed_entries),
            "now": timezone.now(),
        },
    )


# --- the portal's sections (registered in apps.py) -----------------------------------------


def _items(q: str, limit: int, state: str) -> list[PublicItem]:
    out = []
    for a in selectors.public_announcements_search(q, state)[:limit]:
        units = ngettext("%(n)s 个单位", "%(n)s 个单位", a.listed) % {"n": a.listed}
        if state == AnnouncementState.PUBLISHED:
            when = a.published_at
            badge = _("公示期至 %(d)s") % {
                "d": timezone.localtime(a.objection_until).strftime("%Y-%m-%d %H:%M")
            }
            kind = "warn"
        else:
            when = a.final_published_at or a.published_at
            badge, kind = _("最终名单"), "ok"
        out.append(
            PublicItem(
                title=a.title,
                url=reverse("selection_public:detail", args=[a.pk]),
                meta=f"{_issuer_label(a.programme)} · {units}",
                when=when,
                badge=badge,
                badge_kind=kind,
            )
        )
    return out


def announcements_in_period(q: str, limit: int) -> list[PublicItem]:
    """Announcements still in their objection period (公示中)."""
    return _items(q, limit, AnnouncementState.PUBLISHED)


def final_lists(q: str, limit: int) -> list[PublicItem]:
    """Announcements closed with their final list (最终名单)."""
    return _items(q, limit, AnnouncementState.CLOSED)
