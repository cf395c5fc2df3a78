"""The announcement list (公示名单) as PDF: the public page's list, printed as a notice.

It reads only the entries' publication snapshots (unit, category, topic, region) through
the public selector, like the public page: no person's name, phone or e-mail can reach it.

Anyone may ask for it, so it is rendered once, in the background when the list is published
(and again when the final list is), and served as a stored file (``stored.py``).
"""

from __future__ import annotations

from django.utils import timezone

from edupilot.orgs.scoping import get_or_404
from edupilot.programmes import cascade
from edupilot.selection.models import Announcement, AnnouncementState, EntryOutcome
from edupilot.selection.selectors import public_announcement

from .pdf import render_pdf
from .stored import Stored, from_inputs

TEMPLATE = "documents/notices/announcement.html"


def announcement_context(announcement: Announcement) -> dict:
    programme = announcement.programme
    entries = list(announcement.listed_entries)
    closed = announcement.state == AnnouncementState.CLOSED
    return {
        "ann": announcement,
        "entries": entries,
        "closed": closed,
        "issuer": programme.issuers_text,
        "issuers": programme.issuer_names,
        "parent_title": cascade.parent_title(programme),
        "show_topic": any(e.topic_name for e in entries),
        "show_grade": any(e.grade_name for e in entries),
        "generated_at": timezone.now(),
    }


def announcement_inputs(ann: Announcement) -> list:
    """Everything the list prints but its generation time: a change is a new stored file.

    Read as plain values (the listed entries' public snapshots), not as model instances: this
    runs on every download, before the stored file is served.
    """
    programme = ann.programme
    listed = (
        ann.entries.filter(outcome=EntryOutcome.LISTED)
        .order_by("position")
        .values_list("unit_name", "category_name", "topic_name", "region_name")
    )
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
        programme.issuers_text,
        cascade.parent_title(programme),
        list(listed),
    ]


def announcement_document(pk) -> Stored:
    """The PDF of a published announcement, to serve or render (404 if there is none)."""
    # Every announcement is public (selectors.public_announcement); no count is needed here.
    ann = get_or_404(Announcement.objects.select_related("programme", "programme__issuer"), pk=pk)
    suffix = "最终名单" if ann.state == AnnouncementState.CLOSED else "公示名单"
    return from_inputs(
        "announcement",
        ann.pk,
        announcement_inputs(ann),
        f"{ann.title}-{suffix}.pdf",
        lambda: render_pdf(TEMPLATE, announcement_context(public_announcement(pk))),
    )


def announcement_pdf(pk) -> tuple[bytes, str]:
    """The PDF of a published announcement and its file name, rendered now."""
    doc = announcement_document(pk)
    return doc.render(), doc.filename
