"""Experts: the pool, conflict-of-interest checked assignment, balanced automatic assignment.

Writes are one function per transition (``expert_pool_add``, ``expert_assign``,
``experts_auto_assign`` …): each locks what it changes, checks the actor's scope and the
application's state, writes, and records an audit event in the same transaction. Errors are
:class:`~edupilot.selection.errors.SelectionError` with a Chinese message for the screen; when
one is raised nothing has changed. Scoring is in ``scoring.py``, reads in ``selectors.py``.

Conflict of interest: an expert is never assigned an application when one of the orgs it
belongs to (any active membership, not only the expert one) is the applicant, an ancestor of
it, or inside its subtree (a region bid's member schools).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.applications.models import Application
from edupilot.audit.services import Actor, audit_record
from edupilot.core.errors import check
from edupilot.core.notifications import notify
from edupilot.orgs.models import Membership, Org, Role, path_within
from edupilot.orgs.scoping import Scope
from edupilot.programmes.models import Programme

from .errors import SelectionError
from .models import ExpertAssignment, ExpertPoolMember
from .permissions import SCORING_STATES, can_unassign_expert, scoring_state
from .rules import (
    check_manage,
    check_scoring_deadline,
    check_scoring_state,
    lock_application,
    rubric_of,
    scoring_deadline,
)

# --- conflict of interest ------------------------------------------------------------------


def conflict_paths(user_ids: Iterable[int]) -> dict[int, list[str]]:
    """The org paths of every active membership of each user (one query)."""
    out: dict[int, list[str]] = defaultdict(list)
    for user_id, path in Membership.objects.filter(
        user_id__in=list(user_ids), is_active=True
    ).values_list("user_id", "org__path"):
        out[user_id].append(path)
    return out


def paths_conflict(expert_paths: Iterable[str], applicant_path: str) -> str | None:
    """The expert org path that conflicts with the applicant, or None.

    The expert's org is the applicant, one of its ancestors, or one of its descendants.
    """
    for p in expert_paths:
        if path_within(applicant_path, p) or path_within(p, applicant_path):
            return p
    return None


def conflict_reason(user_id: int, applicant: Org, paths: list[str] | None = None) -> str | None:
    paths = paths if paths is not None else conflict_paths([user_id]).get(user_id, [])
    hit = paths_conflict(paths, applicant.path)
    if hit is None:
        return None
    org = Org.objects.filter(path=hit).only("name").first()
    name = org.name if org else hit
    if path_within(applicant.path, hit):
        return _("专家所在单位“%(org)s”是申报单位“%(applicant)s”本身或其上级，须回避。") % {
            "org": name,
            "applicant": applicant.name,
        }
    return _("专家所在单位“%(org)s”属于申报单位“%(applicant)s”的下属单位，须回避。") % {
        "org": name,
        "applicant": applicant.name,
    }


# --- pool ------------------------------------------------------------------------------------


@transaction.atomic
def expert_pool_add(
    *, programme: Programme, membership: Membership, note: str = "", scope: Scope, actor: Actor
) -> ExpertPoolMember:
    check_manage(scope, programme)
    if membership.role != Role.EXPERT or not membership.is_active:
        raise SelectionError(_("只能把“评审专家”身份的账号加入专家库。"))
    member, created = ExpertPoolMember.objects.select_for_update().get_or_create(
        programme=programme,
        membership=membership,
        defaults={
            "user_id": membership.user_id,
            "org_id": membership.org_id,
            "note": note[:200],
            "added_by": actor.user,
        },
    )
    if not created:
        if member.is_active:
            raise SelectionError(
                _("%(expert)s 已在专家库中。") % {"expert": member.user.display_name}
            )
        member.is_active = True
        member.note = note[:200] or member.note
        member.save(update_fields=["is_active", "note"])
    audit_record(
        actor=actor,
        action="expert_pool.add",
        obj=member,
        after={"programme": programme.code, "user": membership.user_id, "org": membership.org_id},
    )
    return member


@transaction.atomic
def expert_pool_remove(*, member: ExpertPoolMember, scope: Scope, actor: Actor) -> None:
    """Take an expert out of the pool; refused while it has unfinished assignments."""
    member = (
        ExpertPoolMember.objects.select_for_update()
        .select_related("programme__issuer", "user")
        .get(pk=member.pk)
    )
    check_manage(scope, member.programme)
    if not member.is_active:
        raise SelectionError(_("该专家已不在专家库中。"))
    open_ = list(
        member.assignments.filter(is_active=True, submitted_at__isnull=True)
        .select_related("application__applicant_org")
        .order_by("application_id")[:10]
    )
    if open_:
        names = _("、").join(a.application.applicant_org.name for a in open_)
        raise SelectionError(
            _("%(expert)s 还有未完成的评审任务（%(names)s），请先撤回这些任务。")
            % {"expert": member.user.display_name, "names": names}
        )
    member.is_active = False
    member.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="expert_pool.remove",
        obj=member,
        before={"is_active": True},
        after={"is_active": False},
    )


# --- assignment ------------------------------------------------------------------------------


def _notify_expert(assignments: list[ExpertAssignment]) -> None:
    by_expert: dict[int, list[ExpertAssignment]] = defaultdict(list)
    for a in assignments:
        by_expert[a.expert_id].append(a)
    for expert_id, items in by_expert.items():
        first = items[0]
        programme = first.application.programme
        if len(items) == 1:
            title = f"新的评审任务：{first.application.applicant_org.name}"
            link = reverse("selection:expert_task", args=[first.pk])
        else:
            title = f"新的评审任务 {len(items)} 项（{programme.title}）"
            link = reverse("selection:expert_tasks")
        notify(
            users=[expert_id],
            event="review.expert_assigned",
            title=title,
            body=f"请在 {programme.title} 的审定截止时间前完成评分。",
            link=link,
        )


@transaction.atomic
def expert_assign(
    *,
    application: Application,
    member: ExpertPoolMember,
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> ExpertAssignment:
    """Assign one pool expert to one application by hand, after the conflict check."""
    now = now or timezone.now()
    app = lock_application(application)
    check_manage(scope, app.programme)
    check_scoring_state(app)
    check_scoring_deadline(app, now)
    member = ExpertPoolMember.objects.select_related("user", "org").get(pk=member.pk)
    if member.programme_id != app.programme_id or not member.is_active:
        raise SelectionError(_("该专家不在本项目的专家库中。"))
    why = conflict_reason(member.user_id, app.applicant_org)
    if why:
        raise SelectionError(why)
    if ExpertAssignment.objects.filter(
        application=app, expert_id=member.user_id, is_active=True
    ).exists():
        raise SelectionError(
            _("%(expert)s 已是该申报的评审专家。") % {"expert": member.user.display_name}
        )
    assignment = ExpertAssignment.objects.create(
        application=app,
        pool_member=member,
        expert_id=member.user_id,
        expert_org_id=member.org_id,
        version=app.version,
        assigned_by=actor.user,
    )
    audit_record(
        actor=actor,
        action="expert.assign",
        obj=assignment,
        after={"application": app.pk, "expert": member.user_id, "org": member.org_id},
    )
    assignment.application = app
    _notify_expert([assignment])
    return assignment


@transaction.atomic
def expert_unassign(*, assignment: ExpertAssignment, scope: Scope, actor: Actor) -> None:
    """Withdraw an assignment the expert has not submitted yet."""
    a = (
        ExpertAssignment.objects.select_for_update()
        .select_related("application__programme__issuer")
        .get(pk=assignment.pk)
    )
    check_manage(scope, a.application.programme)
    check(can_unassign_expert(scope, a), SelectionError)
    a.withdraw(timezone.now(), by=actor.user)
    audit_record(
        actor=actor,
        action="expert.unassign",
        obj=a,
        before={"is_active": True},
        after={"is_active": False},
    )


@dataclass(frozen=True)
class PlanApp:
    id: int
    applicant_path: str
    assigned: frozenset  # pool member ids already actively assigned
    have: int


@dataclass(frozen=True)
class PlanExpert:
    id: int  # pool member id
    user_id: int
    paths: tuple[str, ...]


@dataclass
class Plan:
    picks: dict[int, list[int]] = field(default_factory=dict)
    short: dict[int, tuple[int, int]] = field(default_factory=dict)  # app id → (have, wanted)


def plan_assignments(
    apps: list[PlanApp], experts: list[PlanExpert], per_app: int, loads: Mapping[int, int]
) -> Plan:
    """Choose experts for each application: balanced, conflict-free and deterministic.

    Applications are taken in id order; each takes the least-loaded eligible experts, ties
    broken by pool member id. With no conflicts the loads end within one of each other.
    """
    load = {e.id: loads.get(e.id, 0) for e in experts}
    by_user_assigned: dict[int, set[int]] = {}
    plan = Plan()
    user_of = {e.id: e.user_id for e in experts}
    for app in sorted(apps, key=lambda a: a.id):
        need = per_app - app.have
        if need <= 0:
            continue
        taken_users = by_user_assigned.setdefault(
            app.id, {user_of[m] for m in app.assigned if m in user_of}
        )
        eligible = [
            e
            for e in experts
            if e.id not in app.assigned
            and e.user_id not in taken_users
            and paths_conflict(e.paths, app.applicant_path) is None
        ]
        eligible.sort(key=lambda e: (load[e.id], e.id))
        chosen = []
        for e in eligible:
            if len(chosen) == need:
                break
            if e.user_id in taken_users:
                continue
            chosen.append(e)
            taken_users.add(e.user_id)
        for e in chosen:
            load[e.id] += 1
        if chosen:
            plan.picks[app.id] = [e.id for e in chosen]
        if len(chosen) < need:
            plan.short[app.id] = (app.have + len(chosen), per_app)
    return plan


@dataclass
class AutoAssignResult:
    created: list[ExpertAssignment] = field(default_factory=list)
    short: list[tuple[Application, int, int]] = field(default_factory=list)
    per_app: int = 0


def _apps_to_staff(programme: Programme, category: str | None, now) -> list[Application]:
    """The applications awaiting the issuer (locked), still before their decision deadline."""
    apps_qs = Application.objects.select_for_update().filter(
        programme=programme, state__in=SCORING_STATES
    )
    if category:
        apps_qs = apps_qs.filter(category=category)
    out = []
    for a in apps_qs.select_related("applicant_org").order_by("pk"):
        a.programme = programme
        deadline = scoring_deadline(a)
        if scoring_state(a)[0] and (deadline is None or now <= deadline):
            out.append(a)
    return out


def _panel_experts(programme: Programme, category: str | None) -> int | None:
    """Experts per application where the file's panel stage says (``experts``)."""
    for c in programme.parsed.categories:
        if category and c.code != category:
            continue
        stage = c.stage_of("expert_scoring")
        if stage is not None and stage.experts:
            return stage.experts
    return None


def _plan_for(
    programme: Programme, apps: list[Application], members: list[ExpertPoolMember], per_app: int
) -> Plan:
    """The plan for ``apps``, counting the assignments already active in the programme."""
    paths = conflict_paths(m.user_id for m in members)
    active = list(
        ExpertAssignment.objects.filter(
            application__programme=programme, is_active=True
        ).values_list("application_id", "pool_member_id")
    )
    loads: dict[int, int] = defaultdict(int)
    assigned: dict[int, set[int]] = defaultdict(set)
    for app_id, member_id in active:
        loads[member_id] += 1
        assigned[app_id].add(member_id)
    return plan_assignments(
        [
            PlanApp(a.pk, a.applicant_org.path, frozenset(assigned[a.pk]), len(assigned[a.pk]))
            for a in apps
        ],
        [PlanExpert(m.pk, m.user_id, tuple(paths.get(m.user_id, []))) for m in members],
        per_app,
        loads,
    )


@transaction.atomic
def experts_auto_assign(
    *,
    programme: Programme,
    scope: Scope,
    actor: Actor,
    category: str | None = None,
    per_app: int | None = None,
    now: dt.datetime | None = None,
) -> AutoAssignResult:
    """Give every application awaiting the issuer N experts: the rubric's number, or
    ``per_app`` when the programme file has no rubric (experts then comment only).

    Existing assignments count toward N; the loads already carried in this programme count
    toward balance. Applications past their decision deadline are left out.
    """
    now = now or timezone.now()
    programme = Programme.objects.select_for_update().select_related("issuer").get(pk=programme.pk)
    check_manage(scope, programme)
    rubric = rubric_of(programme)
    panel = _panel_experts(programme, category)
    if panel is not None:
        per_app = panel
    elif rubric is not None:
        per_app = rubric.experts_per_application
    elif per_app is None or not 1 <= per_app <= 20:
        raise SelectionError(
            _("本项目文件没有评分细则（[rubric]），请填写每份申报的专家人数（1–20）。"),
            {"per_app": [_("请填写 1 到 20 之间的整数")]},
        )
    apps = _apps_to_staff(programme, category, now)
    members = list(
        ExpertPoolMember.objects.filter(programme=programme, is_active=True).order_by("pk")
    )
    if not members:
        raise SelectionError(_("专家库为空，请先把专家加入本项目的专家库。"))
    plan = _plan_for(programme, apps, members, per_app)
    by_id = {m.pk: m for m in members}
    apps_by_id = {a.pk: a for a in apps}
    rows = [
        ExpertAssignment(
            application=apps_by_id[app_id],
            pool_member=by_id[mid],
            expert_id=by_id[mid].user_id,
            expert_org_id=by_id[mid].org_id,
            version=apps_by_id[app_id].version,
            assigned_by=actor.user,
            automatic=True,
        )
        for app_id, picks in sorted(plan.picks.items())
        for mid in picks
    ]
    created = ExpertAssignment.objects.bulk_create(rows)
    result = AutoAssignResult(created=created, per_app=per_app)
    result.short = [(apps_by_id[i], have, want) for i, (have, want) in sorted(plan.short.items())]
    audit_record(
        actor=actor,
        action="expert.auto_assign",
        obj=programme,
        after={
            "category": category or "",
            "per_application": per_app,
            "assigned": [[a.application_id, a.expert_id] for a in created],
            "short": [a.pk for a, _, _ in result.short],
        },
    )
    for a in created:
        a.application.programme = programme
    _notify_expert(created)
    return result
