"""Background jobs with progress: long exports and batch documents, run by the Huey worker.

Register a job function under a kind, start it from a view, and send the user to its page::

    from edupilot.core.jobs import JobError, JobResult, job_start, register_job

    @register_job("review.summary_xlsx")
    def summary_xlsx(job, report) -> JobResult:
        scope = job.scope()                      # the starting user's scope, re-entered
        programme = access(Programme.objects, scope, job.params["programme_id"])
        report(0, 120, "正在汇总")                # done, total, message (throttled)
        ...
        return JobResult("汇总表.xlsx", XLSX_CONTENT_TYPE, content=b"..." or path)

    job = job_start("review.summary_xlsx", actor=actor_from(request), scope=request.scope,
                    params={"programme_id": programme.pk})
    return redirect("core:job_detail", job.pk)

The job function runs in the worker, outside any request. It must read everything through
``job.scope()`` (never ``Model.objects`` unfiltered), so it cannot see more than the user who
started it; a membership revoked meanwhile makes the job fail. Raise :class:`JobError` with a
Chinese message to fail with that message; any other exception fails the job with a generic
message and keeps the traceback for administrators.

The worker: ``edupilot serve`` starts ``edupilot run_huey`` beside the web server (embedded
default: the SQLite task queue); at scale run ``edupilot run_huey`` processes against Redis
(docs/deployment.md). :func:`start_worker_thread` runs the same consumer as threads inside
the current process. While a job runs, a heartbeat thread stamps it every
``HEARTBEAT_SECONDS``; a running job without a heartbeat for ``STALE_AFTER`` (a minute) is
taken to have died with its worker and is failed with a reason the user sees. The check runs
every minute (a periodic task) and whenever the job's page is read.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import secrets
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from huey import crontab
from huey.consumer import Consumer
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from edupilot.audit.services import Actor, audit_record
from edupilot.orgs.scoping import Scope, get_or_404

from .models import Job, JobState
from .workflows import JOB

logger = logging.getLogger(__name__)

# The progress bar need not be exact; writing it more often only adds database load.
REPORT_INTERVAL_SECONDS = 0.5
# While a job runs, a thread beside it stamps ``heartbeat_at`` this often, whatever the job
# function is doing. A running job whose heartbeat is older than ``STALE_AFTER`` has lost
# its worker (killed, crashed, restarted): it is failed, visibly, within about a minute.
STALE_AFTER = timedelta(seconds=int(getattr(settings, "EDUPILOT_JOB_STALE_SECONDS", 60)))
HEARTBEAT_SECONDS = float(getattr(settings, "EDUPILOT_JOB_HEARTBEAT_SECONDS", 15))
# Result files are removed after this many days; the job row stays as a record.
KEEP_RESULTS = timedelta(days=int(getattr(settings, "EDUPILOT_JOB_KEEP_DAYS", 7)))


class JobError(Exception):
    """Raised by a job function: the job fails and the user sees this (Chinese) message."""


class UnknownJobKind(ValueError):
    pass


@dataclass(frozen=True)
class JobResult:
    """What a job produced: a file to download.

    ``content`` is bytes, or a path to a file (moved into storage; with ``delete_after``
    the file is removed afterwards, for temporary files).
    """

    filename: str
    content_type: str
    content: bytes | str | os.PathLike
    delete_after: bool = False


Report = Callable[..., None]
JobFunction = Callable[[Job, Report], JobResult]

_REGISTRY: dict[str, JobFunction] = {}
_LABELS: dict[str, object] = {}


def register_job(kind: str, label=None) -> Callable[[JobFunction], JobFunction]:
    """Register ``fn(job, report) -> JobResult`` under ``kind`` (e.g. ``"review.summary_xlsx"``).

    ``label`` is what users see on the job pages (a lazy translation, e.g.
    ``gettext_lazy("汇总表导出")``); without one they see the kind itself.
    """

    def decorator(fn: JobFunction) -> JobFunction:
        existing = _REGISTRY.get(kind)
        if existing is not None and existing.__qualname__ != fn.__qualname__:
            raise ValueError(f"job kind {kind!r} is already registered by {existing.__module__}")
        _REGISTRY[kind] = fn
        if label is not None:
            _LABELS[kind] = label
        return fn

    return decorator


def job_label(kind: str) -> str:
    """The user-facing name of a job kind, in the active language."""
    return str(_LABELS.get(kind, kind))


def job_kinds() -> list[str]:
    return sorted(_REGISTRY)


# --- reading ------------------------------------------------------------------------------


def access_job(scope: Scope, pk) -> Job:
    """The job, if ``scope`` started it (same user, same membership); otherwise 404."""
    from django.http import Http404

    if not scope.is_authenticated:
        raise Http404
    return get_or_404(
        Job.objects, pk=pk, created_by_id=scope.user_id, membership_id=scope.membership_id
    )


def jobs_for(scope: Scope):
    """The jobs ``scope`` started, newest first."""
    if not scope.is_authenticated:
        return Job.objects.none()
    return Job.objects.filter(created_by_id=scope.user_id, membership_id=scope.membership_id)


# --- starting ---------------------------------------------------------------------------


def job_start(kind: str, *, actor: Actor, scope: Scope, params: dict | None = None) -> Job:
    """Record a job and queue it to run once the surrounding transaction commits."""
    if kind not in _REGISTRY:
        raise UnknownJobKind(kind)
    user = actor.user
    if not scope.is_authenticated or user is None or scope.user_id != user.pk:
        raise PermissionDenied(_("请先选择一个机构身份再发起任务。"))
    # Parameters must survive the trip through JSON, as the worker will read them back.
    params = json.loads(json.dumps(params or {}, cls=DjangoJSONEncoder))
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            params=params,
            created_by_id=scope.user_id,
            membership_id=scope.membership_id,
            state=JOB.initial("queue"),
        )
        audit_record(actor=actor, action="job.start", obj=job, after={"kind": kind, **params})
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    try:
        run_job_task(job_id)
    except Exception:
        # The queue is down (Redis unreachable): the user should see a failed job, not a spinner.
        logger.exception("could not queue job %s", job_id)
        _fail(job_id, _("无法加入任务队列，请稍后重试。"), traceback.format_exc())


@db_task(retries=0)
def run_job_task(job_id: int) -> None:
    job_run(job_id=job_id)


# --- running ----------------------------------------------------------------------------


class _Reporter:
    """The ``report(done, total, message="")`` a job function receives."""

    def __init__(self, job: Job):
        self.job_id = job.pk
        self.done = 0
        self.total: int | None = None
        self.message = ""
        self._last = float("-inf")

    def __call__(self, done: int, total: int | None = None, message: str = "") -> None:
        self.done = max(0, int(done))
        self.total = None if total is None else max(0, int(total))
        if message:
            self.message = str(message)[:300]
        now = time.monotonic()
        finished = self.total is not None and self.done >= self.total
        if now - self._last < REPORT_INTERVAL_SECONDS and not finished:
            return
        self._last = now
        Job.objects.filter(pk=self.job_id, state=JobState.RUNNING).update(
            done=self.done,
            total=self.total,
            message=self.message,
            heartbeat_at=timezone.now(),
        )


class _Heartbeat:
    """Stamps the running job's ``heartbeat_at`` from a thread until stopped.

    The job function may spend minutes in one call (a large export) without reporting; the
    heartbeat shows that its process is alive. A process killed outright stops beating.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"job-{job_id}-heartbeat", daemon=True
        )

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        from django.db import connection

        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                try:
                    Job.objects.filter(pk=self.job_id, state=JobState.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception:
                    logger.exception("job %s: heartbeat not written", self.job_id)
        finally:
            connection.close()


def job_run(*, job_id: int) -> Job:
    """Run one queued job to its end (done or failed). Running it twice runs it once."""
    now = timezone.now()
    claimed = JOB.advance_many(
        Job.objects.filter(pk=job_id), "claim", started_at=now, heartbeat_at=now
    )
    job = Job.objects.get(pk=job_id)
    if not claimed:
        return job
    fn = _REGISTRY.get(job.kind)
    if fn is None:
        return _fail(job.pk, _("未知的任务类型：%(kind)s") % {"kind": job.kind}, "")
    if not job.scope().is_authenticated:
        return _fail(job.pk, _("发起任务的账号或机构身份已停用，任务未执行。"), "")
    report = _Reporter(job)
    try:
        with _Heartbeat(job.pk):
            result = fn(job, report)
            if not isinstance(result, JobResult):
                raise TypeError(f"job {job.kind} returned {type(result).__name__}, not JobResult")
            stored = _store_result(job, result)
    except JobError as exc:
        return _fail(job.pk, str(exc), traceback.format_exc())
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        return _fail(job.pk, _("任务执行出错，请稍后重试或联系管理员。"), traceback.format_exc())
    total = report.total if report.total is not None else report.done
    JOB.advance_many(
        Job.objects.filter(pk=job.pk),
        "finish",
        done=max(report.done, total),
        total=total,
        message=report.message,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        **stored,
    )
    job.refresh_from_db()
    return job


def _store_result(job: Job, result: JobResult) -> dict:
    suffix = Path(result.filename).suffix.lower()
    suffix = suffix if suffix.isascii() and len(suffix) <= 10 else ""
    # An unguessable ASCII storage name; the user's file name is kept in result_name.
    name = f"jobs/{timezone.now():%Y/%m}/{job.pk}-{secrets.token_hex(8)}{suffix}"
    content = result.content
    if isinstance(content, bytes | bytearray):
        stored = default_storage.save(name, ContentFile(bytes(content)))
        size = len(content)
    else:
        path = Path(content)
        with path.open("rb") as fh:
            stored = default_storage.save(name, File(fh))
        size = path.stat().st_size
        if result.delete_after:
            path.unlink(missing_ok=True)
    return {
        "result_name": result.filename[:255],
        "result_path": stored,
        "result_content_type": result.content_type[:100],
        "result_size": size,
    }


def _fail(job_id: int, public: str, detail: str) -> Job:
    JOB.advance_many(
        Job.objects.filter(pk=job_id),
        "fail",
        error_public=public[:500],
        error=detail,
        finished_at=timezone.now(),
    )
    return Job.objects.get(pk=job_id)


# --- housekeeping -------------------------------------------------------------------------


def jobs_sweep(jobs=None, now=None) -> int:
    """Fail the running jobs (of ``jobs``, default all) whose worker stopped beating.

    The user sees why on the job's page and may start it again; nothing re-runs by itself,
    as a job that killed its worker (memory, a crash) would only do so again.
    """
    now = now or timezone.now()
    jobs = Job.objects.all() if jobs is None else jobs
    stale = jobs.filter(state=JobState.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
    return JOB.advance_many(
        stale,
        "abandon",
        error_public=_("任务中断：执行任务的后台进程已停止（超过 %(s)s 秒没有响应），请重新发起。")
        % {"s": int(STALE_AFTER.total_seconds())},
        error=f"heartbeat older than {STALE_AFTER} at {now.isoformat()}",
        finished_at=now,
    )


def job_check_alive(job: Job) -> Job:
    """The job as it is now, failed first if it is running without a heartbeat (on reading)."""
    if job.state == JobState.RUNNING and jobs_sweep(Job.objects.filter(pk=job.pk)):
        job.refresh_from_db()
    return job


def jobs_housekeeping(now=None) -> tuple[int, int]:
    """Fail jobs whose worker died, and remove old result files. Returns (failed, purged)."""
    now = now or timezone.now()
    failed = jobs_sweep(now=now)
    purged = 0
    old = Job.objects.filter(finished_at__lt=now - KEEP_RESULTS).exclude(result_path="")
    for job in old.only("pk", "result_path").iterator():
        try:
            default_storage.delete(job.result_path)
        except OSError:
            logger.warning("could not delete job result %s", job.result_path)
            continue
        Job.objects.filter(pk=job.pk).update(result_path="")
        purged += 1
    return failed, purged


@db_periodic_task(crontab(minute="*"))
def jobs_sweep_task() -> None:
    jobs_sweep()


@db_periodic_task(crontab(minute="17"))
def jobs_housekeeping_task() -> None:
    jobs_housekeeping()


# --- the worker ------------------------------------------------------------------------------


class _ThreadConsumer(Consumer):
    """Huey's consumer without signal handlers: it runs beside the web server, which owns them."""

    def _set_signal_handlers(self):
        pass


_worker_lock = threading.Lock()
_worker: _ThreadConsumer | None = None


def start_worker_thread(*, workers: int | None = None, periodic: bool = True):
    """Start Huey's consumer (worker threads and the periodic scheduler) in this process.

    For a single-process server (gunicorn's workers fork, so ``serve`` uses a child
    ``run_huey`` process instead) and for tests. Returns the consumer, or None when tasks run
    immediately (tests) or it already runs. Periodic tasks run wherever a consumer has
    ``periodic=True``: keep that to one per task queue.
    """
    global _worker
    with _worker_lock:
        if HUEY.immediate or _worker is not None:
            return None
        options = dict(settings.HUEY.get("consumer", {})) if isinstance(settings.HUEY, dict) else {}
        consumer = _ThreadConsumer(
            HUEY,
            workers=workers or int(options.get("workers", 2)),
            periodic=periodic,
            worker_type="thread",
            # Poll the queue at least every two seconds so a job starts soon after its click.
            max_delay=2.0,
            check_worker_health=True,
        )
        consumer.start()
        supervisor = threading.Thread(
            target=_supervise, args=(consumer,), name="huey-supervisor", daemon=True
        )
        supervisor.start()
        _worker = consumer
        atexit.register(stop_worker_thread)
        return consumer


def _supervise(consumer: Consumer) -> None:
    # Huey's own run() loop restarts dead workers; this is that loop without the signals.
    while not consumer.stop_flag.wait(10):
        try:
            consumer.check_worker_health()
        except Exception:
            logger.exception("task worker health check failed")


def stop_worker_thread(graceful: bool = True) -> None:
    """Stop the consumer started by :func:`start_worker_thread` (waits for running tasks)."""
    global _worker
    with _worker_lock:
        consumer, _worker = _worker, None
    if consumer is not None:
        consumer.stop(graceful=graceful)
