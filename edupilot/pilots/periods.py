"""When a pilot's plan and reports are due, and where each period stands.

A reports stage (``[[pilot.stages]]`` of kind ``reports``) has one period per calendar month,
quarter, half-year or year inside the pilot's ``[starts_on, ends_on]``; ``midterm`` has one
period ending half-way, ``final`` one ending with the pilot. Keys: ``2027-03``, ``2027-Q1``,
``2027-H1``, ``2027``, ``mid``, ``final``. Each period is due at the end of its due day,
Beijing time.

``working_days``: a due day on a non-working day moves to the next working day and
``due_days`` count working days, on China's working-day calendar (``chinese_calendar``, which
knows 调休; ``edupilot.core.workdays``). For a year the package does not cover yet (the State Council publishes each
year's arrangement in the autumn before), Monday–Friday is used and the period is marked
``estimated`` so the page can say so.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from edupilot.core.workdays import (  # noqa: F401 - re-exported: the calendar pilots count on
    ESTIMATED_NOTE,
    add_workdays,
    is_workday,
    next_workday,
)
from edupilot.programmes.pilot_schema import PilotStageBase, PlanStage, ReportsStage
from edupilot.programmes.schema_base import SHANGHAI, to_deadline

DEFAULT_MONTHS = 24


@dataclass(frozen=True)
class Period:
    key: str  # '' for a stage without periods (the plan)
    label: str
    start: dt.date
    end: dt.date
    due_on: dt.date | None
    estimated: bool = False  # the due day used Monday–Friday (holidays not published yet)

    @property
    def due_at(self) -> dt.datetime | None:
        return to_deadline(self.due_on) if self.due_on else None


# --- periods --------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def pilot_end(pilot) -> dt.date:
    """The pilot's last day: ``ends_on``, else its start plus the programme's duration."""
    if pilot.ends_on:
        return pilot.ends_on
    spec = pilot.spec
    months = (spec.duration_months if spec else None) or DEFAULT_MONTHS
    return add_months(pilot.starts_on, months) - dt.timedelta(days=1)


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _calendar_spans(cadence: str, start: dt.date, end: dt.date):
    """(key, label, first day, last day) of each calendar period overlapping [start, end]."""
    step = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}[cadence]
    year, month = start.year, (start.month - 1) // step * step + 1
    while dt.date(year, month, 1) <= end:
        last_month = month + step - 1
        first, last = dt.date(year, month, 1), _month_end(year, last_month)
        if cadence == "monthly":
            key = f"{year}-{month:02d}"
            # The catalogue's month format ("Y年n月" → "F Y"): "2024年5月", "May 2024".
            label = dateformat.format(dt.date(year, month, 1), _("Y年n月"))
        elif cadence == "quarterly":
            q = (month - 1) // 3 + 1
            key = f"{year}-Q{q}"
            label = _("%(year)s年第%(quarter)s季度") % {"year": year, "quarter": q}
        elif cadence == "semiannual":
            h = 1 if month == 1 else 2
            key = f"{year}-H{h}"
            half = _("%(year)s年上半年") if h == 1 else _("%(year)s年下半年")
            label = half % {"year": year}
        else:
            key, label = f"{year}", _("%(year)s年") % {"year": year}
        yield key, label, max(first, start), min(last, end)
        year, month = (year + 1, 1) if last_month == 12 else (year, last_month + 1)


def _due(stage: ReportsStage, key: str, start: dt.date, end: dt.date) -> tuple[dt.date, bool]:
    if stage.cadence == "monthly":
        year, month = int(key[:4]), int(key[5:7])
        if stage.due_month == "next":
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        day = dt.date(year, month, stage.due_day)
        return next_workday(day) if stage.working_days else (day, False)
    if stage.working_days:
        return add_workdays(end, stage.due_after)
    return end + dt.timedelta(days=stage.due_after), False


def report_periods(pilot, stage: ReportsStage) -> list[Period]:
    """The periods of ``stage`` for ``pilot``, in order, each with its due day.

    A monthly report due (this month's ``due_day``) before the pilot has started is not asked
    for: the first report is the first one due after the start.
    """
    start, end = pilot.starts_on, pilot_end(pilot)
    if stage.cadence in ("midterm", "final"):
        if stage.cadence == "midterm":
            mid = start + (end - start) / 2
            spans = [("mid", _("中期"), start, mid)]
        else:
            spans = [("final", _("期末"), start, end)]
    else:
        spans = list(_calendar_spans(stage.cadence, start, end))
    out = []
    for key, label, first, last in spans:
        due_on, estimated = _due(stage, key, first, last)
        if due_on < start:
            continue
        out.append(Period(key, label, first, last, due_on, estimated))
    return out


def plan_period(pilot, stage: PlanStage) -> Period:
    due_on = pilot.starts_on + dt.timedelta(days=stage.due_days)
    return Period("", stage.name, pilot.starts_on, due_on, due_on)


def stage_periods(pilot, stage: PilotStageBase) -> list[Period]:
    """The periods a unit hands something in for at ``stage``: one per report period, the plan
    with its due day, one undated period for acceptance materials and cases."""
    if stage.kind == "reports":
        return report_periods(pilot, stage)
    if stage.kind == "plan":
        return [plan_period(pilot, stage)]
    if stage.kind in ("acceptance", "cases"):
        end = pilot_end(pilot)
        return [Period("", stage.name, pilot.starts_on, end, None)]
    return []


class PeriodMemo:
    """:func:`stage_periods` computed once per programme, stage and pilot dates: the scans over
    every pilot (completeness, reminders) share the periods of pilots that started together
    instead of walking the calendar for each one. The lists are shared: do not change them."""

    def __init__(self) -> None:
        self._memo: dict[tuple, list[Period]] = {}

    def __call__(self, pilot, stage: PilotStageBase) -> list[Period]:
        key = (pilot.programme_id, stage.key, pilot.starts_on, pilot.ends_on)
        periods = self._memo.get(key)
        if periods is None:
            periods = self._memo[key] = stage_periods(pilot, stage)
        return periods


def find_period(pilot, stage: PilotStageBase, key: str) -> Period | None:
    return next((p for p in stage_periods(pilot, stage) if p.key == key), None)


# --- status ---------------------------------------------------------------------------------

STATUS_LABELS = {
    "not_due": gettext_lazy("未到期"),
    "due_soon": gettext_lazy("即将到期"),
    "overdue": gettext_lazy("逾期未交"),
    "draft": gettext_lazy("草稿"),
    "on_time": gettext_lazy("按时提交"),
    "late": gettext_lazy("逾期提交"),
    "returned": gettext_lazy("已退回修改"),
    "accepted": gettext_lazy("已通过"),
    "accepted_late": gettext_lazy("已通过（逾期提交）"),
}
# The completeness XLSX's cells: the export is written in Chinese (views_submissions).
CELL_LABELS = {"on_time": "按时", "late": "逾期", "missing": "未交", "not_due": "未到期"}


def _due_at(period: Period | None, submission) -> dt.datetime | None:
    if submission is not None and submission.due_at is not None:
        return submission.due_at
    return period.due_at if period else None


def period_status(period: Period | None, submission, now: dt.datetime, soon_days: int = 3) -> str:
    """Where a period stands: one of :data:`STATUS_LABELS`.

    Lateness is judged by the first submission (a report returned and resubmitted after the
    due day was still handed in on time); overdue means nothing submitted and the due day past.
    """
    due_at = _due_at(period, submission)
    state = getattr(submission, "state", None)
    first = getattr(submission, "first_submitted_at", None)
    if state == "returned":
        return "returned"
    if first is not None:
        late = due_at is not None and first > due_at
        if state == "accepted":
            return "accepted_late" if late else "accepted"
        return "late" if late else "on_time"
    if due_at is None:
        return "draft" if submission is not None else "not_due"
    if now > due_at:
        return "overdue"
    if due_at - now <= dt.timedelta(days=soon_days):
        return "due_soon"
    return "draft" if submission is not None else "not_due"


def completeness_cell(period: Period, submission, now: dt.datetime) -> str:
    """A reporting-rate cell: ``on_time``, ``late``, ``missing`` or ``not_due``."""
    due_at = _due_at(period, submission)
    first = getattr(submission, "first_submitted_at", None)
    if first is not None:
        return "late" if due_at is not None and first > due_at else "on_time"
    if due_at is not None and now > due_at:
        return "missing"
    return "not_due"


def today_beijing(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now(), SHANGHAI).date()
