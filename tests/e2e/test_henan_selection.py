"""The Henan school pilot from submission to the public announcement, in a real browser.

The school's submission goes through the applicant services (the form itself has its own
browser test); the city's recommendation, the province's approval and publication, and the
public page are driven through Chromium at phone width.
"""

import re

import pytest
from django.core.management import call_command
from django.http import QueryDict

from edupilot.applications import services as app_services
from edupilot.applications.models import Application, AppState
from edupilot.orgs.models import Locality, Role
from edupilot.selection.models import Announcement
from tests.applications.conftest import SCHOOL_FORM, Who, upload
from tests.conftest import make_school, make_user, org

pytestmark = pytest.mark.e2e

PASSWORD = "Henan-2019-pass"
SCHOOL = "郑州市金水区经三路遴选小学"
# People the form and the org record name; none may reach the public page.
PERSONAL = [
    "王校长",
    "李老师",
    "13800138000",
    "li@example.com",
    "赵主任",
    "0371-12345678",
    "zhao@example.com",
    "许恒娟",
    "hndjxtb@163.com",
]


@pytest.fixture
def submitted(transactional_seeded):
    call_command("programme", "load", "--all", "--open-now", verbosity=0)
    from edupilot.programmes.models import Programme

    henan = Programme.objects.get(code="henan-tencent-2019")
    school = make_school(org("金水区"), name=SCHOOL, stages=",primary,", locality=Locality.URBAN)
    school.contact_name, school.contact_phone, school.contact_email = (
        "赵主任",
        "0371-12345678",
        "zhao@example.com",
    )
    school.save()
    applicant = Who(school, Role.APPLICANT, username="jingsanlu")
    app = app_services.application_start(
        programme=henan, category_code="school", scope=applicant.scope, actor=applicant.actor
    )
    post = QueryDict(mutable=True)
    for k, v in {**SCHOOL_FORM, "f-school_name": SCHOOL}.items():
        post.setlist(k, v) if isinstance(v, list) else post.__setitem__(k, v)
    app_services.application_save_draft(
        application=app, post=post, scope=applicant.scope, actor=applicant.actor
    )
    app_services.application_attach(
        application=app,
        field_key="form_scan",
        upload=upload(),
        scope=applicant.scope,
        actor=applicant.actor,
    )
    app.refresh_from_db()
    app_services.application_submit(application=app, scope=applicant.scope, actor=applicant.actor)
    make_user(org("郑州市"), Role.REVIEWER, username="zz-reviewer", password=PASSWORD)
    make_user(org("410000"), Role.PROGRAMME_ADMIN, username="hn-centre", password=PASSWORD)
    return Application.objects.get(pk=app.pk)


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def logout(page):
    page.click("header button:has-text('退出')")
    page.wait_for_url("**/accounts/login/**")


def test_henan_school_pilot_from_city_recommendation_to_public_announcement(
    page, live_server, submitted
):
    base = live_server.url
    app = submitted
    assert app.state == AppState.SUBMITTED and app.current_org == org("郑州市")

    # The city recommends it from its queue.
    login(page, base, "zz-reviewer")
    page.goto(f"{base}/review/")
    page.click(f"a:has-text('{SCHOOL}')")
    page.wait_for_url(f"**/review/{app.pk}/")
    page.fill("#rec-opinion", "同意推荐，该校网络条件良好。")
    page.click("form[action$='/recommend/'] button[type=submit]")
    page.wait_for_url("**/review/")
    assert "已推荐" in page.content()
    app.refresh_from_db()
    assert app.state == AppState.RECOMMENDED and app.current_org == org("410000")
    logout(page)

    # The province approves it from the selection board, then publishes the 公示.
    login(page, base, "hn-centre")
    page.click("nav.mainnav a:has-text('遴选与公示')")
    page.wait_for_url(re.compile(r".*/review/selection/\d+/$"))
    row = page.locator("table.ranking tr", has_text=SCHOOL)
    assert "郑州市" in row.inner_text()  # the recommending city and its rank are in view
    row.locator("input[name=application]").check()
    page.locator("section#cat-school textarea[name=opinion]").fill("同意立项。")
    page.locator("section#cat-school button[name=outcome][value=approve]").click()
    page.wait_for_load_state()
    assert "发布公示后生效" in page.content()
    page.click("nav.subnav a:has-text('公示')")
    page.wait_for_url("**/announcements/")
    page.click("main form button:has-text('发布公示')")
    # Asked first (no inline JS): the confirmation page says what will happen.
    assert "发布后不能撤回" in page.content()
    page.click("main form button:has-text('确认发布')")
    page.wait_for_url(re.compile(r".*/review/selection/announcements/\d+/$"))
    assert "公示已发布" in page.content()
    app.refresh_from_db()
    assert app.state == AppState.APPROVED
    logout(page)

    # Anyone, without logging in, reads the announcement.
    announcement = Announcement.objects.get()
    page.goto(f"{base}/public/announcements/")
    page.click(f"a:has-text('{announcement.title}')")
    page.wait_for_url(f"**/public/announcements/{announcement.pk}/")
    html = page.content()
    table = page.locator("main table").inner_text()
    assert SCHOOL in table and "学校试点" in table and "郑州市金水区" in table
    assert [p for p in PERSONAL if p in html] == []
    for username in ("jingsanlu", "zz-reviewer", "hn-centre"):
        assert username not in html
