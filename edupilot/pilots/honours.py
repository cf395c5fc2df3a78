"""Titles (称号认定), awards (以奖代补) and published cases (典型案例) of the pilot period.

- Titles of an ``appraisal`` stage: the issuer proposes a title for a pilot whose acceptance
  grade is among the title's grades, announces the proposed ones (公示, ``objection_days``),
  withdraws one when an objection is upheld, and finalizes after the period (also done by a
  periodic task, :func:`honours_finalize` with ``now``). Final titles are public.
- Awards of an ``awards`` stage: to accepted pilots, by grade or by a rank the issuer gives;
  the stage's :class:`~.models.AwardBudget` row is locked so that the total granted never
  exceeds the budget, however many issuers grant at once.
- Cases: a ``cases`` stage's submission, once accepted, is on the public page.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record
from edupilot.core.errors import Refused, check, posted_text
from edupilot.core.notifications import notify
from edupilot.core.workdays import add_days
from edupilot.orgs.models import Role
from edupilot.orgs.scoping import Scope
from edupilot.programmes.models import Programme
from edupilot.programmes.schema import to_deadline

from .models import (
    Award,
    AwardBudget,
    Honour,
    HonourObjection,
    HonourObjectionState,
    HonourState,
    Pilot,
    PilotState,
)
from .permissions import can_grant_award, can_manage_honours, is_issuer_admin
from .workflows import HONOUR

TEXT_MAX = 2000


class HonourError(Refused):
    pass


def _stage(programme: Programme, key: str, kind: str):
    spec = programme.parsed.pilot
    stage = spec.stage(key) if spec else None
    if stage is None or stage.kind != kind:
        raise HonourError(_("试点期没有这个环节。"))
    return stage


def _note(text: str, field: str = "note") -> str:
    return posted_text(text, field=field, label=_("说明"), limit=TEXT_MAX, exc=HonourError)


def _tell_unit(pilot: Pilot, title: str, body: str, actor: Actor | None) -> None:
    notify(
        orgs=[pilot.unit_id],
        roles=[Role.APPLICANT],
        event="pilot.honour",
        title=title,
        body=body,
        link=reverse("pilots:detail", args=[pilot.pk]),
        exclude_users=[actor.user] if actor and actor.user else [],
    )


# --- titles ---------------------------------------------------------------------------------


@transaction.atomic
def honour_propose(
    *, pilot: Pilot, stage: str, title: str, note: str = "", scope: Scope, actor: Actor
) -> Honour:
    pilot = (
        Pilot.objects.select_for_update()
        .select_related("programme", "programme__issuer", "unit")
        .get(pk=pilot.pk)
    )
    check(can_manage_honours(scope, pilot.programme))  # who acts: 403
    appraisal = _stage(pilot.programme, stage, "appraisal")
    spec = next((t for t in appraisal.titles if t.key == title), None)
    if spec is None:
        raise HonourError(_("请选择称号。"), {"title": [_("请选择称号")]})
    acceptance = pilot.spec.stage_of("acceptance")
    grade = acceptance.grade(pilot.grade) if acceptance and pilot.grade else None
    if pilot.state != PilotState.ACCEPTED or grade is None or grade.result != "pass":
        raise HonourError(
            _("“%(unit)s”尚未通过验收，不能认定“%(spec)s”。")
            % {"unit": pilot.unit.name, "spec": spec.name}
        )
    if spec.grades and pilot.grade not in spec.grades:
        names = "、".join(g.name for g in acceptance.grades if g.key in spec.grades)
        raise HonourError(
            _("“%(spec)s”须验收等级为%(names)s；“%(unit)s”的等级为%(grade_name)s。")
            % {
                "spec": spec.name,
                "names": names,
                "unit": pilot.unit.name,
                "grade_name": pilot.grade_name,
            }
        )
    existing = Honour.objects.filter(pilot=pilot, stage=stage, title_key=title).first()
    if existing is not None:
        raise HonourError(
            _("“%(unit)s”已有“%(spec)s”（%(state)s）。")
            % {"unit": pilot.unit.name, "spec": spec.name, "state": existing.get_state_display()}
        )
    honour = Honour.objects.create(
        pilot=pilot,
        stage=stage,
        title_key=title,
        title_name=spec.name,
        proposed_by=actor.user,
        note=_note(note),
        state=HONOUR.initial("propose"),
    )
    audit_record(
        actor=actor,
        action="pilot.honour.propose",
        obj=honour,
        after={"pilot": pilot.pk, "title": title},
    )
    return honour


@transaction.atomic
def honours_announce(
    *, programme: Programme, stage: str, scope: Scope, actor: Actor, now: dt.datetime | None = None
) -> int:
    """公示: every proposed title of the stage, until ``objection_days`` (calendar or working
    days) from today."""
    now = now or timezone.now()
    programme = Programme.objects.select_for_update().select_related("issuer").get(pk=programme.pk)
    check(can_manage_honours(scope, programme))  # who acts: 403
    appraisal = _stage(programme, stage, "appraisal")
    honours = list(
        Honour.objects.select_for_update()
        .select_related("pilot", "pilot__unit")
        .filter(pilot__programme=programme, stage=stage, state=HonourState.PROPOSED)
        .order_by("pk")
    )
    if not honours:
        raise HonourError(_("没有拟认定的称号，请先提出拟认定名单。"))
    # Calendar or (working_days) working days from the next day, to the end of the last one.
    until = to_deadline(
        add_days(
            timezone.localtime(now).date(),
            appraisal.objection_days,
            working=appraisal.working_days,
        )
    )
    for h in honours:
        HONOUR.advance(h, "announce")
        h.announced_at, h.objection_until = now, until
        h.save(update_fields=["state", "announced_at", "objection_until"])
        _tell_unit(
            h.pilot,
            f"“{h.title_name}”拟认定名单公示",
            f"{programme.title}：拟认定为“{h.title_name}”，公示期至 "
            f"{timezone.localtime(until):%Y-%m-%d %H:%M}。",
            actor,
        )
    audit_record(
        actor=actor,
        action="pilot.honours.announce",
        obj=programme,
        after={"stage": stage, "honours": [h.pk for h in honours], "until": until},
    )
    return len(honours)


@transaction.atomic
def honour_withdraw(*, honour: Honour, reason: str, scope: Scope, actor: Actor) -> Honour:
    h = (
        Honour.objects.select_for_update()
        .select_related("pilot", "pilot__programme")
        .get(pk=honour.pk)
    )
    check(can_manage_honours(scope, h.pilot.programme))  # who acts: 403
    HONOUR.refuse_unless(h, "withdraw")
    reason = _note(reason, "reason")
    if not reason:
        raise HonourError(_("请填写撤销理由。"), {"reason": [_("请填写撤销理由")]})
    _withdraw(h, note=f"撤销：{reason}", told=reason, actor=actor, reason=reason)
    return h


def _withdraw(h: Honour, *, note: str, told: str, actor: Actor, **after) -> None:
    """Withdraw the locked title: its note keeps why; the audit trail and the unit are told."""
    before = h.state
    HONOUR.advance(h, "withdraw")
    h.note = f"{h.note}\n{note}".strip()
    h.save(update_fields=["state", "note"])
    audit_record(
        actor=actor,
        action="pilot.honour.withdraw",
        obj=h,
        before={"state": before},
        after={"state": h.state, **after},
    )
    _tell_unit(h.pilot, f"“{h.title_name}”认定已撤销", told, actor)


@transaction.atomic
def honours_finalize(
    *,
    programme: Programme | None = None,
    stage: str | None = None,
    scope: Scope | None = None,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Announced titles whose period is over become FINAL. With a scope (the issuer's page)
    one programme's stage, refused while the period runs; without (the periodic task) all."""
    now = now or timezone.now()
    qs = Honour.objects.select_for_update().filter(state=HonourState.ANNOUNCED)
    if scope is not None:
        programme = Programme.objects.select_related("issuer").get(pk=programme.pk)
        check(can_manage_honours(scope, programme))  # who acts: 403
        qs = qs.filter(pilot__programme=programme, stage=stage)
        running = [h for h in qs if h.objection_until and h.objection_until > now]
        if running:
            until = timezone.localtime(max(h.objection_until for h in running))
            raise HonourError(
                _("公示期至 %(until)s，期满后才能公布认定名单。")
                % {"until": format(until, "%Y-%m-%d %H:%M")}
            )
        held = (
            HonourObjection.objects.filter(
                state=HonourObjectionState.OPEN,
                honour__state=HonourState.ANNOUNCED,
                honour__pilot__programme=programme,
                honour__stage=stage,
            )
            .order_by("honour_id")
            .values_list("honour__pilot__unit__name", flat=True)
            .distinct()
        )
        names = "、".join(held)
        if names:
            raise HonourError(
                _("还有异议未处理（%(names)s），请先处理再公布认定名单。") % {"names": names}
            )
    # A title with an objection still open waits until the issuer resolves it.
    honours = list(
        qs.filter(objection_until__lte=now)
        .exclude(objections__state=HonourObjectionState.OPEN)
        .select_related("pilot")
        .order_by("pk")
    )
    for h in honours:
        HONOUR.advance(h, "finalize")
        h.final_at = now
        h.save(update_fields=["state", "final_at"])
        _tell_unit(h.pilot, f"已认定为“{h.title_name}”", "公示期满，认定名单已公布。", actor)
    if honours:
        audit_record(
            actor=actor or Actor.system(),
            action="pilot.honours.finalize",
            object_type="pilots.honour",
            after={"honours": [h.pk for h in honours]},
        )
    return len(honours)


# --- awards --------------------------------------------------------------------------------


def _budget(programme: Programme, stage) -> AwardBudget:
    AwardBudget.objects.get_or_create(
        programme=programme, stage=stage.key, defaults={"budget": stage.budget}
    )
    return AwardBudget.objects.select_for_update().get(programme=programme, stage=stage.key)


@transaction.atomic
def award_grant(
    *,
    pilot: Pilot,
    stage: str,
    rank: int | None = None,
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> Award:
    """Grant the stage's amount for the pilot's grade (or the rank given); within budget."""
    now = now or timezone.now()
    pilot = Pilot.objects.select_related("programme", "programme__issuer", "unit").get(pk=pilot.pk)
    check(is_issuer_admin(scope, pilot.programme))  # who acts (403) before anything else
    awards = _stage(pilot.programme, stage, "awards")
    budget = _budget(pilot.programme, awards)  # every grant of the stage queues here
    pilot = Pilot.objects.select_for_update().select_related("programme", "unit").get(pk=pilot.pk)
    check(can_grant_award(scope, pilot), HonourError)
    if Award.objects.filter(pilot=pilot, stage=stage).exists():
        raise HonourError(
            _("“%(unit)s”已获%(awards)s奖补。") % {"unit": pilot.unit.name, "awards": awards.name}
        )
    if awards.by_grade:
        amount = awards.by_grade.get(pilot.grade)
        if amount is None:
            raise HonourError(
                _("验收等级为%(grade_name)s的试点没有%(awards)s奖补。")
                % {"grade_name": pilot.grade_name, "awards": awards.name}
            )
        basis, rank = pilot.grade_name, None
    else:
        if rank is None or not 1 <= rank <= len(awards.by_rank):
            msg = _("请填写名次（1 到 %(max)s）。") % {"max": len(awards.by_rank)}
            raise HonourError(msg, {"rank": [msg]})
        if Award.objects.filter(pilot__programme=pilot.programme, stage=stage, rank=rank).exists():
            raise HonourError(
                _("第 %(rank)s 名已授予其他试点。") % {"rank": rank}, {"rank": [_("该名次已授予")]}
            )
        amount, basis = awards.by_rank[rank - 1], f"第 {rank} 名"
    remaining = budget.budget - budget.granted
    if amount > remaining:
        raise HonourError(
            _(
                "奖补金额 %(amount)s 元超过预算余额 %(remaining)s 元（预算 %(budget)s 元，已奖补 %(granted)s 元），未授予。"
            )
            % {
                "amount": format(amount, ",.2f"),
                "remaining": format(remaining, ",.2f"),
                "budget": format(budget.budget, ",.2f"),
                "granted": format(budget.granted, ",.2f"),
            }
        )
    award = Award.objects.create(
        pilot=pilot, stage=stage, amount=Decimal(amount), basis=basis, rank=rank,
        decided_by=actor.user, decided_at=now,
    )  # fmt: skip
    budget.granted += Decimal(amount)
    budget.save(update_fields=["granted"])
    audit_record(
        actor=actor,
        action="pilot.award.grant",
        obj=award,
        after={"pilot": pilot.pk, "amount": amount, "basis": basis, "granted": budget.granted},
    )
    _tell_unit(
        pilot,
        f"获{awards.name}奖补",
        f"{pilot.programme.title}：{amount:,.2f} 元（{basis}）。",
        actor,
    )
    return award
