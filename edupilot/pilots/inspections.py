"""Inspections (检查指导): schedule, record findings and rectification demands, the unit's
answer, closing or demanding again. Rows of the :data:`~.workflows.INSPECTION` table.

Every write locks the inspection (or the pilot, when scheduling), checks the predicate, saves,
records an audit event and notifies the other side when the transaction commits.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record
from edupilot.core.errors import Refused, check, posted_text
from edupilot.core.notifications import notify
from edupilot.orgs.models import Role
from edupilot.orgs.scoping import Scope

from .models import Inspection, InspectionState, Pilot
from .permissions import (
    can_close_inspection,
    can_record_inspection,
    can_respond_inspection,
    can_schedule_inspection,
    is_inspector,
)
from .workflows import INSPECTION

TEXT_MAX = 5000
MODE_LABELS = {"site": "实地检查", "document": "材料检查"}


class InspectionError(Refused):
    pass


def _text(value, field: str, label: str, *, required: bool = True, limit: int = TEXT_MAX) -> str:
    return posted_text(
        value,
        field=field,
        label=label,
        limit=limit,
        exc=InspectionError,
        required=label if required else "",
    )


def _link(inspection: Inspection) -> str:
    return reverse("pilots:detail", args=[inspection.pilot_id]) + f"#inspection-{inspection.pk}"


def _notify_unit(inspection: Inspection, title: str, body: str, actor: Actor) -> None:
    notify(
        orgs=[inspection.pilot.unit_id],
        roles=[Role.APPLICANT],
        event="pilot.inspection",
        title=title,
        body=body,
        link=_link(inspection),
        exclude_users=[actor.user],
    )


def _lock(inspection: Inspection) -> Inspection:
    return (
        Inspection.objects.select_for_update()
        .select_related("pilot", "pilot__programme", "pilot__programme__issuer")
        .select_related("pilot__unit", "pilot__supervisor", "org")
        .get(pk=inspection.pk)
    )


def _open(inspection: Inspection, scope: Scope, permitted, transition: str) -> Inspection:
    """The inspection locked, once ``permitted`` and the table allow ``transition`` on it."""
    ins = _lock(inspection)
    check(permitted(scope, ins))  # who acts (403): the unit, or an inspector
    INSPECTION.refuse_unless(ins, transition)
    return ins


def _rectify_by(ins: Inspection, days: int | None, now: dt.datetime) -> dt.date:
    """The rectification's due day: ``days`` (the stage's default when None) from today."""
    if days is None:
        days = ins.pilot.spec.stage(ins.stage).rectify_days
    if not 1 <= days <= 366:
        raise InspectionError(
            _("整改期限应在 1 到 366 天之间。"), {"rectify_days": [_("1–366 天")]}
        )
    return timezone.localtime(now).date() + dt.timedelta(days=days)


@transaction.atomic
def inspection_schedule(
    *,
    pilot: Pilot,
    mode: str,
    scheduled_for: dt.date | None,
    team: str,
    scope: Scope,
    actor: Actor,
) -> Inspection:
    pilot = (
        Pilot.objects.select_for_update()
        .select_related("programme", "programme__issuer", "unit", "supervisor")
        .get(pk=pilot.pk)
    )
    check(is_inspector(scope, pilot))  # who acts (403), then whether now
    check(can_schedule_inspection(scope, pilot), InspectionError)
    stage = pilot.spec.stage_of("inspection")
    if mode not in stage.modes:
        allowed = "、".join(MODE_LABELS[m] for m in stage.modes)
        raise InspectionError(
            _("检查方式只能是：%(allowed)s。") % {"allowed": allowed},
            {"mode": [_("请选择检查方式")]},
        )
    if scheduled_for is None:
        raise InspectionError(_("请填写检查日期。"), {"scheduled_for": [_("请填写检查日期")]})
    team = _text(team, "team", _("检查组成员"), limit=300)
    inspection = Inspection.objects.create(
        pilot=pilot,
        stage=stage.key,
        mode=mode,
        org_id=scope.org_id,
        scheduled_for=scheduled_for,
        team=team,
        created_by=actor.user,
        state=INSPECTION.initial("schedule"),
    )
    audit_record(
        actor=actor,
        action="pilot.inspection.schedule",
        obj=inspection,
        after={"pilot": pilot.pk, "mode": mode, "date": scheduled_for, "team": team},
    )
    _notify_unit(
        inspection,
        f"{MODE_LABELS[mode]}已安排",
        f"{pilot.programme.title}：{scope.org.name}定于 {scheduled_for:%Y-%m-%d} 进行{MODE_LABELS[mode]}，"
        f"检查组：{team}。",
        actor,
    )
    return inspection


@transaction.atomic
def inspection_record(
    *,
    inspection: Inspection,
    findings: str,
    demands: str = "",
    rectify_days: int | None = None,
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> Inspection:
    """Findings; with rectification demands the inspection waits for the unit, else closes."""
    now = now or timezone.now()
    ins = _open(inspection, scope, can_record_inspection, "record")
    findings = _text(findings, "findings", _("检查意见"))
    demands = _text(demands, "demands", _("整改要求"), required=False)
    before = {"state": ins.state}
    ins.findings = findings
    if demands:
        rectify_by = _rectify_by(ins, rectify_days, now)
        INSPECTION.advance(ins, "record", to=InspectionState.RECTIFYING)
        ins.demands = demands
        ins.rectify_by = rectify_by
    else:
        INSPECTION.advance(ins, "record", to=InspectionState.CLOSED)
        ins.closed_at = now
    ins.save()
    audit_record(
        actor=actor,
        action="pilot.inspection.record",
        obj=ins,
        before=before,
        after={"state": ins.state, "demands": bool(demands), "rectify_by": ins.rectify_by},
    )
    if demands:
        body = f"检查意见：{findings}\n整改要求：{demands}\n请于 {ins.rectify_by:%Y-%m-%d} 前提交整改情况。"
        _notify_unit(ins, "检查提出整改要求", body, actor)
    else:
        _notify_unit(ins, "检查已结束", f"检查意见：{findings}", actor)
    return ins


@transaction.atomic
def inspection_respond(
    *,
    inspection: Inspection,
    response: str,
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> Inspection:
    now = now or timezone.now()
    ins = _open(inspection, scope, can_respond_inspection, "respond")
    ins.response = _text(response, "response", _("整改情况"))
    INSPECTION.advance(ins, "respond")
    ins.responded_at = now
    ins.save()
    audit_record(
        actor=actor,
        action="pilot.inspection.respond",
        obj=ins,
        before={"state": InspectionState.RECTIFYING},
        after={"state": ins.state},
    )
    notify(
        users=[ins.created_by_id] if ins.created_by_id else [],
        orgs=[ins.org_id],
        roles=[Role.REVIEWER, Role.PROGRAMME_ADMIN],
        event="pilot.inspection.respond",
        title=f"{ins.pilot.unit.name}已提交整改情况",
        body=ins.response[:500],
        link=_link(ins),
        exclude_users=[actor.user],
    )
    return ins


@transaction.atomic
def inspection_close(
    *,
    inspection: Inspection,
    conclusion: str,
    again: bool = False,
    rectify_days: int | None = None,
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> Inspection:
    """Accept the rectification and close, or (``again``) demand further rectification."""
    now = now or timezone.now()
    name = "demand_again" if again else "close"
    ins = _open(inspection, scope, can_close_inspection, name)
    conclusion = _text(conclusion, "conclusion", _("意见"))
    INSPECTION.advance(ins, name)
    if again:
        rectify_by = _rectify_by(ins, rectify_days or None, now)  # 0: the stage's default
        ins.demands = (
            f"{ins.demands}\n\n{timezone.localtime(now):%Y-%m-%d} 继续整改：{conclusion}".strip()
        )
        ins.rectify_by = rectify_by
    else:
        ins.conclusion = conclusion
        ins.closed_at = now
    ins.save()
    audit_record(
        actor=actor,
        action=f"pilot.inspection.{name}",
        obj=ins,
        before={"state": InspectionState.ANSWERED},
        after={"state": ins.state, "conclusion": conclusion},
    )
    if again:
        body = f"整改不到位：{conclusion}\n请于 {ins.rectify_by:%Y-%m-%d} 前再次提交整改情况。"
        _notify_unit(ins, "检查要求继续整改", body, actor)
    else:
        _notify_unit(ins, "整改已验收，检查结束", conclusion, actor)
    return ins
