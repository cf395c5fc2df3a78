"""One job end to end through a real Huey consumer thread and the on-disk SQLite task queue.

Runs as a transactional test: the worker thread has its own database connection and must
see the committed job row, as it would in production (on SQLite the test database is
Django's shared-cache in-memory database, which other threads of the process can open).
"""

import threading

import pytest
from django.core.files.storage import default_storage
from huey import SqliteHuey
from huey.contrib.djhuey import HUEY
from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR

from edupilot.audit.services import Actor
from edupilot.core import jobs
from edupilot.core.models import Job, JobState
from edupilot.orgs.models import Membership, Role
from edupilot.orgs.scoping import Scope
from tests.conftest import make_school, make_user, org

from .test_jobs import school_names  # noqa: F401  (registers the job kind)


@pytest.fixture
def real_queue():
    assert isinstance(HUEY, SqliteHuey)
    HUEY.immediate = False  # back to the SQLite file under EDUPILOT_DATA_DIR
    HUEY.flush()
    finished = threading.Event()

    def on_finished(signal, task, exc=None):
        finished.set()

    # Wait for Huey's own signal rather than polling the job row: while the worker writes,
    # the test thread keeps off the shared in-memory SQLite database, whose table locks do
    # not wait (busy_timeout does not apply to them).
    HUEY.signal(SIGNAL_COMPLETE, SIGNAL_ERROR)(on_finished)
    try:
        yield HUEY, finished
    finally:
        HUEY.disconnect_signal(on_finished)
        jobs.stop_worker_thread()
        HUEY.flush()
        HUEY.immediate = True


def test_job_through_a_real_consumer_thread(transactional_seeded, real_queue):
    queue, finished = real_queue
    school = make_school(org("金水区"), "金水区工作线程小学")
    make_school(org("二七区"), "二七区工作线程小学")
    user = make_user(org("金水区"), Role.REVIEWER)
    scope = Scope.for_membership(Membership.objects.select_related("org").get(user=user))

    job = jobs.job_start("test.school_names", actor=Actor(user=user), scope=scope, params={})
    # Committed (autocommit) and queued in the SQLite task file, not run yet.
    assert len(queue) == 1
    assert Job.objects.get(pk=job.pk).state == JobState.QUEUED

    consumer = jobs.start_worker_thread(workers=1, periodic=False)
    assert consumer is not None
    assert jobs.start_worker_thread() is None  # one per process

    # The limit only keeps a broken worker from hanging the suite; it asserts no timing.
    assert finished.wait(120), "the worker did not finish the task"
    job.refresh_from_db()
    assert job.state == JobState.DONE, job.error
    with default_storage.open(job.result_path) as fh:
        names = fh.read().decode().splitlines()
    assert school.name in names and "二七区工作线程小学" not in names
    assert len(queue) == 0
