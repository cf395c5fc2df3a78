"""China's working-day calendar: 公示 periods, review windows and report due days counted in
working days (工作日).

Holidays and the make-up working days (调休) come from ``chinese_calendar``, which follows the
State Council's yearly arrangement. For a year the package does not cover yet (the arrangement
is published in the autumn before), Monday–Friday is used and the result is marked
*estimated*, so that a page can say so.

The base layer: knows no app (programmes, pilots and selection all count with it).
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from django.utils.translation import gettext_lazy

ESTIMATED_NOTE = gettext_lazy("该年度节假日安排尚未发布，按周一至周五计算")


def is_workday(day: dt.date) -> tuple[bool, bool]:
    """(is a working day, estimated): China's calendar, or Monday–Friday beyond its years."""
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:
        return day.weekday() < 5, True


def next_workday(day: dt.date) -> tuple[dt.date, bool]:
    """``day`` if it is a working day, else the next one; and whether that was estimated."""
    estimated = False
    while True:
        ok, est = is_workday(day)
        estimated |= est
        if ok:
            return day, estimated
        day += dt.timedelta(days=1)


def add_workdays(day: dt.date, n: int) -> tuple[dt.date, bool]:
    """The ``n``-th working day after ``day`` (``n = 0``: ``day`` or the next working day)."""
    if n == 0:
        return next_workday(day)
    estimated = False
    while n > 0:
        day += dt.timedelta(days=1)
        ok, est = is_workday(day)
        estimated |= est
        n -= ok
    return day, estimated


def add_days(day: dt.date, n: int, *, working: bool) -> dt.date:
    """``n`` days after ``day``: calendar days, or (``working``) the ``n``-th working day."""
    if working:
        return add_workdays(day, n)[0]
    return day + dt.timedelta(days=n)


def days_text(n: int, *, working: bool) -> str:
    """``5 个工作日`` or ``5 天``, as a page says a period."""
    return f"{n} 个工作日" if working else f"{n} 天"
