"""A background job's lifecycle (exports, batch PDFs), as a table."""

from django.utils.translation import gettext_lazy as _

from .models import JobState
from .workflow import NEW, T, Workflow

_JOBS = "edupilot.core.jobs"
WORKER = _("后台任务进程")

QUEUED, RUNNING, DONE, FAILED = JobState.QUEUED, JobState.RUNNING, JobState.DONE, JobState.FAILED

# A worker that died (no heartbeat for a minute): its job is failed by the sweep ("abandon").
# fmt: off
ROWS = [
    T("queue",   NEW,               QUEUED,  f"{_JOBS}.job_start",  who=_("发起任务的用户"), label=_("发起")),
    T("claim",   QUEUED,            RUNNING, f"{_JOBS}.job_run",    who=WORKER, label=_("开始执行")),
    T("finish",  RUNNING,           DONE,    f"{_JOBS}.job_run",    who=WORKER, label=_("完成")),
    T("fail",    [QUEUED, RUNNING], FAILED,  f"{_JOBS}.job_run",    who=WORKER, label=_("失败")),
    T("abandon", RUNNING,           FAILED,  f"{_JOBS}.jobs_sweep", who=WORKER, label=_("中断")),
]
# fmt: on

JOB = Workflow("job", "core.Job", JobState, ROWS, title=_("后台任务"))
