"""Background jobs of the notices' documents: large summary tables, a queue's forms as a ZIP,
and the published lists, rendered once when they are published (``stored.py``).

Each job re-enters the starting user's scope (``job.scope()``) and reads through the same
selectors as the pages, so it cannot see more than its user did when it started, nor more
than the user may see now.
"""

from __future__ import annotations

import contextlib
import logging

from django.db import transaction
from django.dispatch import receiver
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from huey.contrib.djhuey import db_task

from edupilot.core.jobs import JobError, JobResult, register_job
from edupilot.documents.xlsx import export_job_result
from edupilot.selection.signals import announcement_published, final_list_published

from .announcements import announcement_document
from .forms import QUEUES, forms_zip
from .stored import Stored, claim_render, ensure_stored
from .summaries import (
    SummaryExport,
    access_document_programme,
    access_summary_spec,
    summary_target,
)

logger = logging.getLogger(__name__)
GONE = "要导出的内容不存在，或您已无权查看。"
# Published documents rendered in the background: kind -> the object's document (by pk).
PUBLISHED = {"announcement": announcement_document}


@register_job("documents.summary_xlsx", label=_("汇总表导出"))
def summary_xlsx_job(job, report) -> JobResult:
    scope = job.scope()
    try:
        programme = access_document_programme(scope, job.params["programme"])
        spec = access_summary_spec(programme, job.params["table"])
        target = summary_target(scope, job.params.get("org") or None)
    except Http404 as exc:
        raise JobError(GONE) from exc
    filler = job.created_by.display_name if job.created_by else ""
    report(0, None, "正在汇总")
    return export_job_result(
        SummaryExport(scope=scope, spec=spec, target=target, filler=filler), report
    )


@register_job("documents.forms_zip", label=_("申报表 PDF 打包下载"))
def forms_zip_job(job, report) -> JobResult:
    scope = job.scope()
    queue = job.params.get("queue", "pending")
    category = job.params.get("category", "")
    try:
        programme = access_document_programme(scope, job.params["programme"])
    except Http404 as exc:
        raise JobError(GONE) from exc
    if queue not in QUEUES or (category and programme.parsed.category(category) is None):
        raise JobError(GONE)
    path = forms_zip(scope, programme, queue=queue, category=category, progress=report)
    cat = programme.parsed.category(category) if category else None
    name = f"{programme.parsed.short_title or programme.title}-{QUEUES[queue]}申报表"
    if cat is not None:
        name += f"-{cat.name}"
    return JobResult(f"{name}.zip", "application/zip", content=path, delete_after=True)


# --- published documents: rendered once, then served as files --------------------------------


@db_task(retries=1, retry_delay=30)
def render_published_task(kind: str, object_id: str) -> None:
    try:
        doc = PUBLISHED[kind](object_id)
    except (KeyError, Http404):
        logger.warning("published document %s %s is gone", kind, object_id)
        return
    ensure_stored(doc)


def start_render(doc: Stored) -> None:
    """Start the background render of ``doc`` (on commit) unless one is under way."""
    if claim_render(doc):
        transaction.on_commit(lambda: render_published_task(doc.kind, doc.object_id))


def render_when_published(kind: str, object_id) -> None:
    """After the publishing transaction commits, start rendering the published document."""

    def start() -> None:
        with contextlib.suppress(Http404):  # gone before the commit hook ran
            start_render(PUBLISHED[kind](object_id))

    transaction.on_commit(start)


@receiver(announcement_published, dispatch_uid="documents.announcement_published")
@receiver(final_list_published, dispatch_uid="documents.final_list_published")
def _announcement_changed(sender, announcement, **kwargs) -> None:
    render_when_published("announcement", announcement.pk)
