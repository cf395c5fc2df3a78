"""Scoped reads for the review chain: an application's chain and opinions, quota use, and
the levels' rankings (the reviewer's queue is ``queue.py``).

Every read starts from ``applications_for(scope)`` (or the scope's own org), and each page
issues a fixed number of queries whatever the number of applications.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.applications.models import Application, AppState
from edupilot.applications.selectors import application_detail, applications_for
from edupilot.core.prepared import prepared
from edupilot.orgs.models import Tier
from edupilot.orgs.scoping import Scope, get_or_404
from edupilot.programmes import sets as setrules
from edupilot.programmes.models import Programme, QuotaAllocation

from . import services
from .locks import level_recommendations
from .models import JointOpinion, ReviewAction, ReviewDecision

TIER_LABELS = dict(Tier.choices)


# --- quota -------------------------------------------------------------------------------------


@dataclass
class QuotaLine:
    programme: Programme
    category: str
    category_name: str
    level: str
    direct: bool
    limit: int | None
    used: int
    label: str = ""

    @property
    def left(self) -> int | None:
        return None if self.limit is None else self.limit - self.used

    @property
    def level_label(self) -> str:
        return str(TIER_LABELS.get(self.level, self.level))


# A quota row as the summary reads it: a tuple, not a model (no instance per row).
_ALLOCATION_COLUMNS = ("programme_id", "category", "level", "direct", "unlimited", "effective", "label")  # fmt: skip


@prepared
def _holder_allocations(holder_id: int, *programme_ids: int):
    """The org's quota rows of active programmes (of ``programme_ids`` if any); unsorted: the
    model's ordering (by the holder's path) would join the org table."""
    rows = QuotaAllocation.objects.filter(holder_id=holder_id, programme__is_active=True)
    if programme_ids:
        rows = rows.filter(programme_id__in=programme_ids)
    return rows.order_by().values_list(*_ALLOCATION_COLUMNS)


@prepared
def _holder_use(holder_id: int, *programme_ids: int):
    """The places the org's buckets hold (of ``programme_ids`` if any): (programme, category,
    level, direct, count)."""
    used = ReviewDecision.objects.filter(
        quota_holder_id=holder_id, active=True, action=ReviewAction.RECOMMEND
    )
    if programme_ids:
        used = used.filter(programme_id__in=programme_ids)
    return (
        used.values_list("programme_id", "category", "quota_level", "quota_direct")
        .annotate(n=Count("pk"))
        .order_by()
    )


def quota_summary(
    scope: Scope,
    programme_ids: list[int] | None = None,
    programmes: dict[int, Programme] | None = None,
) -> list[QuotaLine]:
    """Every quota bucket the scope's org holds: limit, places used and left (two queries;
    a third for the programmes unless ``programmes``, by id, has them already).
    """
    if scope.org_id is None:
        return []
    if programme_ids is not None:
        if not programme_ids:
            return []
        ids = tuple(programme_ids)
    else:
        ids = ()
    allocs = list(_holder_allocations(scope.org_id, *ids))
    used = {
        (pid, category, level, direct): n
        for pid, category, level, direct, n in _holder_use(scope.org_id, *ids)
    }
    if programmes is None:
        wanted = {row[0] for row in allocs} | {key[0] for key in used}
        programmes = {p.pk: p for p in Programme.objects.filter(pk__in=wanted)} if wanted else {}
    lines = []
    for pid, category, level, direct, unlimited, effective, label in allocs:
        programme = programmes[pid]
        spec = programme.parsed.category(category)
        lines.append(
            QuotaLine(
                programme=programme,
                category=category,
                category_name=spec.name if spec else category,
                level=level,
                direct=direct,
                limit=None if unlimited else effective,
                used=used.pop((pid, category, level, direct), 0),
                label=label,
            )
        )
    # Buckets without a row whose policy leaves unlisted holders unlimited.
    for (pid, category, level, direct), n in used.items():
        spec = programmes[pid].parsed.category(category)
        lines.append(
            QuotaLine(
                programmes[pid], category, spec.name if spec else category, level, direct, None, n
            )
        )
    lines.sort(key=lambda line: (line.programme.pk, line.category, line.level, line.direct))
    return lines


def application_quota(application: Application, ranks_of=None) -> list[services.QuotaState]:
    """The buckets a recommendation at the application's current step would spend; the
    ranks of the review level ``ranks_of`` are counted with the first bucket's use
    (``QuotaState.also_counted``)."""
    if (
        application.state != AppState.SUBMITTED
        or application.current_step is None
        or application.current_step >= services.last_step(application)
    ):
        return []
    out = []
    for policy, bucket in services.quota_buckets(application, application.current_step):
        out.append(services.quota_state(application, policy, bucket, ranks_of=ranks_of))
        ranks_of = None
    return out


# --- the chain and its opinions ----------------------------------------------------------------


@dataclass
class StepView:
    index: int
    level: str
    name: str
    org_name: str
    org_id: int
    deadline: dt.datetime | None
    status: str  # "done", "current", "waiting", "stopped"
    decision: ReviewDecision | None = None
    opinion_title: str = ""
    # A joint review step's opinions so far, one per org (review/joint.py).
    opinions: list[JointOpinion] = field(default_factory=list)


def chain_view(application: Application, decisions: list[ReviewDecision]) -> list[StepView]:
    """Each step of the chain with the current submission's decision at it (no queries)."""
    category = application.category_spec
    boxes = {}
    if category is not None:
        boxes = {b.by: b.title for b in application.programme.parsed.form_for(category).opinions}
    # The form's own 意见 box title where it has one ("…推荐意见"), else the level's.
    titles = {
        lvl.key: boxes.get(lvl.key) or lvl.opinion_title or _("%(level)s意见") % {"level": lvl.name}
        for lvl in (category.levels if category else [])
    }
    current = [d for d in decisions if d.version == application.version]
    steps = []
    for i, info in enumerate(application.chain or []):
        at_step = [d for d in current if d.step == i]
        decision = at_step[-1] if at_step else None
        if decision is not None and decision.action == ReviewAction.RECOMMEND and decision.active:
            status = "done"
        elif decision is not None:
            status = "stopped" if decision.action != ReviewAction.RECOMMEND else "withdrawn"
        elif i == application.current_step and application.state in (
            AppState.SUBMITTED,
            AppState.RECOMMENDED,
        ):
            status = "current"
        else:
            status = "waiting"
        steps.append(
            StepView(
                index=i,
                level=info["level"],
                name=info["name"],
                org_name=_("、").join(info.get("org_names") or [info["org_name"]]),
                org_id=info["org"],
                deadline=application.programme.level_deadline(application.category, info["level"]),
                status=status,
                decision=decision,
                opinion_title=titles.get(info["level"], info["name"]),
            )
        )
    return steps


def access_decision(scope: Scope, pk) -> ReviewDecision:
    """A level decision reached through its application's scope (never by id alone), or 404."""
    return get_or_404(ReviewDecision.objects.filter(application__in=applications_for(scope)), pk=pk)


# What the page reads of a decision's org and reviewer (the name, and the handover mark):
# not the user's password hash, dates and flags, nor the org's contacts and JSON.
_DECISION_FIELDS = tuple(f.name for f in ReviewDecision._meta.concrete_fields) + (
    "org__name",
    "decided_by__username",
    "decided_by__full_name",
    "decided_by__ever_handed_down",
)


@prepared
def _decisions(application_id: int):
    return (
        ReviewDecision.objects.filter(application_id=application_id)
        .select_related("org", "decided_by")
        .only(*_DECISION_FIELDS)
        .order_by("version", "step", "decided_at", "pk")
    )


def decisions_of(application: Application) -> list[ReviewDecision]:
    return list(_decisions(application.pk))


@dataclass
class ReviewDetail:
    application: Application
    decisions: list[ReviewDecision]
    steps: list[StepView]
    quota: list[services.QuotaState] = field(default_factory=list)
    can: dict[str, tuple[bool, str]] = field(default_factory=dict)
    withdrawable: list[tuple[ReviewDecision, bool, str]] = field(default_factory=list)
    next_rank: int = 1
    acting_step: StepView | None = None
    # The applicant's ``[[categories.titles]]`` (直接入选 / 排序优先), shown to reviewers.
    titles: list[dict] = field(default_factory=list)


def review_detail(scope: Scope, pk, now: dt.datetime | None = None) -> ReviewDetail:
    """An application as a reviewer (or its applicant) sees it, in a fixed number of queries."""
    now = now or timezone.now()
    app = application_detail(scope, pk)
    decisions = decisions_of(app)
    for d in decisions:
        d.application = app
    detail = ReviewDetail(app, decisions, chain_view(app, decisions))
    category = app.programme.parsed.category(app.category)
    held = setrules.titles_of(category, [app.applicant_org])[app.applicant_org.pk]
    detail.titles = [{"name": t.name, "text": t.describe()} for t in held]
    if any("orgs" in info for info in app.chain or []):
        for row in JointOpinion.objects.filter(application=app, version=app.version).select_related(
            "org"
        ):
            detail.steps[row.step].opinions.append(row)
    if scope.is_reviewer:
        for action in ReviewAction:
            detail.can[action.value] = services.can_decide(scope, app, action, now)
        if any(ok for ok, _reason in detail.can.values()):
            detail.acting_step = detail.steps[app.current_step]
            # The level's recommendations so far (the next rank) are counted in the query
            # of the first quota bucket's use; with no bucket, on their own.
            ranks = None
            if detail.can[ReviewAction.RECOMMEND][0]:
                ranks = services._level_key(app, app.current_step)
            detail.quota = application_quota(app, ranks_of=ranks)
            if ranks is not None:
                counted = detail.quota[0].also_counted if detail.quota else None
                if counted is None:
                    counted = level_recommendations(ranks).count()
                detail.next_rank = counted + 1
        for d in decisions:
            if d.counts and d.org_id == scope.org_id:
                ok, why = services.can_withdraw_recommendation(scope, d, now)
                detail.withdrawable.append((d, ok, why))
    return detail


@dataclass
class RankedLevel:
    programme: Programme
    category: str
    category_name: str
    level: str
    level_name: str
    deadline: dt.datetime | None
    decisions: list[ReviewDecision] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.deadline is None or timezone.now() <= self.deadline


def my_ranked_levels(scope: Scope) -> list[RankedLevel]:
    """The scope org's counting recommendations, grouped by level, in rank order (one query)."""
    if scope.org_id is None:
        return []
    rows = (
        ReviewDecision.objects.filter(
            org_id=scope.org_id,
            active=True,
            action=ReviewAction.RECOMMEND,
            programme__is_active=True,
        )
        .select_related("programme", "application__applicant_org")
        .order_by("programme_id", "category", "level", "rank")
    )
    groups: dict[tuple, RankedLevel] = {}
    for d in rows:
        key = (d.programme_id, d.category, d.level)
        group = groups.get(key)
        if group is None:
            spec = d.programme.parsed.category(d.category)
            level = next((lvl for lvl in spec.levels if lvl.key == d.level), None) if spec else None
            group = groups[key] = RankedLevel(
                programme=d.programme,
                category=d.category,
                category_name=spec.name if spec else d.category,
                level=d.level,
                level_name=level.name if level else d.level,
                deadline=d.programme.level_deadline(d.category, d.level),
            )
        group.decisions.append(d)
    return list(groups.values())
