"""Report reminders and escalation (sent once, by real SMTP on loopback), the completeness
table and its XLSX, and their constant number of queries."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from edupilot.applications.models import Application, AppState
from edupilot.core.models import Notification, ReminderSent
from edupilot.pilots import reports, services
from edupilot.pilots.models import Pilot
from edupilot.programmes.schema_base import SHANGHAI
from tests.conftest import make_school
from tests.pilots.submissions_world import END, START, build
from tests.selection.test_experts_support import smtp_capture, wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def qz(seeded):
    return build()


@pytest.fixture
def smtp(settings):
    with smtp_capture(settings) as handler:
        yield handler


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def hand_in(w, i, period, when):
    key = f"school{i}"
    sub, _ = services.submission_save(
        pilot=w.pilots[i],
        stage_key="monthly",
        period=period,
        post={"f-progress": "本月进展。"},
        scope=w.scope(key),
        actor=w.actor(key),
        now=when,
    )
    services.submission_submit(submission=sub, scope=w.scope(key), actor=w.actor(key), now=when)
    return sub


def more_pilots(w, n):
    for k in range(n):
        s = make_school(w.counties[0], name=f"泉州加测{k}小学")
        app = Application.objects.create(
            programme=w.programme, category="school", applicant_org=s, state=AppState.PILOT
        )
        Pilot.objects.create(
            application=app,
            programme=w.programme,
            category="school",
            unit=s,
            supervisor=w.counties[0],
            starts_on=START,
            ends_on=END,
        )


def test_reminders_before_due_and_escalation_after_each_once(
    qz, smtp, django_capture_on_commit_callbacks
):
    hand_in(qz, 0, "2026-04", at(2026, 4, 20))
    with django_capture_on_commit_callbacks(execute=True):
        run = reports.report_reminders_send(now=at(2026, 4, 22, 9))
    # Three days before 25 April: the two schools that have not reported.
    assert run.sent == 2
    assert sorted(run.keys) == sorted(
        f"pilot-report:{qz.pilots[i].pk}:monthly:2026-04:3" for i in (1, 2)
    )
    reminded = Notification.objects.filter(event="pilot.report_reminder")
    assert sorted(n.recipient.username for n in reminded) == ["qz_school1", "qz_school2"]
    assert "3 天后截止上报" in reminded[0].title
    assert wait_for(lambda: len(smtp.messages) >= 2)
    assert sorted(m["to"][0] for m in smtp.messages) == ["school1@example.cn", "school2@example.cn"]

    with django_capture_on_commit_callbacks(execute=True):
        again = reports.report_reminders_send(now=at(2026, 4, 22, 15))
    assert again.sent == 0 and again.skipped == 2
    assert reminded.count() == 2

    # Overdue by two days (escalate_days_after = 1): each county bureau's staff is told.
    with django_capture_on_commit_callbacks(execute=True):
        run = reports.report_reminders_send(now=at(2026, 4, 27, 9))
    assert run.sent == 2
    esc = Notification.objects.filter(event="pilot.report_escalation")
    assert sorted(n.recipient.username for n in esc) == [
        "qz_county0", "qz_county0_admin", "qz_county1", "qz_county1_admin"
    ]  # fmt: skip
    county0 = esc.get(recipient__username="qz_county0_admin")
    assert "1 个试点单位逾期未报" in county0.title and "泉州试点乙小学" in county0.body
    assert "泉州试点甲小学" not in county0.body  # it reported
    assert wait_for(lambda: len(smtp.messages) >= 6)
    with django_capture_on_commit_callbacks(execute=True):
        assert reports.report_reminders_send(now=at(2026, 4, 28, 9)).sent == 0
    assert esc.count() == 4
    assert ReminderSent.objects.filter(provider=reports.PROVIDER).count() == 4


def test_reminder_scan_takes_constant_queries(qz):
    today = dt.date(2026, 4, 22)
    with CaptureQueriesContext(connection) as few:
        small = list(reports.report_reminders(today))
    more_pilots(qz, 6)
    with CaptureQueriesContext(connection) as many:
        large = list(reports.report_reminders(today))
    assert len(large) == len(small) + 6
    assert len(many) == len(few)


def test_completeness_numbers_scope_and_xlsx(qz):
    hand_in(qz, 0, "2026-03", at(2026, 3, 20))
    hand_in(qz, 0, "2026-04", at(2026, 4, 26))  # a day late
    hand_in(qz, 2, "2026-04", at(2026, 4, 25, 18))
    now = at(2026, 6, 1)
    data = reports.completeness(qz.scope("county0"), {}, now=now)
    assert data.stage.key == "monthly"
    assert [r["pilot"].pk for r in data.rows] == [qz.pilots[0].pk, qz.pilots[1].pk]
    keys = [k for k, _ in data.columns]
    assert keys[:4] == ["2026-03", "2026-04", "2026-05", "2026-06"] and len(keys) == 24
    cells = [r["cells"][:4] for r in data.rows]
    assert cells == [
        ["on_time", "late", "missing", "not_due"],
        ["missing", "missing", "missing", "not_due"],
    ]
    march, april, may, june = data.totals[:4]
    assert (march["expected"], march["on_time"], march["rate"]) == (2, 1, 0.5)
    assert (april["late"], april["rate"], april["on_time_rate"]) == (1, 0.5, 0.0)
    assert may["rate"] == 0.0 and june["rate"] is None and june["expected"] == 0

    city = reports.completeness(qz.scope("city_admin"), {"stage": "monthly"}, now=now)
    assert len(city.rows) == 3 and city.totals[1]["on_time"] == 1 and city.totals[1]["late"] == 1
    assert reports.completeness(qz.scope("county1"), {}, now=now).rows[0]["pilot"] == qz.pilots[2]

    buf = io.BytesIO()
    reports.CompletenessExport(data).write(buf)
    ws = openpyxl.load_workbook(io.BytesIO(buf.getvalue())).active
    rows = [tuple(row) for row in ws.iter_rows(values_only=True)]
    header = rows[1]
    assert header[:4] == ("试点单位", "类别", "2026年3月", "2026年4月")
    assert rows[2][:5] == ("泉州试点甲小学", "试点学校", "按时", "逾期", "未交")
    assert rows[3][:5] == ("泉州试点乙小学", "试点学校", "未交", "未交", "未交")
    assert rows[-1][:4] == ("上报率", None, "50%", "50%")


def test_completeness_constant_queries_and_pages(qz):
    now = at(2026, 6, 1)
    with CaptureQueriesContext(connection) as few:
        reports.completeness(qz.scope("city_admin"), {}, now=now)
    more_pilots(qz, 5)
    with CaptureQueriesContext(connection) as many:
        data = reports.completeness(qz.scope("city_admin"), {}, now=now)
    assert len(data.rows) == 8 and len(many) == len(few)

    c = Client()
    c.force_login(qz.users["county0"])
    page = c.get(reverse("pilots:completeness"))
    assert page.status_code == 200 and "泉州试点乙小学" in page.content.decode()
    assert "泉州试点丙小学" not in page.content.decode()
    x = c.get(reverse("pilots:completeness_export"))
    assert x.status_code == 200 and x["Content-Type"].startswith("application/vnd.openxml")
    s = Client()
    s.force_login(qz.users["school0"])
    assert s.get(reverse("pilots:completeness")).status_code == 404


def test_pages_export_and_escalation_read_no_field_per_pilot(qz):
    """The scans load only some columns of each pilot (and its submissions as tuples, their
    periods once per start date): the page, the XLSX and the escalation's unit names must not
    load a deferred field per pilot."""
    c = Client()
    c.force_login(qz.users["city_admin"])

    def measure():
        with CaptureQueriesContext(connection) as page:
            assert c.get(reverse("pilots:completeness")).status_code == 200
        with CaptureQueriesContext(connection) as export:
            assert c.get(reverse("pilots:completeness_export")).status_code == 200
        with CaptureQueriesContext(connection) as scan:
            escalations = [
                r
                for r in reports.report_reminders(dt.date(2026, 3, 27))
                if "逾期未报" in r.title and r.orgs == (qz.counties[0].pk,)
            ]
        return len(page), len(export), len(scan), escalations

    hand_in(qz, 0, "2026-03", at(2026, 3, 20))
    few = measure()
    more_pilots(qz, 5)
    many = measure()
    assert many[:3] == few[:3]
    (before,), (after,) = few[3], many[3]  # one message to the county, naming its late units
    assert "1 个试点单位" in before.title and "6 个试点单位" in after.title
    assert "泉州加测4小学" in after.body


def test_dashboard_deadlines_list_the_next_reports_due(qz):
    """Issue 11 §3: the dashboard's deadlines carry each report stage's next due period, with
    the region's pilots that have not handed it in."""
    from edupilot.dashboards import selectors as dashboards

    hand_in(qz, 0, "2026-04", at(2026, 4, 20))
    now = at(2026, 4, 24)

    def due(key, region):
        data = dashboards.dashboard(
            qz.scope(key), region, {"programme": qz.programme.pk}, now=now, only="deadlines"
        )
        return {r[0]: r[1:] for r in data.table("deadlines").rows if "月度工作进展" in r[0]}

    city = due("city_admin", qz.city)
    (what,) = city
    assert "2026年4月" in what
    when, days, pending = city[what]
    assert days == 1 and pending == 2  # pilots 1 and 2; pilot 0 handed April in
    assert list(due("county0_admin", qz.counties[0]).values())[0][2] == 1
    assert list(due("county1_admin", qz.counties[1]).values())[0][2] == 1
