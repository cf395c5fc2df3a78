"""Site verification: the certifier sends a team; the team confirms or overturns indicators
(an overturn needs a reason) and closes the visit with its conclusion."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record
from edupilot.core.notifications import notify
from edupilot.orgs.models import Membership, Org, Role
from edupilot.orgs.scoping import Scope

from .. import engine
from ..models import Entry, Finding, SiteVisit, Verdict, VisitState
from ..permissions import can_assign_visit, can_complete_visit, can_record_finding
from ..workflows import VISIT
from .assessment import BatchPlan, assess_entries, plain_values
from .common import Refused, advance_audited, check, open_entry, store_evidence, visits_link


def team_member_q(certifier: Org) -> Q:
    """Memberships that may sit on a verification team: experts, or the certifier's staff."""
    return Q(role=Role.EXPERT) | Q(org=certifier, role__in=[Role.REVIEWER, Role.PROGRAMME_ADMIN])


@transaction.atomic
def visit_assign(
    *,
    entry: Entry,
    team: list,
    team_note: str,
    planned_for: dt.date | None,
    scope: Scope | None,
    actor: Actor,
) -> SiteVisit:
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    check(can_assign_visit(scope, entry))
    open_entry(entry)
    if entry.gate_reason:  # a school the batch's application gate keeps out is not assessed
        raise Refused(_("%(gate_reason)s。不安排实地核查") % {"gate_reason": entry.gate_reason})
    if entry.visits.filter(state=VisitState.ASSIGNED).exists():
        raise Refused(_("该校已有进行中的实地核查"))
    if not team and not team_note.strip():
        raise Refused(_("请指定核查组成员"))
    for user in team:
        ok = Membership.objects.filter(user=user, is_active=True).filter(
            team_member_q(entry.certifier)
        )
        if not ok.exists():
            raise Refused(
                _("%(user)s 不是评审专家或%(certifier)s的工作人员，不能加入核查组")
                % {"user": user, "certifier": entry.certifier.name}
            )
    visit = SiteVisit.objects.create(
        entry=entry,
        state=VISIT.initial("assign"),
        team_note=team_note.strip()[:300],
        planned_for=planned_for,
        assigned_by=actor.user,
        assigned_at=timezone.now(),
    )
    visit.team.set(team)
    audit_record(
        actor=actor,
        action="certification.visit_assign",
        obj=visit,
        after={
            "entry": entry.pk,
            "team": [u.pk for u in team],
            "team_note": visit.team_note,
            "planned_for": planned_for,
        },
    )
    if team:
        when = f"，计划于 {planned_for} 进行" if planned_for else ""
        notify(
            users=team,
            event="certification.visit_assigned",
            title=f"您被指派参加{entry.school.name}的实地核查",
            body=f"{entry.certifier.name}指派{when}。请在“我的核查任务”中记录核查意见。",
            link=visits_link(),
            exclude_users=[actor.user],
        )
    return visit


def data_outcome(entry: Entry, code: str) -> bool:
    """Whether the data alone (no findings) meets indicator ``code`` for this school."""
    plan = BatchPlan(entry.batch)
    values = plain_values(entry.data)
    for standard in plan.standards_for(entry.certifier_id, entry.stage_list):
        if code in standard.by_code:
            outcome = standard.assess(values, entry.stage_list, detail=True)
            return outcome.indicators[code].status == engine.MET
    raise Refused(_("指标 %(code)s 不在该校适用的认定标准中") % {"code": code})


@transaction.atomic
def finding_record(
    *,
    visit: SiteVisit,
    indicator: str,
    met: bool,
    observed: str,
    reason: str,
    evidence: list[tuple[str, bytes]],
    scope: Scope | None,
    actor: Actor,
) -> Finding:
    """The team's finding on one indicator: confirms the data or overturns it (with reason)."""
    visit = SiteVisit.objects.select_for_update().get(pk=visit.pk)
    check(can_record_finding(scope, visit))
    if visit.state != VisitState.ASSIGNED:
        raise Refused(_("该实地核查已完成，不能再记录"))
    VISIT.refuse_unless(visit, "record_finding")
    entry = visit.entry
    open_entry(entry)
    from_data = data_outcome(entry, indicator)
    verdict = Verdict.CONFIRM if met == from_data else Verdict.OVERTURN
    if verdict == Verdict.OVERTURN and not reason.strip():
        raise Refused(
            _("核查结果与数据不一致（推翻数据）时须填写理由：指标 %(indicator)s")
            % {"indicator": indicator}
        )
    finding = Finding.objects.filter(visit=visit, indicator=indicator).first()
    before = (
        {"verdict": finding.verdict, "met": finding.met, "reason": finding.reason}
        if finding
        else None
    )
    finding = finding or Finding(visit=visit, indicator=indicator)
    finding.verdict, finding.met = verdict, met
    finding.observed, finding.reason = observed.strip()[:200], reason.strip()
    finding.recorded_by, finding.recorded_at = actor.user, timezone.now()
    finding.save()
    store_evidence(evidence, actor, finding=finding)
    audit_record(
        actor=actor,
        action="certification.finding_record",
        obj=finding,
        before=before,
        after={
            "entry": entry.pk,
            "indicator": indicator,
            "verdict": verdict,
            "met": met,
            "reason": finding.reason,
            "evidence": len(evidence),
        },
    )
    assess_entries(batch=entry.batch, entry_ids=[entry.pk])
    return finding


@transaction.atomic
def visit_complete(
    *, visit: SiteVisit, summary: str, scope: Scope | None, actor: Actor
) -> SiteVisit:
    visit = SiteVisit.objects.select_for_update().get(pk=visit.pk)
    check(can_complete_visit(scope, visit))
    if visit.state != VisitState.ASSIGNED:
        raise Refused(_("该实地核查已完成"))
    if not summary.strip():
        raise Refused(_("请填写核查结论"))
    advance_audited(
        visit,
        VISIT,
        "complete",
        actor=actor,
        action="certification.visit_complete",
        after={"summary": summary.strip()},
        summary=summary.strip(),
        completed_at=timezone.now(),
    )
    return visit
