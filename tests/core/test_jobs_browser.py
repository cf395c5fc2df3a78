"""The job progress page in a real browser: htmx polling, and the no-JavaScript refresh."""

import pytest

from edupilot.core.jobs import job_run
from edupilot.core.models import Job
from edupilot.orgs.models import Membership, Role
from tests.conftest import make_school, make_user, org

from .test_jobs import school_names  # noqa: F401  (registers the job kind)

pytestmark = pytest.mark.e2e

PASSWORD = "Jobs-browser-2024"


@pytest.fixture
def queued_job(transactional_seeded, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    make_school(org("金水区"), "金水区浏览器小学")
    user = make_user(org("金水区"), Role.REVIEWER, username="jobs_browser", password=PASSWORD)
    # Created queued and left so, as if the worker were busy: the page must wait for it.
    return Job.objects.create(
        kind="test.school_names",
        created_by=user,
        membership=Membership.objects.get(user=user),
    )


def login(page, base):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "jobs_browser")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_progress_page_turns_into_a_download(browser, live_server, queued_job, javascript):
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, java_script_enabled=javascript
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        login(page, live_server.url)
        page.goto(f"{live_server.url}/jobs/{queued_job.pk}/")
        assert "排队中" in page.inner_text("#job-progress")
        job_run(job_id=queued_job.pk)
        # htmx swaps the fragment in place; without JavaScript the meta refresh reloads.
        link = page.wait_for_selector("#job-progress a:has-text('下载')")
        assert "已完成" in page.inner_text("#job-progress")
        with page.expect_download() as info:
            link.click()
        download = info.value
        assert download.suggested_filename == "学校名单.txt"
        with open(download.path(), encoding="utf-8") as fh:
            assert "金水区浏览器小学" in fh.read()
    finally:
        context.close()
