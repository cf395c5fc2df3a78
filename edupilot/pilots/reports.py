"""Reminders, escalation and the reporting rate (completeness) of plans and periodic reports.

- :func:`report_reminders` says what is due on a Beijing day: the unit's applicants are told
  ``remind_days_before`` days before a period is due; once a period is overdue by
  ``escalate_days_after`` days, the supervising org's programme admins are told which units
  have not reported (督促下级), one message per org and period.
  :func:`report_reminders_send` sends each of them once, by its key (the loop of
  ``core.notifications.send_each_once``); the periodic task in ``tasks.py`` calls it, tests
  call it with ``now=``.
- :func:`completeness` is DHIS2's reporting rate: rows are the pilots in scope, columns the
  periods of one report stage, each cell on time / late / missing / not due, totals per
  period; :class:`CompletenessExport` writes it as XLSX.

Both read with a constant number of queries however many pilots there are: the pilots, their
programmes and their submissions, each in one query.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.urls import reverse
from django.utils import timezone

from edupilot.core.notifications import Reminder, ReminderRun, send_each_once
from edupilot.documents.xlsx import Column, XlsxExport
from edupilot.orgs.models import Role
from edupilot.orgs.scoping import Scope
from edupilot.programmes.models import Programme

from .models import Pilot, PilotState, Submission
from .periods import CELL_LABELS, PeriodMemo, completeness_cell, today_beijing
from .selectors import pilots_for, query_int

PROVIDER = "pilots.reports"
OPEN_STATES = (PilotState.ACTIVE, PilotState.RECTIFYING, PilotState.ACCEPTANCE)
# An escalation missed (the worker was down) is still sent this many days later, not after.
CATCH_UP_DAYS = 7
PLAN_REMIND = (3,)
PLAN_ESCALATE = 1
# What the scans read of a pilot: its periods' inputs, who to tell (not the whole row).
PILOT_FIELDS = ("programme_id", "unit_id", "unit_path", "supervisor_id", "starts_on", "ends_on")


def _with_programmes(pilots: list[Pilot]) -> list[Pilot]:
    """Give the pilots their programme rows, one query for all (a programme parsed once)."""
    programmes = Programme.objects.select_related("issuer").in_bulk(
        {p.programme_id for p in pilots}
    )
    for p in pilots:
        p.programme = programmes[p.programme_id]
    return pilots


def _submitted(pilot_ids_q) -> set[tuple]:
    """(pilot, stage, period) of every plan and report handed in (first submitted)."""
    return set(
        Submission.objects.filter(
            pilot__in=pilot_ids_q, kind__in=("plan", "reports"), first_submitted_at__isnull=False
        ).values_list("pilot_id", "stage", "period")
    )


class _Sent(NamedTuple):
    """What a completeness cell reads of a submission (not the whole row with its data)."""

    first_submitted_at: dt.datetime | None
    due_at: dt.datetime | None


def _dated_stages(pilot: Pilot):
    spec = pilot.spec
    for stage in spec.pipeline if spec else []:
        if stage.kind == "reports":
            yield stage, tuple(stage.remind_days_before), stage.escalate_days_after
        elif stage.kind == "plan":
            yield stage, PLAN_REMIND, PLAN_ESCALATE


def report_reminders(today: dt.date) -> Iterable[Reminder]:
    """What is due ``today`` (Beijing): reminders to units, escalations to supervisors."""
    pilots = _with_programmes(
        list(
            Pilot.objects.filter(state__in=OPEN_STATES)
            .select_related("unit")
            .only(*PILOT_FIELDS, "unit__name")
        )
    )
    done = _submitted(Pilot.objects.filter(state__in=OPEN_STATES).values("pk"))
    periods_of = PeriodMemo()
    late: dict[tuple, list[Pilot]] = defaultdict(list)
    escalate_meta: dict[tuple, tuple] = {}
    for pilot in pilots:
        for stage, remind, escalate in _dated_stages(pilot):
            for period in periods_of(pilot, stage):
                if period.due_on is None or (pilot.pk, stage.key, period.key) in done:
                    continue
                what = f"{pilot.programme.title}·{stage.name}" + (
                    f"（{period.label}）" if period.key else ""
                )
                n = (period.due_on - today).days
                if n in remind:
                    when = "今天" if n == 0 else f"{n} 天后"
                    yield Reminder(
                        key=f"pilot-report:{pilot.pk}:{stage.key}:{period.key}:{n}",
                        event="pilot.report_reminder",
                        title=f"{what}{when}截止上报",
                        body=f"请于 {period.due_on:%Y-%m-%d}（北京时间当日24时前）提交。",
                        link=reverse("pilots:detail", args=[pilot.pk]),
                        orgs=(pilot.unit_id,),
                        roles=(Role.APPLICANT,),
                    )
                over = -n
                if escalate <= over <= escalate + CATCH_UP_DAYS and over > 0:
                    k = (pilot.supervisor_id, pilot.programme_id, stage.key, period.key)
                    late[k].append(pilot)
                    escalate_meta[k] = (what, period.due_on)
    for k, units in sorted(late.items(), key=lambda kv: [str(x) for x in kv[0]]):
        supervisor_id, programme_id, stage_key, period_key = k
        what, due_on = escalate_meta[k]
        names = "、".join(p.unit.name for p in units[:20]) + (" 等" if len(units) > 20 else "")
        yield Reminder(
            key=f"pilot-escalate:{programme_id}:{stage_key}:{period_key}:{supervisor_id}",
            event="pilot.report_escalation",
            title=f"{what}：{len(units)} 个试点单位逾期未报",
            body=f"截止日期 {due_on:%Y-%m-%d}，尚未提交：{names}。请督促其尽快上报。",
            link=reverse("pilots:completeness") + f"?programme={programme_id}&stage={stage_key}",
            # The supervising bureau's staff: its admins, and its reviewers where a county
            # bureau has no programme admin of its own.
            orgs=(supervisor_id,),
            roles=(Role.PROGRAMME_ADMIN, Role.REVIEWER),
        )


def report_reminders_send(*, now: dt.datetime | None = None) -> ReminderRun:
    """Send what is due today and was not sent yet; each reminder once, by its key."""
    due = list(report_reminders(today_beijing(now or timezone.now())))
    return send_each_once(due, provider=PROVIDER, run=ReminderRun())


# --- completeness ---------------------------------------------------------------------------


@dataclass
class Completeness:
    programmes: list[Programme]
    programme: Programme | None = None
    stages: list = field(default_factory=list)
    stage: object = None
    columns: list[tuple[str, str]] = field(default_factory=list)  # (period key, label)
    rows: list[dict] = field(default_factory=list)  # {"pilot", "cells": [code or ""]}
    totals: list[dict] = field(default_factory=list)  # per column


def _totals(rows: list[dict], width: int) -> list[dict]:
    out = []
    for i in range(width):
        codes = [r["cells"][i] for r in rows if r["cells"][i]]
        on_time, late = codes.count("on_time"), codes.count("late")
        expected = on_time + late + codes.count("missing")
        out.append(
            {
                "expected": expected,
                "on_time": on_time,
                "late": late,
                "missing": codes.count("missing"),
                "rate": (on_time + late) / expected if expected else None,
                "on_time_rate": on_time / expected if expected else None,
            }
        )
    return out


def completeness(scope: Scope, params, *, now: dt.datetime | None = None) -> Completeness:
    """The reporting rate of one report stage over the pilots the scope sees."""
    now = now or timezone.now()
    base = pilots_for(scope)
    programmes = [
        p
        for p in Programme.objects.filter(pk__in=base.values("programme_id")).order_by("-pk")
        if p.parsed.pilot and p.parsed.pilot.report_stages()
    ]
    data = Completeness(programmes=programmes)
    wanted = query_int(params.get("programme"))
    data.programme = next((p for p in programmes if p.pk == wanted), None) or (
        programmes[0] if programmes else None
    )
    if data.programme is None:
        return data
    data.stages = data.programme.parsed.pilot.report_stages()
    data.stage = next((s for s in data.stages if s.key == params.get("stage")), data.stages[0])
    qs = base.filter(programme=data.programme)
    pilots = list(
        qs.select_related("unit")
        .only(*PILOT_FIELDS, "category", "unit__name")
        .order_by("unit_path", "pk")
    )
    by_key: dict[int, dict] = defaultdict(dict)
    rows = Submission.objects.filter(pilot__in=qs.values("pk"), stage=data.stage.key).values_list(
        "pilot_id", "period", "first_submitted_at", "due_at"
    )
    for pilot_id, period, first, due_at in rows:
        by_key[pilot_id][period] = _Sent(first, due_at)
    memo, keyed = PeriodMemo(), {}
    periods_of = {}
    columns: dict[str, tuple] = {}
    for pilot in pilots:
        pilot.programme = data.programme
        periods = memo(pilot, data.stage)
        if id(periods) not in keyed:  # once per distinct list of periods
            keyed[id(periods)] = {p.key: p for p in periods}
            for p in periods:
                columns.setdefault(p.key, (p.start.replace(day=1), p.key, p.label))
        periods_of[pilot.pk] = keyed[id(periods)]
    ordered = sorted(columns.values())
    data.columns = [(key, label) for _, key, label in ordered]
    for pilot in pilots:
        mine = periods_of[pilot.pk]
        cells = [
            completeness_cell(mine[k], by_key[pilot.pk].get(k), now) if k in mine else ""
            for k, _ in data.columns
        ]
        data.rows.append({"pilot": pilot, "cells": cells})
    data.totals = _totals(data.rows, len(data.columns))
    return data


class CompletenessExport(XlsxExport):
    """The completeness table: one row per pilot, one column per period, then the totals."""

    def __init__(self, data: Completeness):
        self.data = data
        self.title = f"{data.stage.name}上报情况"
        self.heading = f"{data.programme.title}·{data.stage.name}上报情况"
        self.columns = [Column("试点单位", 30), Column("类别", 16)] + [
            Column(label, 12) for _, label in data.columns
        ]

    def rows(self):
        for r in self.data.rows:
            yield [r["pilot"].unit.name, r["pilot"].category_name] + [
                CELL_LABELS[c] if c else "—" for c in r["cells"]
            ]
        yield ["应报", ""] + [t["expected"] for t in self.data.totals]
        yield ["已报（含逾期）", ""] + [t["on_time"] + t["late"] for t in self.data.totals]
        yield ["按时", ""] + [t["on_time"] for t in self.data.totals]
        yield ["上报率", ""] + [
            "—" if t["rate"] is None else f"{t['rate']:.0%}" for t in self.data.totals
        ]
