"""Background jobs: start, progress, result, failures, and who may see them."""

import datetime as dt
import re

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from edupilot.audit.models import AuditEvent
from edupilot.audit.services import Actor
from edupilot.core.jobs import (
    JobError,
    JobResult,
    UnknownJobKind,
    job_run,
    job_start,
    jobs_housekeeping,
    register_job,
)
from edupilot.core.models import Job, JobState
from edupilot.documents.xlsx import Column, XlsxExport, export_job_result
from edupilot.orgs.models import Membership, Org, OrgKind, Role
from edupilot.orgs.scoping import Scope, scoped
from tests.conftest import make_school, make_user, org

CALLS: list[int] = []


@register_job("test.school_names", label="学校名单导出")
def school_names(job, report):
    """Lists the schools the starting user may see: proves the job re-enters that scope."""
    CALLS.append(job.pk)
    names = list(
        scoped(Org.objects.filter(kind=OrgKind.SCHOOL), job.scope())
        .order_by("name")
        .values_list("name", flat=True)
    )
    for i, _name in enumerate(names, 1):
        report(i, len(names), "正在列出学校")
    return JobResult("学校名单.txt", "text/plain", "\n".join(names).encode())


@register_job("test.refuses")
def refuses(job, report):
    raise JobError("所选项目没有可导出的申报。")


@register_job("test.crashes")
def crashes(job, report):
    raise RuntimeError("internal detail that users must not see")


class SchoolsExport(XlsxExport):
    title = "学校"
    columns = [Column("学校名称", 30)]

    def __init__(self, scope):
        self.scope = scope

    def rows(self):
        qs = scoped(Org.objects.filter(kind=OrgKind.SCHOOL), self.scope).order_by("name")
        for name in qs.values_list("name", flat=True):
            yield [name]


@register_job("test.schools_xlsx")
def schools_xlsx(job, report):
    return export_job_result(SchoolsExport(job.scope()), report)


@pytest.fixture
def county_world(seeded):
    """Two counties with a school each and a reviewer each; look-alike data on purpose."""
    jinshui, erqi = org("金水区"), org("二七区")
    a = make_school(jinshui, "金水区实验小学")
    b = make_school(erqi, "二七区实验小学")
    return {
        "jinshui": jinshui,
        "erqi": erqi,
        "school_a": a,
        "school_b": b,
        "reviewer_a": make_user(jinshui, Role.REVIEWER),
        "reviewer_b": make_user(erqi, Role.REVIEWER),
    }


def scope_of(user) -> Scope:
    return Scope.for_membership(Membership.objects.get(user=user))


def start(user, kind, params=None, capture=None) -> Job:
    return job_start(kind, actor=Actor(user=user), scope=scope_of(user), params=params or {})


def test_job_runs_on_commit_in_the_starting_users_scope(
    county_world, django_capture_on_commit_callbacks
):
    user = county_world["reviewer_a"]
    with django_capture_on_commit_callbacks(execute=True):
        job = start(user, "test.school_names", {"note": "金水"})
        # Nothing runs before the transaction commits.
        assert Job.objects.get(pk=job.pk).state == JobState.QUEUED
    job.refresh_from_db()
    assert job.state == JobState.DONE
    assert job.done == job.total and job.total >= 1
    assert job.result_name == "学校名单.txt"
    with default_storage.open(job.result_path) as fh:
        names = fh.read().decode().splitlines()
    assert "金水区实验小学" in names
    assert "二七区实验小学" not in names  # another county's school stays invisible
    assert job.params == {"note": "金水"}
    assert AuditEvent.objects.filter(action="job.start", object_id=str(job.pk)).exists()


def test_progress_page_and_download_for_the_creator_only(
    county_world, client, django_capture_on_commit_callbacks
):
    owner, other = county_world["reviewer_a"], county_world["reviewer_b"]
    with django_capture_on_commit_callbacks(execute=True):
        job = start(owner, "test.school_names")
    client.force_login(owner)
    page = client.get(reverse("core:job_detail", args=[job.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "已完成" in html and reverse("core:job_download", args=[job.pk]) in html
    assert "hx-trigger" not in html  # finished: the page stops polling
    download = client.get(reverse("core:job_download", args=[job.pk]))
    assert download.status_code == 200
    assert "金水区实验小学" in b"".join(download.streaming_content).decode()
    assert "filename*=utf-8''" in download["Content-Disposition"]
    assert "学校名单导出" in html and "test.school_names" not in html  # the label, not the kind
    listing = client.get(reverse("core:job_list")).content.decode()
    assert f'href="{reverse("core:job_detail", args=[job.pk])}"' in listing
    assert "学校名单导出" in listing

    # Another reviewer in another county, and a school inside the owner's own county: the
    # job does not exist for them.
    school_user = make_user(county_world["school_a"], Role.APPLICANT)
    for intruder in (other, school_user):
        client.force_login(intruder)
        for name in ("core:job_detail", "core:job_download"):
            response = client.get(reverse(name, args=[job.pk]))
            assert response.status_code == 404
            assert "金水区实验小学" not in response.content.decode()
        assert f"/jobs/{job.pk}/" not in client.get(reverse("core:job_list")).content.decode()

    # The same user acting through another membership (another province) does not see it.
    Membership.objects.create(user=owner, org=org("330100"), role=Role.REVIEWER)
    client.force_login(owner)
    session = client.session
    session["active_membership_id"] = Membership.objects.get(user=owner, org=org("330100")).pk
    session.save()
    assert client.get(reverse("core:job_detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("core:job_download", args=[job.pk])).status_code == 404

    client.logout()
    response = client.get(reverse("core:job_download", args=[job.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_queued_page_polls_with_htmx_and_refreshes_without_javascript(county_world, client):
    user = county_world["reviewer_a"]
    job = start(user, "test.school_names")  # on_commit never fires here: stays queued
    client.force_login(user)
    html = client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert '<noscript><meta http-equiv="refresh"' in html
    assert 'hx-trigger="every 1s"' in html
    partial = client.get(reverse("core:job_detail", args=[job.pk]), HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="job-progress"') and "<html" not in body


def test_running_job_shows_its_progress(county_world, client):
    user = county_world["reviewer_a"]
    job = start(user, "test.school_names")
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, done=30, total=120, message="正在汇总"
    )
    client.force_login(user)
    html = client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert 'value="25"' in html and "30 / 120" in html and "正在汇总" in html


def test_job_error_message_is_shown_and_crash_details_are_not(
    county_world, client, django_capture_on_commit_callbacks
):
    user = county_world["reviewer_a"]
    with django_capture_on_commit_callbacks(execute=True):
        refused = start(user, "test.refuses")
        crashed = start(user, "test.crashes")
    refused.refresh_from_db()
    crashed.refresh_from_db()
    assert refused.state == crashed.state == JobState.FAILED
    assert "RuntimeError" in crashed.error  # kept for administrators
    client.force_login(user)
    html = client.get(reverse("core:job_detail", args=[refused.pk])).content.decode()
    assert "所选项目没有可导出的申报。" in html
    html = client.get(reverse("core:job_detail", args=[crashed.pk])).content.decode()
    assert "任务执行出错" in html and "internal detail" not in html
    assert client.get(reverse("core:job_download", args=[crashed.pk])).status_code == 404


def test_a_revoked_membership_stops_the_job_before_it_runs(county_world):
    user = county_world["reviewer_a"]
    job = start(user, "test.school_names")
    Membership.objects.filter(user=user).update(is_active=False)
    before = len(CALLS)
    job = job_run(job_id=job.pk)
    assert job.state == JobState.FAILED and "停用" in job.error_public
    assert len(CALLS) == before


def test_running_twice_runs_once(county_world):
    job = start(county_world["reviewer_a"], "test.school_names")
    before = len(CALLS)
    assert job_run(job_id=job.pk).state == JobState.DONE
    assert job_run(job_id=job.pk).state == JobState.DONE
    assert len(CALLS) == before + 1


def test_unknown_kind_and_missing_membership_are_refused(county_world):
    from django.core.exceptions import PermissionDenied

    user = county_world["reviewer_a"]
    with pytest.raises(UnknownJobKind):
        start(user, "test.no_such_kind")
    with pytest.raises(PermissionDenied):
        job_start("test.school_names", actor=Actor(user=user), scope=Scope(user_id=user.pk))
    # A scope of someone else cannot be borrowed.
    with pytest.raises(PermissionDenied):
        job_start(
            "test.school_names",
            actor=Actor(user=user),
            scope=scope_of(county_world["reviewer_b"]),
        )
    assert not Job.objects.filter(created_by=user).exists()


def test_xlsx_export_as_a_job(county_world, django_capture_on_commit_callbacks):
    import openpyxl

    with django_capture_on_commit_callbacks(execute=True):
        job = start(county_world["reviewer_b"], "test.schools_xlsx")
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.result_name == "学校.xlsx"
    assert re.search(r"^jobs/\d{4}/\d{2}/\d+-[0-9a-f]{16}\.xlsx$", job.result_path)
    with default_storage.open(job.result_path) as fh:
        names = [r[0] for r in openpyxl.load_workbook(fh).worksheets[0].iter_rows(values_only=True)]
    assert names[0] == "学校名称" and "二七区实验小学" in names and "金水区实验小学" not in names


def test_housekeeping_fails_stale_jobs_and_purges_old_results(
    county_world, django_capture_on_commit_callbacks
):
    user = county_world["reviewer_a"]
    with django_capture_on_commit_callbacks(execute=True):
        old = start(user, "test.school_names")
    stale = start(user, "test.school_names")
    now = timezone.now()
    Job.objects.filter(pk=stale.pk).update(
        state=JobState.RUNNING, heartbeat_at=now - dt.timedelta(hours=2)
    )
    Job.objects.filter(pk=old.pk).update(finished_at=now - dt.timedelta(days=30))
    path = Job.objects.get(pk=old.pk).result_path
    assert default_storage.exists(path)
    assert jobs_housekeeping(now) == (1, 1)
    assert Job.objects.get(pk=stale.pk).state == JobState.FAILED
    assert not default_storage.exists(path)
    assert Job.objects.get(pk=old.pk).result_path == ""
