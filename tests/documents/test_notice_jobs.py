"""A reviewer's queue of forms as one ZIP, built in the background with progress."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse

from edupilot.core.models import Job, JobState
from edupilot.orgs.models import Role
from tests.conftest import org

from .test_notice_support import body, load, login, pdf_text, reviewer, school_in, submit_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def henan(seeded):
    return load("henan-tencent-smart-campus-2019.toml")


def start(client, who, programme, capture, **data):
    login(client, who)
    with capture(execute=True):
        response = client.post(reverse("documents:forms_zip", args=[programme.code]), data)
    job = Job.objects.filter(created_by=who.user).latest("pk")
    assert response.status_code == 302 and response.url == reverse("core:job_detail", args=[job.pk])
    return job


def zip_members(client, job) -> dict[str, bytes]:
    data = body(client.get(reverse("core:job_download", args=[job.pk])))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_pending_queue_as_zip_holds_only_the_levels_forms(
    client, henan, django_capture_on_commit_callbacks
):
    for name, parent in (("郑州市金水区打包一小", "金水区"), ("郑州市二七区打包二小", "二七区")):
        who = school_in(org(parent), name=name)
        submit_as(who, henan, "school", school_name=name)
    kf = school_in(org("龙亭区"), name="开封市龙亭区打包小学")
    submit_as(kf, henan, "school", school_name=kf.org.name)

    city = reviewer("郑州市")
    job = start(client, city, henan, django_capture_on_commit_callbacks, queue="pending")
    assert job.state == JobState.DONE, job.error
    assert job.done == job.total == 2 and job.result_name.endswith(".zip")
    members = zip_members(client, job)
    assert sorted(members) == [
        "001-郑州市金水区打包一小-学校试点.pdf",
        "002-郑州市二七区打包二小-学校试点.pdf",
    ]
    text = pdf_text(members["001-郑州市金水区打包一小-学校试点.pdf"])
    assert "郑州市金水区打包一小" in text and "开封" not in text

    # Nothing recommended yet: the "passed" ZIP says so instead of failing.
    job = start(client, city, henan, django_capture_on_commit_callbacks, queue="passed")
    assert job.state == JobState.DONE and list(zip_members(client, job)) == ["说明.txt"]


def test_zip_refuses_bad_input_and_other_roles(client, henan):
    url = reverse("documents:forms_zip", args=[henan.code])
    login(client, reviewer("郑州市"))
    assert client.post(url, {"queue": "everything"}).status_code == 404
    assert client.post(url, {"queue": "pending", "category": "nope"}).status_code == 404
    assert client.get(url).status_code == 405
    login(client, school_in(org("金水区")))
    assert client.post(url, {"queue": "pending"}).status_code == 404
    login(client, reviewer("杭州市"))
    assert client.post(url, {"queue": "pending"}).status_code == 404
    login(client, reviewer("郑州市", Role.EXPERT))
    assert client.post(url, {"queue": "pending"}).status_code == 404
    assert not Job.objects.exists()
