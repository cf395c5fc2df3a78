"""Certificates and unmet-indicator reports as stored PDFs (``documents.stored``).

A certificate is rendered once and served as a file: in the background for every certified
school when the batch publishes its list, otherwise on the first click. Its key is the HTML
it prints (less its generation date), so a corrected name or a new certifier is a new file.
"""

from __future__ import annotations

import logging

from django.db.models import QuerySet
from django.utils import timezone
from huey.contrib.djhuey import db_task

from edupilot.documents.stored import Stored, ensure_stored, from_template

from .models import Batch, Entry

logger = logging.getLogger(__name__)

CERTIFICATE = "certification/pdf/certificate.html"
SCHOOL_REPORT = "certification/pdf/school_report.html"


def certificate_document(entry: Entry) -> Stored:
    return from_template(
        "certificate",
        entry.pk,
        CERTIFICATE,
        {"entry": entry, "batch": entry.batch},
        f"{entry.school.name}-智慧校园认定证书.pdf",
        stamp={"today": timezone.localdate()},
        inline=True,
    )


def school_report_document(entry: Entry, view) -> Stored:
    return from_template(
        "school_report",
        entry.pk,
        SCHOOL_REPORT,
        {"view": view, "entry": entry, "batch": entry.batch},
        f"{entry.school.name}-未达标指标清单.pdf",
        stamp={"today": timezone.localdate()},
        inline=True,
    )


def final_certified(batch: Batch) -> QuerySet[Entry]:
    """The entries of ``batch`` whose certificate may be issued (``Entry.is_final``)."""
    return (
        Entry.objects.filter(Entry.certified_final_q(), batch=batch)
        .select_related("batch", "batch__owner", "school", "certifier", "exempt_title")
        .order_by("pk")
    )


@db_task(retries=0)
def render_certificates_task(batch_id: int) -> int:
    """Render the certificates of a published batch, each once (skips those stored)."""
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None:
        return 0
    done = 0
    for entry in final_certified(batch).iterator(chunk_size=500):
        ensure_stored(certificate_document(entry))
        done += 1
    logger.info("batch %s: %s certificates stored", batch.code, done)
    return done
