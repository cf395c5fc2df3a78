"""Checks every selection write shares: who manages, the issuer's deadline, the scoring state.

Each raises :class:`~edupilot.selection.errors.SelectionError` (``SelectionDenied`` for who
acts) with the message the screen shows.
"""

from __future__ import annotations

import datetime as dt

from edupilot.applications import locks
from edupilot.applications.models import Application
from edupilot.core.errors import check
from edupilot.orgs.scoping import Scope
from edupilot.programmes import schema
from edupilot.programmes.models import Programme

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
            f"“{step['name']}”的截止时间 {fmt_time(deadline)}（北京时间）已过，不能再进行专家评审。"
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


def objection_days(programme: Programme) -> int:
    """Days of the 公示's objection period: the longest any category's announcement stage sets
    (``objection_days`` of a ``kind = "announcement"`` stage), else ``[announcement]``'s."""
    spec = programme.parsed
    days = [
        s.objection_days
        for c in spec.categories
        for s in c.pipeline
        if s.kind == "announcement" and s.objection_days is not None
    ]
    return max(days) if days else spec.announcement.objection_days
