"""One job end to end through a real Huey consumer thread and the on-disk SQLite task queue.

Runs as a transactional test: the worker thread has its own database connection and must
see the committed job row, as it would in production (on SQLite the test database is
Django's shared-cache in-memory database, which other threads of the process can open).
"""

import time

import pytest
from huey import SqliteHuey
from huey.contrib.djhuey import HUEY

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
    try:
        yield HUEY
    finally:
        jobs.stop_worker_thread()
        HUEY.flush()
        HUEY.immediate = True


def wait_finished(job_id: int, limit: float = 60.0) -> Job:
    # Waiting is not a timed assertion: the limit only stops a broken test from hanging.
    end = time.monotonic() + limit
    while time.monotonic() < end:
        job = Job.objects.get(pk=job_id)
        if job.is_finished:
            return job
        time.sleep(0.1)
    job = Job.objects.get(pk=job_id)
    raise AssertionError(f"job {job_id} did not finish: {job.state} {job.error}")


def test_job_through_a_real_consumer_thread(transactional_seeded, real_queue):
    school = make_school(org("金水区"), "金水区工作线程小学")
    make_school(org("二七区"), "二七区工作线程小学")
    user = make_user(org("金水区"), Role.REVIEWER)
    scope = Scope.for_membership(Membership.objects.select_related("org").get(user=user))

    job = jobs.job_start("test.school_names", actor=Actor(user=user), scope=scope, params={})
    # Committed (autocommit) and queued in the SQLite task file, not run yet.
    assert len(real_queue) == 1
    assert Job.objects.get(pk=job.pk).state == JobState.QUEUED

    consumer = jobs.start_worker_thread(workers=1, periodic=False)
    assert consumer is not None
    assert jobs.start_worker_thread() is None  # one per process

    job = wait_finished(job.pk)
    assert job.state == JobState.DONE, job.error
    from django.core.files.storage import default_storage

    with default_storage.open(job.result_path) as fh:
        names = fh.read().decode().splitlines()
    assert school.name in names and "二七区工作线程小学" not in names
    assert len(real_queue) == 0
