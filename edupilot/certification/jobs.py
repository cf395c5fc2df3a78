"""Background jobs: imports, assessment and result tables, with progress pages.

Each job re-enters the starting user's scope (``job.scope()``) and reads through the
selectors, so a job never sees more than its user did.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from edupilot.audit.services import Actor
from edupilot.core.jobs import JobError, JobResult, register_job
from edupilot.documents.xlsx import export_job_result
from edupilot.orgs.models import Membership

from . import selectors, services
from .exports import BatchResultsExport, ImportIssuesExport
from .models import ImportState


def _actor(job) -> Actor:
    membership = Membership.objects.select_related("org").filter(pk=job.membership_id).first()
    return Actor(user=job.created_by, org=membership.org if membership else None)


@register_job("certification.import", label=_("认定数据导入"))
def import_job(job, report) -> JobResult:
    scope = job.scope()
    run = selectors.access_import(scope, job.params["run_id"])
    if run.state != ImportState.RUNNING:
        raise JobError("该导入已处理完毕")
    run = services.import_execute(run=run, scope=scope, progress=report)
    if run.state == ImportState.FAILED:
        raise JobError(run.message)
    return export_job_result(ImportIssuesExport(run), report)


@register_job("certification.assess", label=_("认定自动评估"))
def assess_job(job, report) -> JobResult:
    scope = job.scope()
    batch = selectors.access_batch(scope, job.params["batch_id"])
    try:
        services.batch_assess(batch=batch, actor=_actor(job), scope=scope, progress=report)
    except services.Refused as exc:
        raise JobError(str(exc)) from exc
    return export_job_result(BatchResultsExport(scope=scope, batch=batch), report)


@register_job("certification.results_xlsx", label=_("认定结果导出"))
def results_job(job, report) -> JobResult:
    scope = job.scope()
    batch = selectors.access_batch(scope, job.params["batch_id"])
    certifier_id = job.params.get("certifier_id")
    return export_job_result(
        BatchResultsExport(scope=scope, batch=batch, certifier_id=certifier_id), report
    )
