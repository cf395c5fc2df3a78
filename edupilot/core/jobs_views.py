"""Pages of background jobs: list, progress (polled by htmx, refreshed without JS), download."""

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import render

from .jobs import KEEP_RESULTS, access_job, job_check_alive, jobs_for, jobs_sweep
from .models import JobState


@login_required
def job_list(request):
    jobs_sweep(jobs_for(request.scope))  # a job whose worker died shows as failed at once
    jobs = list(jobs_for(request.scope)[:50])
    return render(request, "core/job_list.html", {"jobs": jobs, "keep_days": KEEP_RESULTS.days})


@login_required
def job_detail(request, pk: int):
    job = access_job(request.scope, pk)
    job = job_check_alive(job)  # its worker died: say so, stop spinning
    context = {"job": job}
    if request.htmx:
        return render(request, "core/_job_progress.html", context)
    return render(request, "core/job_detail.html", context)


@login_required
def job_download(request, pk: int):
    job = access_job(request.scope, pk)
    if job.state != JobState.DONE or not job.result_path:
        raise Http404
    try:
        fh = default_storage.open(job.result_path, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    return FileResponse(
        fh,
        as_attachment=True,
        filename=job.result_name or "result",
        content_type=job.result_content_type or "application/octet-stream",
    )
