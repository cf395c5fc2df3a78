"""The announcement list (公示名单) as PDF: the public page's list, printed as a notice.

It reads only the entries' publication snapshots (unit, category, topic, region) through
the public selector, like the public page: no person's name, phone or e-mail can reach it.
"""

from __future__ import annotations

from django.utils import timezone

from edupilot.selection.models import Announcement, AnnouncementState
from edupilot.selection.selectors import public_announcement

from .pdf import render_pdf

TEMPLATE = "documents/notices/announcement.html"


def announcement_context(announcement: Announcement) -> dict:
    programme = announcement.programme
    entries = list(announcement.listed_entries)
    closed = announcement.state == AnnouncementState.CLOSED
    return {
        "ann": announcement,
        "entries": entries,
        "closed": closed,
        "issuer": programme.parsed.issuer_name or programme.issuer.name,
        "show_topic": any(e.topic_name for e in entries),
        "generated_at": timezone.now(),
    }


def announcement_pdf(pk) -> tuple[bytes, str]:
    """The PDF of a published announcement and its file name (404 if there is none)."""
    ann = public_announcement(pk)
    suffix = "最终名单" if ann.state == AnnouncementState.CLOSED else "公示名单"
    return render_pdf(TEMPLATE, announcement_context(ann)), f"{ann.title}-{suffix}.pdf"
