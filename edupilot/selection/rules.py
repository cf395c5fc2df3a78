"""Checks every selection write shares: who manages, the issuer's deadline, the scoring state.

Each raises :class:`~edupilot.selection.errors.SelectionError` (``SelectionDenied`` for who
acts) with the message the screen shows.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.applications import locks
from edupilot.applications.models import Application
from edupilot.core.errors import check
from edupilot.core.workdays import add_days, days_text
from edupilot.orgs.scoping import Scope
from edupilot.programmes import schema
from edupilot.programmes.models import Programme
from edupilot.programmes.schema_base import SHANGHAI, to_deadline

from .errors import SelectionDenied, SelectionError
from .permissions import (
    can_manage_selection,
    decision_deadline,
    decision_in_time,
    fmt_time,
    panel_step,
    scoring_state,
)


def check_manage(scope: Scope, programme: Programme) -> None:
    check(can_manage_selection(scope, programme), SelectionDenied)


def rubric_of(programme: Programme) -> schema.Rubric | None:
    return programme.parsed.rubric


def scoring_deadline(application: Application) -> dt.datetime | None:
    """Until when experts may score: the panel step's deadline, else the issuer's."""
    step = panel_step(application)
    if step is None:
        return decision_deadline(application)
    return application.programme.level_deadline(application.category, step["level"])


def check_scoring_deadline(application: Application, now: dt.datetime) -> None:
    step = panel_step(application)
    if step is None:
        return check_decision_deadline(application, now)
    deadline = scoring_deadline(application)
    if deadline is not None and now > deadline:
        raise SelectionError(
            _("“%(stage)s”的截止时间 %(deadline)s（北京时间）已过，不能再进行专家评审。")
            % {"stage": step["name"], "deadline": fmt_time(deadline)}
        )


def panel_stage(application: Application):
    """The panel's stage in the programme file (min_scores, experts), where it is in the chain."""
    step = panel_step(application)
    if step is None:
        return None
    category = application.programme.parsed.category(application.category)
    return category.stage(step["level"]) if category else None


def check_decision_deadline(application: Application, now: dt.datetime) -> None:
    check(decision_in_time(application, now), SelectionError)


def check_scoring_state(application: Application) -> None:
    check(scoring_state(application), SelectionError)


def lock_application(application: Application) -> Application:
    return locks.lock_application(application, "programme", "programme__issuer", "applicant_org")


def _objection_periods(programme: Programme) -> list[tuple[int, bool]]:
    spec = programme.parsed
    return [spec.objection_period(c) for c in spec.categories]


def objection_until(programme: Programme, now: dt.datetime) -> dt.datetime:
    """The end of the objection period of a 公示 published ``now``: counted from the next day,
    in calendar days or (``working_days``) working days on China's calendar, to the end of its
    last day, Beijing time; the longest any category's announcement sets."""
    day = timezone.localtime(now, SHANGHAI).date()
    return to_deadline(max(add_days(day, n, working=w) for n, w in _objection_periods(programme)))


def objection_text(programme: Programme) -> str:
    """The period as the page says it: "5 天" or "5 个工作日" (the longest, when they differ)."""
    periods = _objection_periods(programme)
    probe = timezone.now()
    day = timezone.localtime(probe, SHANGHAI).date()
    n, working = max(periods, key=lambda p: (add_days(day, p[0], working=p[1]), p[1]))
    return days_text(n, working=working)
