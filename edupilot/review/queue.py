"""The reviewer's queue: its subtree's applications at its level (or what it recommended,
or everything in its subtree in one state), filtered, sorted, 50 a page, in a fixed number of
queries whatever the number of applications.

Every read starts from ``applications_for(scope)``; the quota summary the page shows beside
the rows is ``selectors.quota_summary``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from edupilot.applications.models import Application, AppState
from edupilot.applications.selectors import applications_for
from edupilot.orgs.models import Org, OrgKind, Stage, Tier, subtree_q
from edupilot.orgs.scoping import Scope, get_or_404
from edupilot.programmes.models import Programme
from edupilot.programmes.selectors import programmes_concerning

from . import services
from .models import JointOpinion, JointVerdict, ReviewAction, ReviewDecision
from .selectors import QuotaLine, quota_summary
from .sets import title_badge, title_flags

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
    "submitted": gettext_lazy("提交时间（先到先列）"),
    "-submitted": gettext_lazy("提交时间（最新在前）"),
    "name": gettext_lazy("单位名称"),
    "lower": gettext_lazy("下级推荐顺序"),
    "rank": gettext_lazy("本级推荐排序"),
}


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


def _local(moment: dt.datetime | None, fmt: str, tz: dt.tzinfo) -> str:
    # ``tz``: the current time zone, asked once per page (``timezone.localtime`` asks the
    # request's thread-local for it with every value).
    return moment.astimezone(tz).strftime(fmt) if moment else ""


def _queue_row(app: Application, org: tuple[str, str | None], memo: dict, tz: dt.tzinfo) -> dict:
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
    deadline = memo.get(("deadline", app.level_deadline))
    if deadline is None:
        deadline = _local(app.level_deadline, "%m-%d %H:%M", tz) or "—"
        memo[("deadline", app.level_deadline)] = deadline
    return {
        "pk": app.pk,
        "name": name,
        "title": app.title if app.title and app.title != name else "",
        "parent": parent or "—",
        "programme": names[0],
        "category": names[1],
        "topic": app.topic_name or "—",
        "badge": app.badge,
        "state": app.state,
        "state_label": label,
        "level": app.level_name if app.state == AppState.SUBMITTED else "",
        "version": memo["version_fmt"] % {"n": app.version} if app.version > 1 else "",
        "lower": app.lower_label,
        "my_rank": app.my_rank or "—",
        "submitted": _local(app.submitted_at, "%Y-%m-%d %H:%M", tz),
        "deadline": deadline,
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
    # The programmes in hand also give the folds' lookup (no query of the active programmes).
    qs: QuerySet = applications_for(scope, programmes)
    mine = ReviewDecision.objects.filter(
        application=OuterRef("pk"),
        org_id=scope.org_id,
        active=True,
        action=ReviewAction.RECOMMEND,
    ).order_by("-step")
    area = _("辖区内：%(state)s")
    states = [(PENDING, _("待本级审核")), (PASSED, _("本级已推荐"))] + [
        (value, area % {"state": label})
        for value, label in AppState.choices
        if value != AppState.DRAFT
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
        topics = [(t.code, spec.topic_label(t.code)) for t in spec.topics if t.code in topic_codes]
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
    return qs.only(*QUEUE_FIELDS).order_by(*SORTS[filters.sort]), sorts


def _queue_page(qs, number, extra=None) -> Page:
    """The page of ``qs``, each row with its applicant's and parent's names (two joins on
    keys in the page's query, not a query of their own) and the ``extra`` annotations (the
    titles' lists); the count is asked of ``qs`` without them, so it joins no org."""
    named = qs.annotate(
        org_name=F("applicant_org__name"),
        org_parent=F("applicant_org__parent__name"),
        **(extra or {}),
    )
    paginator = Paginator(named, PAGE_SIZE)
    paginator.count = qs.count()  # a cached property: set, it is not asked of ``named``
    return paginator.get_page(number)


def _queue_table(scope: Scope, rows, programmes, by_id, now) -> list[dict]:
    """The page's rows, with the levels' ranks and deadlines, in a fixed number of queries."""
    # A sub-direction is shown after its direction ("教学应用 / 智慧课堂").
    topic_names = {
        (p.pk, t.code): p.parsed.topic_label(t.code) for p in programmes for t in p.parsed.topics
    }
    # The texts every row formats, translated once for the page.
    lower_fmt = _("%(org)s 第 %(rank)s 名")
    memo: dict = {"version_fmt": _("第 %(n)s 版")}
    tz = timezone.get_current_timezone()
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
        app.badge = title_badge(app, app.programme.parsed.category(app.category))
        app.lower_label = (
            lower_fmt % {"org": app.lower_org, "rank": app.lower_rank} if app.lower_org else "—"
        )
        table.append(_queue_row(app, (app.org_name, app.org_parent), memo, tz))
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
    page = _queue_page(qs, filters.page, title_flags(programmes))
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
