"""A job whose worker is killed (SIGKILL during an export) is failed visibly within a minute.

The export runs in a real process (``tests.crash_child``) with a fast heartbeat; the test kills
it outright, then checks that the sweep leaves a job with a fresh heartbeat alone and fails
it once the heartbeat is older than a minute, with a reason the user reads on the job page.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from huey.contrib.djhuey import HUEY

import tests.crash_jobs  # noqa: F401  (registers test.long_export)
from edupilot.audit.services import Actor
from edupilot.core import jobs
from edupilot.core.models import Job, JobState
from edupilot.orgs.models import Membership, Role
from edupilot.orgs.scoping import Scope
from tests.conftest import make_user, org
from tests.crash import CrashChild


def _wait_for(predicate, what: str, limit: float = 60.0):
    """Wait for another process to get somewhere (a bound against hangs, not a timing test)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


@pytest.fixture
def queued_job(transactional_seeded):
    user = make_user(org("金水区"), Role.REVIEWER)
    scope = Scope.for_membership(Membership.objects.select_related("org").get(user=user))
    HUEY.immediate = False  # queue it without running it here; the child process runs it
    try:
        job = jobs.job_start("test.long_export", actor=Actor(user=user), scope=scope)
    finally:
        HUEY.flush()
        HUEY.immediate = True
    assert Job.objects.get(pk=job.pk).state == JobState.QUEUED
    return job, user


@pytest.mark.django_db(transaction=True)
def test_sigkill_during_an_export_fails_the_job_within_a_minute(queued_job, client, monkeypatch):
    job, user = queued_job
    monkeypatch.setenv("EDUPILOT_JOB_HEARTBEAT_SECONDS", "0.1")
    child = CrashChild()
    try:
        pid = child.run({"op": "job", "job": job.pk, "pid_only": True})["pid"]
        first = _wait_for(
            lambda: (
                Job.objects.filter(pk=job.pk, state=JobState.RUNNING, done=1)
                .values_list("heartbeat_at", flat=True)
                .first()
            ),
            "the export to start",
        )
        # The job function no longer reports; the heartbeat thread still stamps the job.
        _wait_for(
            lambda: Job.objects.filter(pk=job.pk, heartbeat_at__gt=first).exists(),
            "a heartbeat",
        )
        # Alive: a sweep now leaves it running.
        assert jobs.jobs_sweep() == 0

        os.kill(pid, signal.SIGKILL)
        assert child.receive()["killed"]
    finally:
        child.close()

    job.refresh_from_db()
    assert job.state == JobState.RUNNING  # nobody has noticed yet
    last = job.heartbeat_at
    assert jobs.jobs_sweep(now=last + jobs.STALE_AFTER / 2) == 0
    assert jobs.jobs_sweep(now=last + jobs.STALE_AFTER + jobs.STALE_AFTER / 60) == 1
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "后台进程已停止" in job.error_public
    assert jobs.STALE_AFTER.total_seconds() <= 60


@pytest.mark.django_db(transaction=True)
def test_the_job_page_shows_a_dead_worker_at_once(queued_job, client, monkeypatch):
    job, user = queued_job
    monkeypatch.setenv("EDUPILOT_JOB_HEARTBEAT_SECONDS", "0.1")
    child = CrashChild()
    try:
        pid = child.run({"op": "job", "job": job.pk, "pid_only": True})["pid"]
        _wait_for(
            lambda: Job.objects.filter(pk=job.pk, state=JobState.RUNNING, done=1).exists(),
            "the export to start",
        )
        os.kill(pid, signal.SIGKILL)
        assert child.receive()["killed"]
    finally:
        child.close()

    client.force_login(user)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "后台进程已停止" not in page  # its last heartbeat is recent: still shown running
    # A minute later (the heartbeat moved back instead of waiting) the page itself notices.
    stale = Job.objects.get(pk=job.pk).heartbeat_at - jobs.STALE_AFTER * 2
    Job.objects.filter(pk=job.pk).update(heartbeat_at=stale)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "后台进程已停止" in page
    assert Job.objects.get(pk=job.pk).state == JobState.FAILED
