"""Hangzhou certification in a real browser: import → assessment → decisions → filing →
freeze → publish → the public list, with a district and the city each acting for itself."""

from __future__ import annotations

import datetime as dt

import pytest

from edupilot.certification import services
from edupilot.certification.models import Batch, EntryState
from edupilot.orgs.models import Role
from edupilot.programmes.models import ParticipantEntry, ParticipantList
from tests.certification.conftest import COLUMNS, GOOD, SYSTEM, export_rows, load_standards
from tests.conftest import make_school, make_user, org

pytestmark = pytest.mark.e2e

PASSWORD = "Hangzhou-2024-pass"


@pytest.fixture
def world(transactional_seeded, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    standards = load_standards()
    city, xihu = org("330100"), org("330106")
    schools = {
        "xh": make_school(xihu, "西湖区文三路小学", code="E2EXH01", stages=",primary,"),
        "cd": make_school(city, "杭州市第二中学", code="E2ECD01", stages=",senior,"),
        "cdx": make_school(city, "杭州市学军中学", code="E2ECD02", stages=",senior,"),
        "kg": make_school(xihu, "西湖区保俶塔幼儿园", code="E2EXH02", stages=",kindergarten,"),
    }
    title = ParticipantList.objects.create(
        code="hz_smart_edu_demo_school", title="杭州市智慧教育示范校"
    )
    ParticipantEntry.objects.create(plist=title, org=schools["cdx"])
    make_user(city, Role.PROGRAMME_ADMIN, username="hz_admin", password=PASSWORD)
    make_user(xihu, Role.REVIEWER, username="xh_reviewer", password=PASSWORD)
    batch = services.batch_create(
        owner=city,
        code="hz-2024-1",
        name="杭州市智慧校园认定第一批",
        certification_date=dt.date(2099, 9, 1),
        cutoff=dt.date(2099, 8, 31),
        standard=standards["zj-sc-2022"],
        additional=[standards["moe-vc-2020"]],
        exempt_titles=[title],
        **SYSTEM,
    )
    services.source_save(
        owner=city,
        code="national",
        name="全国教育信息化工作管理信息系统",
        system="national",
        code_column="学校标识码",
        name_column="学校名称",
        mapping=[{"column": COLUMNS[c], "indicator": c} for c in GOOD],
        **SYSTEM,
    )
    return batch, schools


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def logout(page):
    page.click("header button:has-text('退出')")
    page.wait_for_url("**/accounts/login/**")


def decide(page, base, entry_id, decision, opinion):
    page.goto(f"{base}/certification/entries/{entry_id}/")
    page.select_option("#decide select[name=decision]", decision)
    page.fill("#decide textarea[name=opinion]", opinion)
    page.click("#decide button[type=submit]")
    page.wait_for_selector("#decision")


def test_from_import_to_the_public_list(page, live_server, world, tmp_path):
    batch, schools = world
    base = live_server.url
    export = tmp_path / "全国教育信息化系统导出.xlsx"
    export.write_bytes(
        export_rows(
            [
                ("E2EXH01", "西湖区文三路小学", GOOD),
                ("", "杭州市第二中学", GOOD),  # no code: matched by exact name
                ("E2EXH02", "西湖区保俶塔幼儿园", GOOD),  # a kindergarten: reported, not imported
            ]
        )
    )

    # The city imports the national system's export; the import page shows the row report.
    login(page, base, "hz_admin")
    page.goto(f"{base}/certification/")
    page.click(f"a:has-text('{batch.name}')")
    page.click("nav.actions a:has-text('数据导入')")
    page.select_option("select[name=source]", label="全国教育信息化工作管理信息系统")
    page.set_input_files("input[name=file]", str(export))
    page.click("form button[type=submit]:has-text('导入')")
    page.wait_for_url("**/certification/imports/*/")
    page.wait_for_selector("text=已完成")
    html = page.content()
    assert "幼儿园不参加智慧校园认定" in html and "共 3 行，匹配学校 2 行" in html

    # The city certifies its city-direct school from the assessment.
    entries = {e.school_id: e for e in Batch.objects.get(pk=batch.pk).entries.all()}
    direct = entries[schools["cd"].pk]
    page.goto(f"{base}/certification/entries/{direct.pk}/")
    assert "达到标准" in page.locator("#provisional").inner_text()
    assert page.locator("#ind-ZJ-02").inner_text().count("全国教育信息化工作管理信息系统") == 1
    decide(page, base, direct.pk, "certified", "数据与实地核查均达到省建设指南基本要求。")
    # The district's school is not the city's to certify.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{base}/certification/entries/{entries[schools['xh'].pk].pk}/decide/",
        form={"decision": "certified", "opinion": "越权", "csrfmiddlewaretoken": csrf},
    )
    assert response.status == 403 and "由西湖区认定" in response.text()
    logout(page)

    # The district certifies its own school and files with the city in one step.
    login(page, base, "xh_reviewer")
    decide(page, base, entries[schools["xh"].pk].pk, "certified", "各项达到西湖区认定要求。")
    page.goto(f"{base}/certification/batches/{batch.pk}/filing/")
    page.fill("textarea[name=note]", "西湖区第一批认定结果")
    page.click("button:has-text('一键报备')")
    page.wait_for_selector("text=已报备")
    assert (
        Batch.objects.get(pk=batch.pk).entries.get(school=schools["xh"]).state == EntryState.FILED
    )
    logout(page)

    # The city freezes the data and publishes the list.
    login(page, base, "hz_admin")
    page.goto(f"{base}/certification/batches/{batch.pk}/")
    assert "已报备" in page.content()
    page.click("button:has-text('冻结数据')")
    page.wait_for_selector("text=数据已冻结")
    page.click("button:has-text('公布认定名单')")
    page.wait_for_selector("text=认定名单已公布")
    logout(page)

    # Anyone sees the public list: the three certified schools, no people, no opinions.
    page.goto(f"{base}/public/certified/{batch.code}/")
    table = page.locator("table").inner_text()
    for name in ("西湖区文三路小学", "杭州市第二中学", "杭州市学军中学"):
        assert name in table
    assert "自动认定（杭州市智慧教育示范校）" in table
    assert "幼儿园" not in table
    html = page.content()
    assert "各项达到西湖区认定要求" not in html and "xh_reviewer" not in html
