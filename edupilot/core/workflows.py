"""A background job's lifecycle (exports, batch PDFs), as a table."""

from django.utils.translation import gettext_lazy as _

from .models import JobState
from .workflow import NEW, T, Workflow

_JOBS = "edupilot.core.jobs"
WORKER = _("后台任务进程")

JOB = Workflow(
    "job",
    "core.Job",
    JobState,
    [
        T(
            "queue",
            NEW,
            JobState.QUEUED,
            f"{_JOBS}.job_start",
            who=_("发起任务的用户"),
            label=_("发起"),
        ),  # fmt: skip
        T(
            "claim",
            JobState.QUEUED,
            JobState.RUNNING,
            f"{_JOBS}.job_run",
            who=WORKER,
            label=_("开始执行"),
        ),  # fmt: skip
        T(
            "finish",
            JobState.RUNNING,
            JobState.DONE,
            f"{_JOBS}.job_run",
            who=WORKER,
            label=_("完成"),
        ),  # fmt: skip
        T(
            "fail",
            [JobState.QUEUED, JobState.RUNNING],
            JobState.FAILED,
            f"{_JOBS}.job_run",
            who=WORKER,
            label=_("失败"),
        ),  # fmt: skip
        # A worker that died: its job is failed by the housekeeping task.
        T(
            "abandon",
            JobState.RUNNING,
            JobState.FAILED,
            f"{_JOBS}.jobs_housekeeping",
            who=WORKER,
            label=_("中断"),
        ),  # fmt: skip
    ],
    title=_("后台任务"),
)
