"""What the pages of plans, reports, acceptance materials and cases show.

- :func:`submission_sections`: the pilot page's sections, one per stage where the unit hands
  something in: each period with its due day and status, the unit's 填写/提交 buttons and the
  approver's 通过/退回 buttons (from the transition table, greyed out with the reason);
- :func:`submission_page`: one submission, its form (editable by the unit while a draft or
  returned), files and versions with their outcomes.

Queries are constant per page: one for the pilot's submissions, one for their attachments.
"""

from __future__ import annotations

from django.utils import timezone

from edupilot.applications.formspec import count_chars
from edupilot.applications.presenters import FieldView, display_value
from edupilot.programmes.pilot_schema import PilotStageBase

from .models import Pilot, Submission, SubmissionAttachment
from .periods import ESTIMATED_NOTE, STATUS_LABELS, period_status, stage_periods, today_beijing
from .permissions import can_edit_submission, closed_for, is_unit
from .services import SUBMITTABLE_KINDS, stage_form
from .workflows import SUBMISSION

TEMPLATE = "pilots/_submissions.html"


def _soon_days(stage) -> int:
    days = getattr(stage, "remind_days_before", None) or [3]
    return max(days)


def _row(scope, pilot: Pilot, stage, period, sub, now, today) -> dict:
    status = period_status(period, sub, now, _soon_days(stage))
    started = period.start <= today
    can_fill = False
    if is_unit(scope, pilot) and started:
        can_fill = (
            not closed_for(pilot, stage.kind) if sub is None else can_edit_submission(scope, sub)[0]
        )
    return {
        "period": period,
        "started": started,
        "submission": sub,
        "status": status,
        "status_label": STATUS_LABELS[status],
        "can_fill": can_fill,
        "actions": SUBMISSION.actions(scope, sub) if sub is not None else [],
    }


def _visible(rows: list[dict], today) -> list[dict]:
    """Every period that has started, and the next one ahead."""
    out = [r for r in rows if r["started"] or r["submission"] is not None]
    upcoming = [r for r in rows if not r["started"] and r["submission"] is None]
    return out + upcoming[:1]


def submission_sections(scope, pilot) -> list[dict]:
    spec = pilot.spec
    stages = [s for s in (spec.pipeline if spec else []) if s.kind in SUBMITTABLE_KINDS]
    if not stages:
        return []
    now = timezone.now()
    today = today_beijing(now)
    subs = {(s.stage, s.period): s for s in Submission.objects.filter(pilot=pilot)}
    for s in subs.values():
        s.pilot = pilot
    sections = []
    for stage in stages:
        periods = stage_periods(pilot, stage)
        rows = [
            _row(scope, pilot, stage, p, subs.get((stage.key, p.key)), now, today) for p in periods
        ]
        sections.append(
            {
                "template": TEMPLATE,
                "stage": stage,
                "rows": _visible(rows, today),
                "total": len(rows),
                "estimated": any(r["period"].estimated for r in rows),
                "estimated_note": ESTIMATED_NOTE,
            }
        )
    return sections


# --- one submission ---------------------------------------------------------------------------


def _group_rows(f, value, errors) -> list[dict]:
    items = list(value or []) + [{}]
    rows = []
    for i, item in enumerate(items):
        cells = [
            FieldView(
                spec=sub,
                value=item.get(sub.key),
                errors=errors.get(f"{f.key}.{i}.{sub.key}", []),
                display=display_value(sub, item.get(sub.key)),
            )
            for sub in f.fields
        ]
        rows.append({"index": i, "prefix": f"f-{f.key}-{i}-", "cells": cells})
    return rows


def field_views(stage: PilotStageBase, data: dict, errors: dict, attachments) -> list[FieldView]:
    """The stage's form as field views, with what was typed (valid or not) and its errors."""
    form = stage_form(stage)
    by_field: dict[str, list] = {}
    for a in attachments:
        by_field.setdefault(a.field_key, []).append(a)
    views = []
    for f in form.all_fields():
        value = data.get(f.key)
        v = FieldView(
            spec=f,
            value=value,
            errors=errors.get(f.key, []),
            display=display_value(f, value),
            attachments=by_field.get(f.key, []),
        )
        if f.type == "longtext":
            v.chars = count_chars(value or "", f.count)
        if f.type == "group":
            v.rows = _group_rows(f, value, errors)
        views.append(v)
    return views


def submission_page(
    scope, sub: Submission, *, posted_data=None, errors=None, message: str = ""
) -> dict:
    pilot = sub.pilot
    stage = pilot.spec.stage(sub.stage)
    attachments = list(
        SubmissionAttachment.objects.filter(submission=sub, is_current=True)
        .select_related("blob")
        .order_by("pk")
    )
    data = {**sub.data, **(posted_data or {})}
    period = next((p for p in stage_periods(pilot, stage) if p.key == sub.period), None)
    status = period_status(period, sub, timezone.now(), _soon_days(stage))
    return {
        "pilot": pilot,
        "stage": stage,
        "submission": sub,
        "period": period,
        "status_label": STATUS_LABELS[status],
        "fields": field_views(stage, data, errors or {}, attachments),
        "editable": can_edit_submission(scope, sub)[0],
        "actions": SUBMISSION.actions(scope, sub),
        "versions": list(sub.versions.select_related("submitted_by", "decided_by")),
        "message": message,
    }


def new_submission_page(scope, pilot: Pilot, stage, period, *, posted_data=None, errors=None):
    """The blank form of a period not saved yet (the row is made on the first save)."""
    sub = Submission(pilot=pilot, stage=stage.key, kind=stage.kind, period=period.key)
    data = dict(posted_data or {})
    return {
        "pilot": pilot,
        "stage": stage,
        "submission": None,
        "period": period,
        "status_label": STATUS_LABELS[period_status(period, None, timezone.now())],
        "fields": field_views(stage, data, errors or {}, []),
        "editable": is_unit(scope, pilot) and not closed_for(pilot, stage.kind),
        "actions": [],
        "versions": [],
        "unsaved": sub,
    }
