"""Scoped reads for the review chain: the reviewer's queue, an application's chain and opinions,
and quota use.

Every read starts from ``applications_for(scope)`` (or the scope's own org), and each page
issues a fixed number of queries whatever the number of applications.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.applications.models import Application, AppState
from edupilot.applications.selectors import application_detail, applications_for
from edupilot.orgs.models import Org, OrgKind, Stage, Tier, subtree_q
from edupilot.orgs.scoping import Scope, get_or_404
from edupilot.programmes import sets as setrules
from edupilot.programmes.models import Programme, QuotaAllocation
from edupilot.programmes.selectors import programmes_concerning

from . import services
from .models import JointOpinion, JointVerdict, ReviewAction, ReviewDecision

PAGE_SIZE = 50
PENDING = "pending"  # at the scope's level now
PASSED = "passed"  # recommended upward by the scope's org, still counting
SORTS = {
    "submitted": ("submitted_at", "pk"),
    "-submitted": ("-submitted_at", "-pk"),
    "name": ("applicant_org__name", "pk"),
    "lower": ("lower_org", "lower_rank", "pk"),
    "rank": ("category", "my_rank", "pk"),
}
# What a queue row shows: loading nothing else keeps 50 rows cheap (no form data, no JSON
# attributes of the orgs, no timestamps to parse).
QUEUE_FIELDS = (
    "programme_id", "category", "topic", "state", "title", "version", "chain", "current_step",
    "current_org_id", "submitted_at", "applicant_org_id",
)  # fmt: skip
SORT_LABELS = {
    "submitted": "提交时间（先到先列）",
    "-submitted": "提交时间（最新在前）",
    "name": "单位名称",
    "lower": "下级推荐顺序",
    "rank": "本级推荐排序",
}
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


def quota_summary(
    scope: Scope,
    programme_ids: list[int] | None = None,
    programmes: dict[int, Programme] | None = None,
) -> list[QuotaLine]:
    """Every quota bucket the scope's org holds: limit, places used and left (two queries).

    ``programmes`` (by id) saves loading each programme's spec again with every row.
    """
    if scope.org_id is None:
        return []
    # Sorted below: the model's ordering (by the holder's path) would join the org table.
    allocs = QuotaAllocation.objects.filter(
        holder_id=scope.org_id, programme__is_active=True
    ).order_by()
    if programmes is None:
        allocs = allocs.select_related("programme")
    else:
        allocs = allocs.only(
            "programme_id", "category", "level", "direct", "unlimited", "effective", "label"
        )
    used_qs = ReviewDecision.objects.filter(
        quota_holder_id=scope.org_id, active=True, action=ReviewAction.RECOMMEND
    )
    if programme_ids is not None:
        allocs = allocs.filter(programme_id__in=programme_ids)
        used_qs = used_qs.filter(programme_id__in=programme_ids)
    used = {
        (r["programme_id"], r["category"], r["quota_level"], r["quota_direct"]): r["n"]
        for r in used_qs.values("programme_id", "category", "quota_level", "quota_direct")
        .annotate(n=Count("pk"))
        .order_by()
    }
    lines = []
    for a in allocs:
        if programmes is not None:
            a.programme = programmes[a.programme_id]
        spec = a.programme.parsed.category(a.category)
        key = (a.programme_id, a.category, a.level, a.direct)
        lines.append(
            QuotaLine(
                programme=a.programme,
                category=a.category,
                category_name=spec.name if spec else a.category,
                level=a.level,
                direct=a.direct,
                limit=None if a.unlimited else a.effective,
                used=used.pop(key, 0),
                label=a.label,
            )
        )
    if used:
        # Buckets without a row whose policy leaves unlisted holders unlimited.
        programmes = programmes or {
            p.pk: p for p in Programme.objects.filter(pk__in={k[0] for k in used})
        }
        for (pid, category, level, direct), n in used.items():
            spec = programmes[pid].parsed.category(category)
            lines.append(
                QuotaLine(
                    programmes[pid],
                    category,
                    spec.name if spec else category,
                    level,
                    direct,
                    None,
                    n,
                )
            )
    lines.sort(key=lambda line: (line.programme.pk, line.category, line.level, line.direct))
    return lines


def application_quota(application: Application) -> list[services.QuotaState]:
    """The buckets a recommendation at the application's current step would spend."""
    if (
        application.state != AppState.SUBMITTED
        or application.current_step is None
        or application.current_step >= services.last_step(application)
    ):
        return []
    return [
        services.quota_state(application, policy, bucket)
        for policy, bucket in services.quota_buckets(application, application.current_step)
    ]


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
        lvl.key: boxes.get(lvl.key) or lvl.opinion_title or f"{lvl.name}意见"
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
                org_name="、".join(info.get("org_names") or [info["org_name"]]),
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


def decisions_of(application: Application) -> list[ReviewDecision]:
    return list(
        ReviewDecision.objects.filter(application=application)
        .select_related("org", "decided_by")
        .order_by("version", "step", "decided_at", "pk")
    )


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
        if any(ok for ok, _ in detail.can.values()):
            detail.acting_step = detail.steps[app.current_step]
            detail.quota = application_quota(app)
            if detail.can[ReviewAction.RECOMMEND][0]:
                detail.next_rank = (
                    services.level_recommendations(
                        services._level_key(app, app.current_step)
                    ).count()
                    + 1
                )
        for d in decisions:
            if d.counts and d.org_id == scope.org_id:
                ok, why = services.can_withdraw_recommendation(scope, d, now)
                detail.withdrawable.append((d, ok, why))
    return detail


# --- the queue -----------------------------------------------------------------------------------


@dataclass
class QueueFilters:
    programme: int | None = None
    category: str = ""
    topic: str = ""
    state: str = PENDING
    area: int | None = None
    stage: str = ""
    q: str = ""
    sort: str = "submitted"
    page: str | int = 1

    @classmethod
    def from_params(cls, params) -> QueueFilters:
        def as_int(value):
            try:
                return int(value)
            except (TypeError, ValueError):
                return None

        return cls(
            programme=as_int(params.get("programme")),
            category=(params.get("category") or "").strip(),
            topic=(params.get("topic") or "").strip(),
            state=(params.get("state") or PENDING).strip(),
            area=as_int(params.get("area")),
            stage=(params.get("stage") or "").strip(),
            q=(params.get("q") or "").strip()[:100],
            sort=(params.get("sort") or "").strip(),
            page=params.get("page") or 1,
        )


@dataclass
class QueueView:
    filters: QueueFilters
    page: Page
    programmes: list[Programme]
    programme: Programme | None
    categories: list = field(default_factory=list)
    topics: list = field(default_factory=list)
    areas: list[tuple[int, str]] = field(default_factory=list)
    states: list[tuple[str, str]] = field(default_factory=list)
    stages: list[tuple[str, str]] = field(default_factory=list)
    sorts: list[tuple[str, str]] = field(default_factory=list)
    quota: list[QuotaLine] = field(default_factory=list)
    now: dt.datetime | None = None
    # The page's rows as plain dicts of display strings: a template resolves dict keys
    # several times faster than model attributes, which matters at 50 rows a page.
    rows: list[dict] = field(default_factory=list)
    # Every row on the page waits for this org's final decision (the issuer's level).
    deciding: bool = False


def _local(moment: dt.datetime | None, fmt: str) -> str:
    return timezone.localtime(moment).strftime(fmt) if moment else ""


def _queue_row(app: Application, org: tuple[str, str | None], memo: dict) -> dict:
    """One row's display strings. ``memo`` keeps what rows share (state labels, category
    names, the level deadlines) for the page: 50 rows, a handful of distinct values."""
    programme = app.programme
    name, parent = org
    key = (app.programme_id, app.category)
    names = memo.get(key)
    if names is None:
        spec = programme.parsed.category(app.category)
        names = memo[key] = (
            programme.parsed.short_title or programme.title,
            spec.name if spec else app.category,
        )
    label = memo.get(app.state)
    if label is None:
        label = memo[app.state] = str(AppState(app.state).label)
    return {
        "pk": app.pk,
        "name": name,
        "title": app.title if app.title and app.title != name else "",
        "parent": parent or "—",
        "programme": names[0],
        "category": names[1],
        "topic": app.topic_name or "—",
        "state": app.state,
        "state_label": label,
        "level": app.level_name if app.state == AppState.SUBMITTED else "",
        "version": _("第 %(n)s 版") % {"n": app.version} if app.version > 1 else "",
        "lower": app.lower_label,
        "my_rank": app.my_rank or "—",
        "submitted": _local(app.submitted_at, "%Y-%m-%d %H:%M"),
        "deadline": _local(app.level_deadline, "%m-%d %H:%M") or "—",
        "late": app.late,
        "selectable": app.at_my_level and not app.late,
        "rankable": app.at_my_level and not app.late and not app.final_step,
    }


def review_programmes(scope: Scope) -> list[Programme]:
    """Active calls that concern the scope: issued in its lineage or inside its subtree
    (``programmes_concerning``, one query)."""
    # The spec is parsed once per file content (Programme.parsed caches it by hash); not
    # loading its JSON with every request keeps the page fast.
    return list(
        programmes_concerning(scope)
        .filter(is_active=True, kind="call")
        .defer("spec", "source_text")
        .order_by("-updated_at")
    )


def access_review_programme(scope: Scope, pk) -> Programme:
    """An active programme that concerns the scope (to order its recommendations), or 404."""
    return get_or_404(programmes_concerning(scope).filter(is_active=True), pk=pk)


def _areas(scope: Scope) -> list[tuple[int, str, str]]:
    """The county filter's choices: (pk, label, path), the path to filter by without
    fetching the chosen area again. Only the areas the bureaus administer (an inactive
    division, such as 金门县 of the division registry, has nobody to apply)."""
    if scope.org_tier not in (Tier.PROVINCE, Tier.CITY) or scope.org_path is None:
        return []
    rows = (
        Org.objects.filter(
            subtree_q(scope.org_path),
            kind__in=[OrgKind.CITY, OrgKind.COUNTY, OrgKind.ZONE],
            is_active=True,
        )
        .exclude(pk=scope.org_id)
        .order_by("path")
        .values_list("pk", "name", "path", "parent_id", "parent__name")
    )
    return [
        (pk, name if parent_id == scope.org_id or not parent else f"{parent} · {name}", path)
        for pk, name, path, parent_id, parent in rows
    ]


def _lower_recommendation(field_name: str):
    """The recommendation that brought each application to where it stands (a subquery)."""
    return Subquery(
        ReviewDecision.objects.filter(
            application=OuterRef("pk"),
            version=OuterRef("version"),
            step=OuterRef("current_step") - 1,
            active=True,
            action=ReviewAction.RECOMMEND,
        ).values(field_name)[:1]
    )


def _queue_filtered(scope: Scope, filters: QueueFilters, programmes, programme, lists=True):
    """The queue's applications by tab and filters (invalid filters are dropped, so the page
    shows what it filtered by)."""
    qs: QuerySet = applications_for(scope).filter(programme__in=[p.pk for p in programmes])
    mine = ReviewDecision.objects.filter(
        application=OuterRef("pk"),
        org_id=scope.org_id,
        active=True,
        action=ReviewAction.RECOMMEND,
    ).order_by("-step")
    states = [(PENDING, "待本级审核"), (PASSED, "本级已推荐")] + [
        (value, f"辖区内：{label}") for value, label in AppState.choices if value != AppState.DRAFT
    ]
    if filters.state not in {s for s, _ in states}:
        filters.state = PENDING
    if filters.state == PENDING:
        # A joint review step waits for each of its orgs until that org has said its opinion.
        joint_pending = JointOpinion.objects.filter(
            application=OuterRef("pk"),
            org_id=scope.org_id,
            version=OuterRef("version"),
            step=OuterRef("current_step"),
            verdict=JointVerdict.PENDING,
        )
        qs = qs.filter(
            Q(current_org_id=scope.org_id) | Exists(joint_pending),
            state__in=[AppState.SUBMITTED, AppState.RECOMMENDED],
        )
    elif filters.state == PASSED:
        # … and, for a joint review's orgs, what they agreed to (review/joint.py).
        agreed = JointOpinion.objects.filter(
            application=OuterRef("pk"), org_id=scope.org_id, verdict=JointVerdict.AGREE
        )
        qs = qs.filter(Exists(mine) | Exists(agreed))
    else:
        qs = qs.filter(state=filters.state)

    if programme is not None:
        qs = qs.filter(programme=programme)
        spec = programme.parsed
        categories = [(c.code, c.name) for c in spec.categories]
        topic_codes = {t for c in spec.categories for t in c.topics}
        topics = [(t.code, t.name) for t in spec.topics if t.code in topic_codes]
    else:
        categories, topics = [], []
    if filters.category and filters.category in {c for c, _ in categories}:
        qs = qs.filter(category=filters.category)
    else:
        filters.category = ""
    if filters.topic and filters.topic in {t for t, _ in topics}:
        qs = qs.filter(topic=filters.topic)
    else:
        filters.topic = ""
    # The API has no county filter and shows no filter lists: it skips the query.
    areas = _areas(scope) if lists or filters.area is not None else []
    paths = {pk: path for pk, _label, path in areas}
    if filters.area is not None and filters.area in paths:
        qs = qs.filter(subtree_q(paths[filters.area], "applicant_path"))
    else:
        filters.area = None
    if filters.stage and filters.stage in Stage.values:
        qs = qs.filter(applicant_org__stages__contains=f",{filters.stage},")
    else:
        filters.stage = ""
    if filters.q:
        qs = qs.filter(Q(applicant_org__name__icontains=filters.q) | Q(title__icontains=filters.q))

    return qs, mine, states, categories, topics, [(pk, label) for pk, label, _p in areas]


def _queue_sorted(qs, filters: QueueFilters, mine):
    sorts = dict(SORT_LABELS)
    if filters.state != PASSED:
        sorts.pop("rank")
    if filters.sort not in sorts:
        filters.sort = "rank" if filters.state == PASSED else "submitted"
    # Subqueries only where the order needs them; the page's ranks come in one query below.
    if filters.sort == "lower":
        qs = qs.annotate(
            lower_rank=_lower_recommendation("rank"), lower_org=_lower_recommendation("org__name")
        )
    elif filters.sort == "rank":
        qs = qs.annotate(my_rank=Subquery(mine.values("rank")[:1]))
    # The page is cut from the applications alone, then its 50 orgs are fetched by key: a
    # join before the sort would read the org of every application in the subtree.
    qs = qs.only(*QUEUE_FIELDS).order_by(*SORTS[filters.sort])

    return qs, sorts


def _queue_table(scope: Scope, rows, programmes, by_id, now) -> list[dict]:
    """The page's rows, with the levels' ranks and deadlines, in a fixed number of queries."""
    topic_names = {(p.pk, t.code): t.name for p in programmes for t in p.parsed.topics}
    # Names only: the row shows the applicant and its parent, no model needed.
    orgs = {
        pk: (name, parent)
        for pk, name, parent in Org.objects.filter(
            pk__in={a.applicant_org_id for a in rows}
        ).values_list("pk", "name", "parent__name")
    }
    memo: dict = {}
    counting = defaultdict(list)
    for d in ReviewDecision.objects.filter(
        application_id__in=[a.pk for a in rows], active=True, action=ReviewAction.RECOMMEND
    ).values("application_id", "version", "step", "rank", "org_id", "org__name"):
        counting[d["application_id"]].append(d)
    table: list[dict] = []
    for app in rows:
        lower = [
            d
            for d in counting[app.pk]
            if d["version"] == app.version
            and app.current_step is not None
            and d["step"] == app.current_step - 1
        ]
        mine_here = sorted(
            (d for d in counting[app.pk] if d["org_id"] == scope.org_id), key=lambda d: -d["step"]
        )
        app.lower_org = lower[0]["org__name"] if lower else None
        app.lower_rank = lower[0]["rank"] if lower else None
        app.my_rank = mine_here[0]["rank"] if mine_here else None
        app.programme = by_id[app.programme_id]
        info = services.current_step_info(app)
        app.level_name = info["name"] if info else ""
        deadline_key = (app.programme_id, app.category, info["level"] if info else None)
        if deadline_key not in memo:
            memo[deadline_key] = (
                app.programme.level_deadline(app.category, info["level"]) if info else None
            )
        app.level_deadline = memo[deadline_key]
        app.late = bool(app.level_deadline and now > app.level_deadline)
        app.at_my_level = (
            app.state in (AppState.SUBMITTED, AppState.RECOMMENDED)
            and info is not None
            and scope.org_id in (info.get("orgs") or [info["org"]])
            and (app.current_org_id == scope.org_id or "orgs" in info)
            and info.get("kind") != "expert_scoring"  # the panel's step: nobody reviews there
        )
        app.final_step = info is not None and app.current_step == services.last_step(app)
        app.topic_name = topic_names.get((app.programme_id, app.topic), app.topic)
        app.lower_label = (
            _("%(org)s 第 %(rank)s 名") % {"org": app.lower_org, "rank": app.lower_rank}
            if app.lower_org
            else "—"
        )
        table.append(_queue_row(app, orgs[app.applicant_org_id], memo))
    return table


def review_queue(
    scope: Scope, filters: QueueFilters, now: dt.datetime | None = None, page_extras: bool = True
) -> QueueView:
    """The reviewer's queue: its subtree's applications at its level (or, by ``state``, what it
    recommended, or everything in its subtree in one state), filtered, sorted, 50 a page.

    ``page_extras=False`` (the API) leaves out what only the page shows: the quota summary
    and the county list (``quota`` and ``areas`` stay empty)."""
    now = now or timezone.now()
    programmes = review_programmes(scope)
    by_id = {p.pk: p for p in programmes}
    programme = by_id.get(filters.programme)
    if programme is None and filters.programme is None and len(programmes) == 1:
        programme = programmes[0]
    filters.programme = programme.pk if programme else None
    qs, mine, states, categories, topics, areas = _queue_filtered(
        scope, filters, programmes, programme, lists=page_extras
    )
    qs, sorts = _queue_sorted(qs, filters, mine)
    page = Paginator(qs, PAGE_SIZE).get_page(filters.page)
    rows = list(page.object_list)
    table = _queue_table(scope, rows, programmes, by_id, now)
    return QueueView(
        filters=filters,
        page=page,
        programmes=programmes,
        programme=programme,
        categories=categories,
        topics=topics,
        areas=areas,
        states=states,
        stages=list(Stage.choices),
        sorts=list(sorts.items()),
        rows=table,
        deciding=bool(rows) and all(a.final_step and a.at_my_level for a in rows),
        quota=(
            quota_summary(scope, [programme.pk] if programme else [p.pk for p in programmes], by_id)
            if page_extras
            else []
        ),
        now=now,
    )


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
