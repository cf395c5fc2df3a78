"""A school fills the Henan school-pilot form in a real browser, at phone width."""

import pytest
from django.core.management import call_command

from edupilot.applications.models import Application, AppState
from edupilot.orgs.models import Locality, Role
from tests.conftest import make_school, make_user, org, pdf_bytes

pytestmark = pytest.mark.e2e

PASSWORD = "Jinshui-2019-pass"
TYPED = {
    "f-address": "郑州市金水区花园路 18 号",
    "f-student_count": "1260",
    "f-teacher_count": "86",
    "f-principal": "王建国",
    "f-contact_name": "李芳",
    "f-contact_mobile": "13838001234",
    "f-contact_email": "lifang@example.edu.cn",
    "f-bandwidth_mbps": "300",
    "f-existing_products": "无",
    "f-guarantees": "学校成立智慧校园建设领导小组，校长任组长，每年安排专项经费用于网络与设备运维。"
    * 3,
    "f-plan": "以腾讯智慧校园为平台，推进家校沟通、教务管理和课堂教学的数字化，分三个阶段实施。"
    * 8,
}


@pytest.fixture
def school_user(transactional_seeded):
    call_command("programme", "load", "--all", "--open-now", verbosity=0)
    school = make_school(
        org("金水区"),
        name="郑州市金水区纬五路第一小学",
        stages=",primary,",
        locality=Locality.URBAN,
    )
    make_user(school, Role.APPLICANT, username="weiwulu1", password=PASSWORD)
    return school


def login(page, base):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "weiwulu1")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_school_fills_uploads_submits_and_finds_it_unchanged(
    page, live_server, school_user, tmp_path
):
    base = live_server.url
    login(page, base)
    page.wait_for_url(f"{base}/applications/")
    assert "河南省第二期中小学校“腾讯智慧校园”试点" in page.content()

    page.locator("form:has(input[name=category][value=school]) button").click()
    page.wait_for_url("**/edit/")
    for name, value in TYPED.items():
        page.fill(f"[name='{name}']", value)
    # The school type comes from the org tree, shown read-only (a locked prefill).
    assert page.locator("output#id_school_type").inner_text().strip() == "小学"
    page.select_option("select[name='f-locality']", "urban")
    page.select_option("select[name='f-wireless']", "full")
    # The character count follows the typing (汉字 only).
    assert page.locator(".charcount[data-for='id_guarantees'] .n").inner_text() != "0"

    scan = tmp_path / "盖章申请表.pdf"
    scan.write_bytes(pdf_bytes(pages=2))
    page.set_input_files("input[name='a-form_scan']", str(scan))
    page.click("button[name=action][value=submit]")
    page.wait_for_url("**/applications/*/")
    assert "申报已提交" in page.content()

    application = Application.objects.get(applicant_org=school_user)
    assert application.state == AppState.SUBMITTED
    assert application.versions.count() == 1

    page.click("header button:has-text('退出')")
    page.wait_for_url("**/accounts/login/**")
    login(page, base)
    page.wait_for_url(f"{base}/applications/")
    page.click(f"a[href='/applications/{application.pk}/']")
    html = page.content()
    assert "审核中" in html and "郑州市" in html
    for value in (
        "郑州市金水区花园路 18 号",
        "1260",
        "王建国",
        "13838001234",
        "lifang@example.edu.cn",
        "300 Mbps",
    ):
        assert value in html, value
    assert "盖章申请表.pdf" in html
    # The stored draft and the frozen version both hold exactly what was typed.
    application.refresh_from_db()
    version = application.versions.get()
    assert version.data["principal"] == "王建国" and version.data["student_count"] == 1260
    assert version.data["guarantees"] == TYPED["f-guarantees"]
    assert version.attachments[0]["filename"] == "盖章申请表.pdf"
    # The file downloads as the PDF that was uploaded.
    response = page.request.get(
        f"{base}/applications/{application.pk}/files/{version.attachments[0]['id']}/"
    )
    assert response.ok and response.body() == scan.read_bytes()
