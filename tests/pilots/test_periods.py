"""Report periods and due days for every cadence, working days included (no database)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from edupilot.pilots.periods import (
    add_workdays,
    completeness_cell,
    next_workday,
    period_status,
    pilot_end,
    plan_period,
    report_periods,
)
from edupilot.programmes.pilot_schema import PlanStage, ReportsStage
from edupilot.programmes.schema_base import SHANGHAI

D = dt.date


def pilot(start, end=None, months=None):
    return SimpleNamespace(
        starts_on=start, ends_on=end, spec=SimpleNamespace(duration_months=months)
    )


def reports(cadence, **kw):
    return ReportsStage(kind="reports", key=cadence, name="报告", cadence=cadence, **kw)


def test_monthly_due_day_of_the_month_and_first_month_skipped_when_due_before_start():
    p = pilot(D(2026, 3, 28), D(2026, 6, 30))
    periods = report_periods(p, reports("monthly", due_day=25))
    # March's report was due on the 25th, before the pilot started: not asked for.
    assert [x.key for x in periods] == ["2026-04", "2026-05", "2026-06"]
    assert periods[0].due_on == D(2026, 4, 25)
    assert periods[0].start == D(2026, 4, 1) and periods[0].end == D(2026, 4, 30)
    assert periods[0].due_at == dt.datetime(2026, 4, 25, 23, 59, 59, tzinfo=SHANGHAI)


def test_monthly_due_next_month_keeps_the_partial_first_month():
    p = pilot(D(2026, 3, 28), D(2026, 5, 10))
    periods = report_periods(p, reports("monthly", due_day=5, due_month="next"))
    assert [(x.key, x.start, x.end, x.due_on) for x in periods] == [
        ("2026-03", D(2026, 3, 28), D(2026, 3, 31), D(2026, 4, 5)),
        ("2026-04", D(2026, 4, 1), D(2026, 4, 30), D(2026, 5, 5)),
        ("2026-05", D(2026, 5, 1), D(2026, 5, 10), D(2026, 6, 5)),
    ]
    dec = report_periods(
        pilot(D(2026, 12, 1), D(2026, 12, 31)), reports("monthly", due_day=5, due_month="next")
    )
    assert dec[0].due_on == D(2027, 1, 5)


def test_quarterly_semiannual_annual_keys_and_due_days_after_the_end():
    p = pilot(D(2026, 2, 10), D(2027, 8, 31))
    q = report_periods(p, reports("quarterly", due_days=10))
    assert [x.key for x in q] == [
        "2026-Q1",
        "2026-Q2",
        "2026-Q3",
        "2026-Q4",
        "2027-Q1",
        "2027-Q2",
        "2027-Q3",
    ]
    assert (
        q[0].start == D(2026, 2, 10)
        and q[0].end == D(2026, 3, 31)
        and q[0].due_on == D(2026, 4, 10)
    )
    assert q[-1].end == D(2027, 8, 31) and q[-1].due_on == D(2027, 9, 10)
    h = report_periods(p, reports("semiannual", due_days=15))
    assert [(x.key, x.label) for x in h] == [
        ("2026-H1", "2026年上半年"),
        ("2026-H2", "2026年下半年"),
        ("2027-H1", "2027年上半年"),
        ("2027-H2", "2027年下半年"),
    ]
    assert h[1].due_on == D(2027, 1, 15)
    y = report_periods(p, reports("annual"))  # default: 10 days after
    assert [(x.key, x.due_on) for x in y] == [("2026", D(2027, 1, 10)), ("2027", D(2027, 9, 10))]


def test_midterm_and_final():
    p = pilot(D(2026, 1, 1), D(2026, 12, 31))
    (mid,) = report_periods(p, reports("midterm", due_days=0))
    assert mid.key == "mid" and mid.end == D(2026, 7, 2) and mid.due_on == D(2026, 7, 2)
    (final,) = report_periods(p, reports("final", due_days=30))
    assert final.key == "final" and final.end == D(2026, 12, 31) and final.due_on == D(2027, 1, 30)


def test_end_from_duration_when_the_pilot_has_no_end_date():
    assert pilot_end(pilot(D(2026, 3, 1), months=24)) == D(2028, 2, 29)
    assert pilot_end(pilot(D(2026, 1, 31), months=1)) == D(2026, 2, 27)


def test_plan_due_days_after_the_start():
    stage = PlanStage(kind="plan", key="plan", name="实施方案", due_days=30)
    assert plan_period(pilot(D(2026, 9, 15), D(2028, 9, 14)), stage).due_on == D(2026, 10, 15)


def test_monthly_due_on_national_day_moves_to_the_next_working_day():
    p = pilot(D(2026, 9, 1), D(2026, 12, 31))
    periods = report_periods(p, reports("monthly", due_day=1, due_month="next", working_days=True))
    # September's report is due 1 October: the National Day holiday runs 1–7 October 2026.
    sep = periods[0]
    assert sep.key == "2026-09" and sep.due_on == D(2026, 10, 8) and not sep.estimated
    # Without working days the date stays.
    plain = report_periods(p, reports("monthly", due_day=1, due_month="next"))
    assert plain[0].due_on == D(2026, 10, 1)


def test_working_days_count_across_the_holiday_and_adjusted_weekend():
    # 2026-09-30 (Wed) + 3 working days: 1–7 October off; 8 Oct (Thu), 9 Oct (Fri), 10 Oct is a
    # Saturday worked to make up the holiday (调休).
    assert add_workdays(D(2026, 9, 30), 3) == (D(2026, 10, 10), False)
    p = pilot(D(2026, 7, 1), D(2026, 9, 30))
    (q3,) = report_periods(p, reports("quarterly", due_days=3, working_days=True))
    assert q3.due_on == D(2026, 10, 10)


def test_beyond_the_published_years_falls_back_to_monday_to_friday_and_says_so():
    # 2027-05-01 is a Saturday; the package does not know 2027's holidays yet.
    assert next_workday(D(2027, 5, 1)) == (D(2027, 5, 3), True)
    p = pilot(D(2027, 4, 1), D(2027, 4, 30))
    (apr,) = report_periods(p, reports("monthly", due_day=1, due_month="next", working_days=True))
    assert apr.due_on == D(2027, 5, 3) and apr.estimated
    assert add_workdays(D(2027, 1, 1), 5) == (D(2027, 1, 8), True)  # Fri → Mon..Fri


def _sub(state, first=None, due=None):
    return SimpleNamespace(state=state, first_submitted_at=first, due_at=due)


@pytest.mark.parametrize(
    ("sub", "now", "status", "cell"),
    [
        (None, dt.datetime(2026, 4, 1, tzinfo=SHANGHAI), "not_due", "not_due"),
        (None, dt.datetime(2026, 4, 24, tzinfo=SHANGHAI), "due_soon", "not_due"),
        (None, dt.datetime(2026, 4, 26, tzinfo=SHANGHAI), "overdue", "missing"),
        (_sub("draft"), dt.datetime(2026, 4, 26, tzinfo=SHANGHAI), "overdue", "missing"),
        (_sub("draft"), dt.datetime(2026, 4, 1, tzinfo=SHANGHAI), "draft", "not_due"),
        (
            _sub("submitted", dt.datetime(2026, 4, 25, 23, 0, tzinfo=SHANGHAI)),
            dt.datetime(2026, 5, 1, tzinfo=SHANGHAI),
            "on_time",
            "on_time",
        ),
        (
            _sub("submitted", dt.datetime(2026, 4, 26, 0, 1, tzinfo=SHANGHAI)),
            dt.datetime(2026, 5, 1, tzinfo=SHANGHAI),
            "late",
            "late",
        ),
        (
            _sub("returned", dt.datetime(2026, 4, 20, tzinfo=SHANGHAI)),
            dt.datetime(2026, 5, 1, tzinfo=SHANGHAI),
            "returned",
            "on_time",
        ),
        (
            _sub("accepted", dt.datetime(2026, 4, 27, tzinfo=SHANGHAI)),
            dt.datetime(2026, 5, 1, tzinfo=SHANGHAI),
            "accepted_late",
            "late",
        ),
    ],
)
def test_status_late_versus_overdue(sub, now, status, cell):
    (apr,) = report_periods(pilot(D(2026, 4, 1), D(2026, 4, 30)), reports("monthly", due_day=25))
    assert period_status(apr, sub, now) == status
    assert completeness_cell(apr, sub, now) == cell
