"""Experts: the pool, conflict-of-interest checked assignment, rubric scoring, aggregation.

Writes are one function per transition (``expert_pool_add``, ``expert_assign``,
``experts_auto_assign``, ``expert_scores_save`` …): each locks what it changes, checks the
actor's scope and the application's state, writes, and records an audit event in the same
transaction. Errors are :class:`SelectionError` with a Chinese message for the screen; when
one is raised nothing has changed.

Who reaches what:

- the issuer's programme admin manages the pool, the assignments and the decisions of its
  own programmes (:func:`can_manage_selection`); nobody else sees those pages (404);
- an expert reaches applications only through its own active assignments
  (:func:`assignments_for`), never through ``applications_for``; it does not see the other
  experts' scores until it has submitted its own (:func:`peer_scores_for`).

Conflict of interest: an expert is never assigned an application when one of the orgs it
belongs to (any active membership, not only the expert one) is the applicant, an ancestor of
it, or inside its subtree (a region bid's member schools).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.dispatch import receiver
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from edupilot.applications.models import Application, AppState
from edupilot.applications.signals import application_submitted
from edupilot.audit.services import Actor, audit_record
from edupilot.core.errors import Refused
from edupilot.core.notifications import notify
from edupilot.orgs.models import Membership, Org, Role
from edupilot.orgs.scoping import Scope, scoped
from edupilot.programmes import schema
from edupilot.programmes.models import Programme

from .models_selection import (
    ApprovalDecision,
    ExpertAssignment,
    ExpertGroupOpinion,
    ExpertPoolMember,
    ExpertScore,
)

TWO_PLACES = Decimal("0.01")
# Applications that wait for the issuer, and so for the experts.
SCORING_STATES = (AppState.RECOMMENDED,)


class SelectionError(Refused):
    """A refused selection action; ``message`` is shown as is, ``errors`` name fields."""


def fmt_time(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# --- who manages selection ---------------------------------------------------------------


def can_manage_selection(scope: Scope, programme: Programme) -> tuple[bool, str]:
    """Pool, assignments, decisions and announcements: the issuer's programme admins only."""
    if scope.role == Role.PROGRAMME_ADMIN and scope.org_id == programme.issuer_id:
        return True, ""
    return False, f"只有发文单位（{programme.issuer.name}）的项目管理员可以组织专家评审和审定。"


def _check_manage(scope: Scope, programme: Programme) -> None:
    ok, why = can_manage_selection(scope, programme)
    if not ok:
        raise SelectionError(why)


def selection_programmes(scope: Scope) -> QuerySet[Programme]:
    """Programmes whose selection ``scope`` manages: those its own org issued."""
    if not scope.is_authenticated or scope.role != Role.PROGRAMME_ADMIN:
        return Programme.objects.none()
    return Programme.objects.filter(issuer_id=scope.org_id, kind="call").select_related("issuer")


def access_selection_programme(scope: Scope, pk) -> Programme:
    """One programme the scope manages, or 404 so that its existence does not leak."""
    try:
        return selection_programmes(scope).get(pk=pk)
    except (Programme.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def selection_applications(scope: Scope, programme: Programme) -> QuerySet[Application]:
    """The applications of a managed programme, through the scope (the issuer's subtree)."""
    if not can_manage_selection(scope, programme)[0]:
        return Application.objects.none()
    return scoped(Application.objects.filter(programme=programme), scope, org_field="applicant_org")


def access_selection_application(scope: Scope, pk) -> Application:
    qs = scoped(
        Application.objects.filter(programme__in=selection_programmes(scope).values("pk")),
        scope,
        org_field="applicant_org",
    ).select_related("programme", "programme__issuer", "applicant_org", "current_org")
    try:
        return qs.get(pk=pk)
    except (Application.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def rubric_of(programme: Programme) -> schema.Rubric | None:
    return programme.parsed.rubric


def decision_level(application: Application) -> dict | None:
    """The issuer's step of the application's chain (the last one)."""
    return application.chain[-1] if application.chain else None


def decision_deadline(application: Application) -> dt.datetime | None:
    step = decision_level(application)
    if step is None:
        return None
    return application.programme.level_deadline(application.category, step["level"])


def check_decision_deadline(application: Application, now: dt.datetime) -> None:
    deadline = decision_deadline(application)
    if deadline is not None and now > deadline:
        raise SelectionError(
            f"“{application.category_name}”的审定截止时间 {fmt_time(deadline)}（北京时间）已过，"
            "不能再进行专家评审或审定。"
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

    A path is an ancestor-or-self of another exactly when it is a prefix of it (paths end
    with '/'), so both directions are prefix tests.
    """
    for p in expert_paths:
        if applicant_path.startswith(p) or p.startswith(applicant_path):
            return p
    return None


def conflict_reason(user_id: int, applicant: Org, paths: list[str] | None = None) -> str | None:
    paths = paths if paths is not None else conflict_paths([user_id]).get(user_id, [])
    hit = paths_conflict(paths, applicant.path)
    if hit is None:
        return None
    org = Org.objects.filter(path=hit).only("name").first()
    name = org.name if org else hit
    if applicant.path.startswith(hit):
        return f"专家所在单位“{name}”是申报单位“{applicant.name}”本身或其上级，须回避。"
    return f"专家所在单位“{name}”属于申报单位“{applicant.name}”的下属单位，须回避。"


# --- pool ------------------------------------------------------------------------------------


def expert_pool(programme: Programme) -> QuerySet[ExpertPoolMember]:
    return (
        ExpertPoolMember.objects.filter(programme=programme)
        .select_related("user", "org")
        .annotate(
            load=Count("assignments", filter=Q(assignments__is_active=True), distinct=True),
            done=Count(
                "assignments",
                filter=Q(assignments__is_active=True, assignments__submitted_at__isnull=False),
                distinct=True,
            ),
        )
        .order_by("-is_active", "org__path", "user__username")
    )


def expert_candidates(scope: Scope, programme: Programme) -> QuerySet[Membership]:
    """Expert memberships in the issuer's subtree that are not in the pool yet."""
    if not can_manage_selection(scope, programme)[0]:
        return Membership.objects.none()
    in_pool = ExpertPoolMember.objects.filter(programme=programme, is_active=True).values(
        "membership_id"
    )
    return (
        scoped(
            Membership.objects.filter(role=Role.EXPERT, is_active=True, user__is_active=True),
            scope,
            org_field="org",
        )
        .exclude(pk__in=in_pool)
        .select_related("user", "org")
        .order_by("org__path", "user__username")
    )


def find_expert_membership(username: str) -> Membership | None:
    """An expert from outside the issuer's subtree, named by its exact user name."""
    username = (username or "").strip()
    if not username:
        return None
    return (
        Membership.objects.filter(
            role=Role.EXPERT, is_active=True, user__is_active=True, user__username=username
        )
        .select_related("user", "org")
        .order_by("id")
        .first()
    )


@transaction.atomic
def expert_pool_add(
    *, programme: Programme, membership: Membership, note: str = "", scope: Scope, actor: Actor
) -> ExpertPoolMember:
    _check_manage(scope, programme)
    if membership.role != Role.EXPERT or not membership.is_active:
        raise SelectionError("只能把“评审专家”身份的账号加入专家库。")
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
            raise SelectionError(f"{member.user.display_name} 已在专家库中。")
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
    _check_manage(scope, member.programme)
    if not member.is_active:
        raise SelectionError("该专家已不在专家库中。")
    open_ = list(
        member.assignments.filter(is_active=True, submitted_at__isnull=True)
        .select_related("application__applicant_org")
        .order_by("application_id")[:10]
    )
    if open_:
        names = "、".join(a.application.applicant_org.name for a in open_)
        raise SelectionError(
            f"{member.user.display_name} 还有未完成的评审任务（{names}），请先撤回这些任务。"
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


def _lock_application(application: Application) -> Application:
    return (
        Application.objects.select_for_update()
        .select_related("programme", "programme__issuer", "applicant_org")
        .get(pk=application.pk)
    )


def _check_scoring_state(application: Application) -> None:
    if application.state not in SCORING_STATES:
        raise SelectionError(
            f"{application.applicant_org.name} 的申报当前状态为“{application.get_state_display()}”，"
            "只有“待审定”的申报可以安排专家评审。"
        )


def _notify_expert(assignments: list[ExpertAssignment]) -> None:
    by_expert: dict[int, list[ExpertAssignment]] = defaultdict(list)
    for a in assignments:
        by_expert[a.expert_id].append(a)
    for expert_id, items in by_expert.items():
        first = items[0]
        programme = first.application.programme
        if len(items) == 1:
            title = f"新的评审任务：{first.application.applicant_org.name}"
            link = reverse("review:expert_task", args=[first.pk])
        else:
            title = f"新的评审任务 {len(items)} 项（{programme.title}）"
            link = reverse("review:expert_tasks")
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
    app = _lock_application(application)
    _check_manage(scope, app.programme)
    _check_scoring_state(app)
    check_decision_deadline(app, now)
    member = ExpertPoolMember.objects.select_related("user", "org").get(pk=member.pk)
    if member.programme_id != app.programme_id or not member.is_active:
        raise SelectionError("该专家不在本项目的专家库中。")
    why = conflict_reason(member.user_id, app.applicant_org)
    if why:
        raise SelectionError(why)
    if ExpertAssignment.objects.filter(
        application=app, expert_id=member.user_id, is_active=True
    ).exists():
        raise SelectionError(f"{member.user.display_name} 已是该申报的评审专家。")
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
    _check_manage(scope, a.application.programme)
    if not a.is_active:
        raise SelectionError("该评审任务已撤回。")
    if a.submitted_at is not None:
        raise SelectionError("专家已提交评分，评审任务不能撤回。")
    a.is_active = False
    a.withdrawn_by = actor.user
    a.withdrawn_at = timezone.now()
    a.save(update_fields=["is_active", "withdrawn_by", "withdrawn_at"])
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
    _check_manage(scope, programme)
    rubric = rubric_of(programme)
    if rubric is not None:
        per_app = rubric.experts_per_application
    elif per_app is None or not 1 <= per_app <= 20:
        raise SelectionError(
            "本项目文件没有评分细则（[rubric]），请填写每份申报的专家人数（1–20）。",
            {"per_app": ["请填写 1 到 20 之间的整数"]},
        )
    apps_qs = Application.objects.select_for_update().filter(
        programme=programme, state__in=SCORING_STATES
    )
    if category:
        apps_qs = apps_qs.filter(category=category)
    apps = [
        a
        for a in apps_qs.select_related("applicant_org").order_by("pk")
        if (decision_deadline(a) is None or now <= decision_deadline(a))
    ]
    members = list(
        ExpertPoolMember.objects.filter(programme=programme, is_active=True).order_by("pk")
    )
    if not members:
        raise SelectionError("专家库为空，请先把专家加入本项目的专家库。")
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
    plan = plan_assignments(
        [
            PlanApp(a.pk, a.applicant_org.path, frozenset(assigned[a.pk]), len(assigned[a.pk]))
            for a in apps
        ],
        [PlanExpert(m.pk, m.user_id, tuple(paths.get(m.user_id, []))) for m in members],
        per_app,
        loads,
    )
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


# --- a new version supersedes open work ------------------------------------------------------


@receiver(application_submitted, sender=Application, dispatch_uid="review.selection.on_submitted")
def on_application_submitted(sender, application: Application, actor: Actor, **kwargs) -> None:
    """A resubmission is a new version: the expert tasks and pending decisions on the old one
    stop counting (their rows and scores stay, for the record); the new version is reviewed
    afresh, by the same experts if the issuer assigns them again."""
    now = timezone.now()
    open_tasks = list(
        ExpertAssignment.objects.select_for_update()
        .filter(application=application, is_active=True)
        .exclude(version=application.version)
    )
    pending = list(
        ApprovalDecision.objects.select_for_update().filter(
            application=application, is_active=True, announcement__isnull=True
        )
    )
    if not open_tasks and not pending:
        return
    for a in open_tasks:
        a.is_active = False
        a.withdrawn_at = now
        a.save(update_fields=["is_active", "withdrawn_at"])
    for d in pending:
        d.is_active = False
        d.revoked_at = now
        d.save(update_fields=["is_active", "revoked_at"])
    audit_record(
        actor=actor,
        action="selection.superseded",
        obj=application,
        before={"open_tasks": [a.pk for a in open_tasks], "pending": [d.pk for d in pending]},
        after={"version": application.version},
    )


# --- scoring -----------------------------------------------------------------------------------


def assignments_for(scope: Scope) -> QuerySet[ExpertAssignment]:
    """The expert's own active assignments: an expert's only way to an application."""
    if not scope.is_authenticated or scope.role != Role.EXPERT:
        return ExpertAssignment.objects.none()
    return ExpertAssignment.objects.filter(expert_id=scope.user_id, is_active=True)


def access_assignment(scope: Scope, pk) -> ExpertAssignment:
    try:
        return (
            assignments_for(scope)
            .select_related(
                "application",
                "application__programme",
                "application__programme__issuer",
                "application__applicant_org",
            )
            .get(pk=pk)
        )
    except (ExpertAssignment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def expert_total(rubric: schema.Rubric, scores: Mapping[str, Decimal]) -> Decimal | None:
    """One expert's score on a 100-point scale: Σ weight×score / Σ weight×max × 100.

    None until every criterion is scored.
    """
    num = Decimal(0)
    den = Decimal(0)
    for c in rubric.criteria:
        if scores.get(c.key) is None:
            return None
        num += c.weight * Decimal(scores[c.key])
        den += c.weight * c.max
    return (num * 100 / den).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def aggregate(rubric: schema.Rubric, totals: list[Decimal]) -> Decimal | None:
    """Mean, or trimmed mean (drop ``trim`` highest and lowest) when there are enough scores.

    With 2×trim scores or fewer a trimmed mean would drop everything; it falls back to the mean.
    """
    if not totals:
        return None
    values = sorted(totals)
    if rubric.aggregate == "trimmed_mean" and rubric.trim and len(values) > 2 * rubric.trim:
        values = values[rubric.trim : len(values) - rubric.trim]
    return (sum(values, Decimal(0)) / len(values)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def parse_scores(
    rubric: schema.Rubric, raw: Mapping[str, str], *, complete: bool
) -> tuple[dict[str, Decimal], dict[str, list[str]]]:
    """Read posted scores; errors name the criterion. Blank is allowed unless ``complete``."""
    values: dict[str, Decimal] = {}
    errors: dict[str, list[str]] = {}
    for c in rubric.criteria:
        text = str(raw.get(c.key, "") or "").strip()
        if not text:
            if complete:
                errors[c.key] = [f"请为“{c.name}”打分（0–{c.max} 分）"]
            continue
        try:
            value = Decimal(text)
        except InvalidOperation:
            errors[c.key] = [f"“{c.name}”的分数应为数字"]
            continue
        if not value.is_finite() or value < 0 or value > c.max:
            errors[c.key] = [f"“{c.name}”的分数应在 0 到 {c.max} 之间"]
            continue
        if value != value.quantize(Decimal("0.1")):
            errors[c.key] = [f"“{c.name}”的分数最多保留一位小数"]
            continue
        values[c.key] = value
    return values, errors


@transaction.atomic
def expert_scores_save(
    *,
    assignment: ExpertAssignment,
    scores: Mapping[str, str],
    comment: str,
    submit: bool,
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> ExpertAssignment:
    """Save the expert's scores and comment; ``submit`` freezes them (every criterion needed)."""
    now = now or timezone.now()
    a = ExpertAssignment.objects.select_for_update().get(pk=assignment.pk)
    if not (scope.role == Role.EXPERT and scope.user_id == a.expert_id):
        raise SelectionError("只有被分配的专家本人可以评分。")
    if not a.is_active:
        raise SelectionError("该评审任务已被撤回。")
    if a.submitted_at is not None:
        raise SelectionError(f"评分已于 {fmt_time(a.submitted_at)} 提交，不能再修改。")
    app = _lock_application(a.application)
    _check_scoring_state(app)
    check_decision_deadline(app, now)
    rubric = rubric_of(app.programme)
    if a.version != app.version:
        raise SelectionError("申报已重新提交，本评审任务已失效。")
    # Without a rubric in the programme file the expert gives its opinion only.
    values, errors = (
        parse_scores(rubric, scores, complete=submit) if rubric is not None else ({}, {})
    )
    comment = (comment or "").strip()
    if submit and not comment:
        errors["comment"] = ["请填写评审意见"]
    if len(comment) > 5000:
        errors["comment"] = ["评审意见最多 5000 字"]
    if errors:
        raise SelectionError("评分有需要修改的地方，见各项提示；本次未保存。", errors)
    before = {s.criterion: str(s.score) for s in a.scores.all()}
    keep = set(values)
    a.scores.exclude(criterion__in=keep).delete()
    for key, value in values.items():
        ExpertScore.objects.update_or_create(assignment=a, criterion=key, defaults={"score": value})
    a.comment = comment
    a.saved_at = now
    a.total = expert_total(rubric, values) if rubric is not None else None
    fields = ["comment", "saved_at", "total"]
    if submit:
        a.submitted_at = now
        fields.append("submitted_at")
    a.save(update_fields=fields)
    audit_record(
        actor=actor,
        action="expert.submit" if submit else "expert.save",
        obj=a,
        before={"scores": before} if before else None,
        after={
            "scores": {k: str(v) for k, v in values.items()},
            "total": str(a.total) if a.total is not None else None,
        },
    )
    return a


def peer_scores_for(assignment: ExpertAssignment) -> list[ExpertAssignment]:
    """Other experts' submitted scores on the same application, once this one submitted."""
    if assignment.submitted_at is None:
        return []
    return list(
        ExpertAssignment.objects.filter(
            application_id=assignment.application_id,
            version=assignment.version,
            is_active=True,
            submitted_at__isnull=False,
        )
        .exclude(pk=assignment.pk)
        .prefetch_related("scores")
        .order_by("submitted_at", "pk")
    )


# --- aggregation and ranking ---------------------------------------------------------------


@dataclass
class ScoreLine:
    """What the issuer sees of one application's expert review."""

    application: Application
    assignments: list[ExpertAssignment] = field(default_factory=list)
    totals: list[Decimal] = field(default_factory=list)
    score: Decimal | None = None
    spread: Decimal | None = None
    disagreement: bool = False
    rank: int | None = None
    tied: bool = False

    @property
    def submitted(self) -> int:
        return len(self.totals)

    @property
    def assigned(self) -> int:
        return len(self.assignments)


def current_assignments_prefetch(*, light: bool = False) -> Prefetch:
    """Active assignments onto ``active_assignments``; ``light``: only what ranking needs."""
    qs = ExpertAssignment.objects.filter(is_active=True).order_by("pk")
    if light:
        qs = qs.only("pk", "application_id", "version", "total", "submitted_at", "expert_id")
    else:
        qs = qs.select_related("expert", "expert_org").prefetch_related("scores")
    return Prefetch("expert_assignments", queryset=qs, to_attr="active_assignments")


def score_line(application: Application, rubric: schema.Rubric | None) -> ScoreLine:
    """One application's scores; needs ``active_assignments`` prefetched (else one query)."""
    items = getattr(application, "active_assignments", None)
    if items is None:
        items = list(
            application.expert_assignments.filter(is_active=True)
            .select_related("expert", "expert_org")
            .prefetch_related("scores")
        )
    items = [a for a in items if a.version == application.version]
    line = ScoreLine(application, items)
    line.totals = [a.total for a in items if a.submitted_at is not None and a.total is not None]
    if rubric is not None and line.totals:
        line.score = aggregate(rubric, line.totals)
        line.spread = max(line.totals) - min(line.totals)
        line.disagreement = len(line.totals) > 1 and line.spread > rubric.disagreement_threshold
    return line


def rank_lines(lines: list[ScoreLine]) -> list[ScoreLine]:
    """Order by aggregate score, best first; equal scores share a rank (1, 2, 2, 4).

    Unscored applications come last without a rank, in org order.
    """
    scored = sorted(
        (ln for ln in lines if ln.score is not None),
        key=lambda ln: (-ln.score, ln.application.applicant_org.path),
    )
    unscored = sorted(
        (ln for ln in lines if ln.score is None), key=lambda ln: ln.application.applicant_org.path
    )
    counts: dict[Decimal, int] = defaultdict(int)
    for ln in scored:
        counts[ln.score] += 1
    previous = None
    for i, ln in enumerate(scored, start=1):
        ln.rank = previous.rank if previous is not None and previous.score == ln.score else i
        ln.tied = counts[ln.score] > 1
        previous = ln
    return scored + unscored


def ranking(applications: Iterable[Application], rubric: schema.Rubric | None) -> list[ScoreLine]:
    return rank_lines([score_line(a, rubric) for a in applications])


# --- expert group opinion ----------------------------------------------------------------------


@transaction.atomic
def expert_group_opinion_record(
    *,
    application: Application,
    text: str,
    signed_by: str = "",
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> ExpertGroupOpinion:
    """Record the expert group's opinion (专家组意见); a new record supersedes the last one."""
    now = now or timezone.now()
    app = _lock_application(application)
    _check_manage(scope, app.programme)
    _check_scoring_state(app)
    check_decision_deadline(app, now)
    text = (text or "").strip()
    if not text:
        raise SelectionError("请填写专家组意见。", {"text": ["请填写专家组意见"]})
    if len(text) > 5000:
        raise SelectionError("专家组意见最多 5000 字。", {"text": ["最多 5000 字"]})
    previous = app.expert_group_opinions.order_by("-recorded_at", "-id").first()
    opinion = ExpertGroupOpinion.objects.create(
        application=app,
        text=text,
        signed_by=(signed_by or "").strip()[:300],
        recorded_by=actor.user,
    )
    audit_record(
        actor=actor,
        action="expert.group_opinion",
        obj=app,
        before={"text": previous.text} if previous else None,
        after={"text": text, "signed_by": opinion.signed_by},
    )
    return opinion


def current_group_opinion(application: Application) -> ExpertGroupOpinion | None:
    return (
        application.expert_group_opinions.select_related("recorded_by")
        .order_by("-recorded_at", "-id")
        .first()
    )
