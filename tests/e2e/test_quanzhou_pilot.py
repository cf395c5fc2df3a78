"""A Quanzhou pilot school's pilot period in a real browser: its implementation plan and monthly
reports (one late, after the reminder and the county's escalation), the county's review, the
city's expert panel, the grade 优秀 and the award, then the award table and its XLSX.

The browser runs on today's clock, so the pilot starts three months back: its plan and the
last month's report fall due in the past and are handed in late in the browser. A report can
only be handed in on time in the past through the services' ``now=`` (the two earlier reports,
each first submitted two days before its due day); the county returns one of them in the
browser and the school's resubmission after the due day stays on time (lateness is judged by
the first submission). Reminders are sent with ``report_reminders_send(now=…)`` as the
periodic task would have sent them.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.http import QueryDict
from django.utils import timezone

from edupilot.orgs.models import Org, OrgKind, Role
from edupilot.pilots import services
from edupilot.pilots.creation import pilots_create
from edupilot.pilots.models import Award, PilotState
from edupilot.pilots.periods import add_months, report_periods, today_beijing
from edupilot.pilots.reports import report_reminders_send
from edupilot.programmes.schema_base import SHANGHAI
from edupilot.selection import experts
from tests.applications.conftest import Who
from tests.conftest import make_user, pdf_bytes
from tests.review.conftest import load, school_in, submit_as

pytestmark = pytest.mark.e2e

PASSWORD = "Quanzhou-2018-pass"


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


@pytest.fixture
def world(transactional_seeded, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    programme = load("quanzhou-smart-campus-2018.toml")
    city = programme.issuer
    counties = list(
        Org.objects.filter(kind=OrgKind.COUNTY, path__startswith=city.path).order_by("path")[:2]
    )
    county, other = counties
    # The school's own application, submitted and put on the list (pilots_create is the step
    # the final list's publication takes), starting on the first of the month three back.
    unit = school_in(county, name="泉州市试点中心小学")
    app = submit_as(unit, programme, "school")
    today = today_beijing()
    starts = add_months(today.replace(day=1), -3)
    (pilot,) = pilots_create(applications=[app], actor=unit.actor, now=_at(starts, 9))
    assert pilot.starts_on == starts and pilot.supervisor_id == county.pk

    users = {
        "school": make_user(unit.org, Role.APPLICANT, username="qz_school", password=PASSWORD),
        "county": make_user(county, Role.REVIEWER, username="qz_county", password=PASSWORD),
        "city": make_user(city, Role.PROGRAMME_ADMIN, username="qz_city", password=PASSWORD),
    }
    boss = Who(city, Role.PROGRAMME_ADMIN)
    for i in range(3):  # the programme's expert pool, from a county the school is not under
        name = f"qz_expert{i}"
        users[name] = make_user(other, Role.EXPERT, username=name, password=PASSWORD)
        users[name].full_name = f"专家{'甲乙丙'[i]}"
        users[name].save(update_fields=["full_name"])
        experts.expert_pool_add(
            programme=programme,
            membership=users[name].memberships.get(),
            scope=boss.scope,
            actor=boss.actor,
        )

    # The first two monthly reports, each first submitted two days before its due day.
    stage = pilot.spec.stage("monthly")
    periods = report_periods(pilot, stage)[:3]
    assert all(p.due_on < today for p in periods)
    subs = {}
    for p in periods[:2]:
        when = _at(p.due_on - dt.timedelta(days=2))
        post = QueryDict(mutable=True)
        post.update({"f-progress": f"{p.label}：平台上线教务、德育模块。", "f-users": "320"})
        sub, result = services.submission_save(pilot=pilot, stage_key="monthly", period=p.key,
                                               post=post, scope=unit.scope, actor=unit.actor,
                                               now=when)  # fmt: skip
        assert result.ok, result.errors
        subs[p.key] = services.submission_submit(
            submission=sub, scope=unit.scope, actor=unit.actor, now=when
        )
    return programme, pilot, periods, subs, users


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def logout(page):
    page.click("header button:has-text('退出')")
    page.wait_for_url("**/accounts/login/**")


def submit_form(page):
    page.click("form button[name=action][value=submit]")
    page.wait_for_selector("text=已提交，等待审核。")


def test_plan_reports_acceptance_award(page, live_server, world, tmp_path):
    programme, pilot, periods, subs, users = world
    base = live_server.url
    early, returned, last = periods
    detail = f"{base}/pilots/{pilot.pk}/"

    # The reminder three days before the last report is due, then the escalation a day after.
    run = report_reminders_send(now=_at(last.due_on - dt.timedelta(days=3), 8))
    assert any(k.startswith(f"pilot-report:{pilot.pk}:monthly:{last.key}:3") for k in run.keys)
    run = report_reminders_send(now=_at(last.due_on + dt.timedelta(days=1), 8))
    assert any(k.startswith("pilot-escalate:") for k in run.keys)

    # The school sees the reminder and hands in its plan and the last month's report, late.
    login(page, base, "qz_school")
    page.goto(f"{base}/notifications/")
    assert f"（{last.label}）3 天后截止上报" in page.content()
    page.goto(f"{detail}#stage-plan")
    page.click("#stage-plan a:has-text('填写')")
    page.fill("#f-phases-0-name", "启动部署")
    page.fill("#f-phases-0-starts", pilot.starts_on.isoformat())
    page.fill("#f-phases-0-ends", (pilot.starts_on + dt.timedelta(days=180)).isoformat())
    page.fill("#f-phases-0-tasks", "完成平台部署与教师培训，教务、德育模块上线。")
    page.fill("#id_results", "形成全校统一的智慧校园管理平台应用，师生使用率达到 90%。")
    submit_form(page)
    assert "逾期提交" in page.content()  # the plan was due 30 days after the start

    page.goto(detail)
    page.click(f"#stage-monthly tr:has-text('{last.label}') a:has-text('填写')")
    page.fill("#id_progress", "完成平台与市级数据中心对接，家校通知模块上线。")
    page.fill("#id_users", "450")
    page.fill("#id_problems", "部分教师使用不熟练，下月开展专题培训。")
    submit_form(page)
    assert "逾期提交" in page.content()
    logout(page)

    # The county was told of the missing report; its reviewer returns one report, accepts the rest.
    login(page, base, "qz_county")
    page.goto(f"{base}/notifications/")
    assert "1 个试点单位逾期未报" in page.content()
    page.goto(f"{base}/pilots/submissions/{subs[returned.key].pk}/")
    page.fill("#reason-return", "请补充平台活跃用户的统计口径。")
    page.click("form:has(#reason-return) button")
    page.wait_for_selector("text=已退回修改。")
    page.goto(detail)
    for label in (early.label, last.label, None):
        row = "#stage-plan" if label is None else f"#stage-monthly tr:has-text('{label}')"
        page.click(f"{row} button:has-text('审核通过')")
        page.wait_for_selector("text=已审核通过。")
        page.goto(detail)
    logout(page)

    # The school resubmits the returned report after its due day: still on time.
    login(page, base, "qz_school")
    page.goto(f"{base}/pilots/submissions/{subs[returned.key].pk}/")
    assert "请补充平台活跃用户的统计口径" in page.content()
    page.fill("#id_problems", "活跃用户按当月登录过平台的教师和学生统计。")
    submit_form(page)
    assert "按时提交" in page.content()
    logout(page)

    login(page, base, "qz_county")
    page.goto(f"{base}/pilots/submissions/{subs[returned.key].pk}/")
    page.click("button:has-text('审核通过')")
    page.wait_for_selector("text=已审核通过。")
    # The reporting rate: two on time, one late, on the county's completeness page.
    page.goto(f"{base}/pilots/completeness/?programme={programme.pk}&stage=monthly")
    row = page.locator("tr:has-text('泉州市试点中心小学')").inner_text()
    assert row.count("按时") == 2 and row.count("逾期") == 1
    logout(page)

    # The school hands in its acceptance materials: the summary and its PDF.
    summary = tmp_path / "试点工作总结.pdf"
    summary.write_bytes(pdf_bytes(2, "试点工作总结"))
    login(page, base, "qz_school")
    page.goto(f"{base}/pilots/{pilot.pk}/fill/acceptance/")
    page.fill("#id_summary", "两年试点，平台覆盖教务、德育、家校三大业务，师生使用率 92%。")
    page.set_input_files("input[name=a-material_summary]", str(summary))
    submit_form(page)
    logout(page)

    # The city assigns three experts from its pool; two of them score.
    login(page, base, "qz_city")
    for name in ("专家甲", "专家乙", "专家丙"):
        page.goto(f"{detail}#acceptance")
        page.select_option(
            "#acc-member", label=f"{name} · {users['qz_expert0'].memberships.get().org.name}"
        )
        page.click("form:has(#acc-member) button")
        page.wait_for_selector("text=已分配验收专家。")
    logout(page)
    for name, scores in (("qz_expert0", ("38", "37", "19")), ("qz_expert1", ("36", "36", "18"))):
        login(page, base, name)
        page.goto(f"{base}/notifications/")
        page.click("a:has-text('新的验收评审任务')")
        for key, value in zip(("use", "effect", "management"), scores, strict=True):
            page.fill(f"#id_{key}", value)
        page.fill("#id_comment", "平台应用深入，成效明显。")
        page.select_option("#id_submit", "1")
        page.click("form:has(#id_comment) button[type=submit]")
        page.wait_for_selector("text=评分已保存。")
        logout(page)

    # The city grades it 优秀 (the score band's suggestion, mean 92) and grants the award.
    login(page, base, "qz_city")
    page.goto(f"{detail}#acceptance")
    assert "按分数段建议等级：优秀" in page.content()
    assert page.locator("#acc-grade").input_value() == "excellent"
    page.fill("#acc-opinion", "综合评定优秀。")
    page.click("form:has(#acc-grade) button")
    page.wait_for_selector("text=验收等级已评定，已通知试点单位。")
    page.goto(f"{detail}#awards")
    page.click("#awards button")
    page.wait_for_selector("text=奖补已授予。")
    assert "已授予 100000" in page.locator("#awards").inner_text()
    pilot.refresh_from_db()
    assert pilot.state == PilotState.ACCEPTED and pilot.grade_name == "优秀"

    # The award table, and its XLSX download.
    page.goto(f"{base}/pilots/programmes/{programme.pk}/honours/")
    table = page.locator("#awards, section:has-text('以奖代补') table").first.inner_text()
    assert "泉州市试点中心小学" in table and "优秀" in table and "100000" in table
    response = page.request.get(f"{base}/pilots/programmes/{programme.pk}/awards.xlsx")
    assert response.status == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.body())).active
    rows = [[c for c in r if c is not None] for r in sheet.iter_rows(values_only=True)]
    row = next(r for r in rows if "泉州市试点中心小学" in r)
    assert "优秀" in row and 100000 in row
    award = Award.objects.get(pilot=pilot)
    assert award.amount == 100000 and timezone.is_aware(award.decided_at)
