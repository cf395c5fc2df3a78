"""The announcement list (公示名单) as PDF: the public page's list, printed as a notice.

It reads only the entries' publication snapshots (unit, category, topic, region) through
the public selector, like the public page: no person's name, phone or e-mail can reach it.

Anyone may ask for it, so it is rendered once, in the background when the list is published
(and again when the final list is), and served as a stored file (``stored.py``).
"""

from __future__ import annotations

from django.utils import timezone

from edupilot.selection.models import Announcement, AnnouncementState
from edupilot.selection.selectors import public_announcement

from .pdf import render_pdf
from .stored import Stored, document_key

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


def announcement_inputs(ann: Announcement) -> list:
    """Everything the list prints but its generation time: a change is a new stored file."""
    programme = ann.programme
    return [
        TEMPLATE,
        ann.state,
        ann.title,
        ann.intro,
        ann.published_at,
        ann.objection_until,
        ann.final_published_at,
        programme.title,
        programme.doc_no,
        programme.parsed.issuer_name or programme.issuer.name,
        [(e.unit_name, e.category_name, e.topic_name, e.region_name) for e in ann.listed_entries],
    ]


def announcement_document(pk) -> Stored:
    """The PDF of a published announcement, to serve or render (404 if there is none)."""
    ann = public_announcement(pk)
    suffix = "最终名单" if ann.state == AnnouncementState.CLOSED else "公示名单"
    return Stored(
        kind="announcement",
        object_id=str(ann.pk),
        key=document_key("announcement", ann.pk, announcement_inputs(ann)),
        filename=f"{ann.title}-{suffix}.pdf",
        render=lambda: render_pdf(TEMPLATE, announcement_context(ann)),
    )


def announcement_pdf(pk) -> tuple[bytes, str]:
    """The PDF of a published announcement and its file name, rendered now."""
    doc = announcement_document(pk)
    return doc.render(), doc.filename
