"""The reviewer's queue: its subtree's applications at its level (or what it recommended,
or everything in its subtree in one state), filtered, sorted, 50 a page, in a fixed number of
queries whatever the number of applications.

Every read starts from ``applications_for(scope)``; the quota summary the page shows beside
the rows is ``selectors.quota_summary``.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Window
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from edupilot.applications.models import AppState
from edupilot.applications.selectors import applications_for
from edupilot.core.prepared import prepared
from edupilot.orgs.models import Org, OrgKind, Stage, Tier, path_range_q, subtree_q, subtree_range
from edupilot.orgs.scoping import Scope, get_or_404
from edupilot.programmes.models import Programme
from edupilot.programmes.selectors import concerning_paths, issued_q, programmes_concerning

from .models import JointOpinion, JointVerdict, ReviewAction, ReviewDecision
from .permissions import step_info
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


# The page query's columns, in this order, then the titles' flags (``title_flags``): each row
# is read as a tuple, not as an Application (no model instance, no deferred-field class, no
# attributes set on it per row; the page shows display strings only).
ROW_COLUMNS = (
    "pk", "programme_id", "category", "topic", "state", "title", "version", "chain",
    "current_step", "current_org_id", "submitted_at", "org_name", "org_parent",
)  # fmt: skip
WAITING = (AppState.SUBMITTED, AppState.RECOMMENDED)


@dataclass
class _Rows:
    """What the page's rows share: the scope's org, the time, the page's recommendations and
    the texts rows format, worked out once per page (50 rows, a handful of distinct values)."""

    org_id: int | None
    by_id: dict[int, Programme]
    now: dt.datetime
    flags: tuple[str, ...]
    lower: dict[int, tuple[str, int | None]]  # application -> (org, rank) that brought it here
    mine: dict[int, int | None]  # application -> the scope's own rank (its latest step)
    tz: dt.tzinfo = field(default_factory=timezone.get_current_timezone)
    memo: dict = field(default_factory=dict)
    lower_fmt: str = field(default_factory=lambda: _("%(org)s 第 %(rank)s 名"))
    version_fmt: str = field(default_factory=lambda: _("第 %(n)s 版"))

    def shared(self, programme_id: int, category: str, topic: str, state: str, info, held):
        """The cells rows of one programme, category, topic, state and level (``info``, the
        chain's step; and titles) share: (programme, category, topic, badge, state's label,
        deadline, late)."""
        level = info["level"] if info else None
        key = (programme_id, category, topic, state, info is not None, level, *held)
        cells = self.memo.get(key)
        if cells is None:
            programme = self.by_id[programme_id]
            spec = programme.parsed.category(category)
            deadline = programme.level_deadline(category, level) if info else None
            flags = SimpleNamespace(**dict(zip(self.flags, held, strict=True)))
            cells = self.memo[key] = (
                programme.parsed.short_title or programme.title,
                spec.name if spec else category,
                programme.parsed.topic_label(topic) or "—",
                title_badge(flags, spec),
                str(AppState(state).label),
                _local(deadline, "%m-%d %H:%M", self.tz) or "—",
                bool(deadline and self.now > deadline),
            )
        return cells


@prepared
def _active_recommendations(*application_ids: int):
    """The applications' active recommendations (one SQL per number of applications, at
    most ``PAGE_SIZE``)."""
    return ReviewDecision.objects.filter(
        application_id__in=application_ids, active=True, action=ReviewAction.RECOMMEND
    ).values_list("application_id", "version", "step", "rank", "org_id", "org__name")


def _recommendations(org_id, rows) -> tuple[dict, dict]:
    """The page's active recommendations (one query): for each row, the one that brought it
    to where it stands (same version, the step below) and the scope's own latest rank."""
    # ROW_COLUMNS: 0 pk, 6 version, 8 current_step.
    below = {r[0]: (r[6], r[8] - 1 if r[8] is not None else None) for r in rows}
    lower: dict[int, tuple[str, int | None]] = {}
    mine: dict[int, tuple[int, int | None]] = {}
    if not below:
        return lower, {}
    for app_id, version, step, rank, by, by_name in _active_recommendations(*below):
        if app_id not in lower and below[app_id] == (version, step):
            lower[app_id] = (by_name, rank)
        if by == org_id and (app_id not in mine or step > mine[app_id][0]):
            mine[app_id] = (step, rank)
    return lower, {pk: rank for pk, (_step, rank) in mine.items()}


def _queue_row(row: tuple, page: _Rows) -> tuple[dict, bool]:
    """One row's display strings, and whether it waits for this org's final decision."""
    (pk, programme_id, category, topic, state, title, version, chain, step, current_org_id,
     submitted_at, name, parent, *held) = row  # fmt: skip
    info = step_info(chain, step)
    short_title, category_name, topic_label, badge, state_label, deadline, late = page.shared(
        programme_id, category, topic, state, info, held
    )
    org_id = page.org_id
    at_my_level = (
        state in WAITING
        and info is not None
        and org_id in (info.get("orgs") or [info["org"]])
        and (current_org_id == org_id or "orgs" in info)
        and info.get("kind") != "expert_scoring"  # the panel's step: nobody reviews there
    )
    final_step = info is not None and step == len(chain) - 1
    lower = page.lower.get(pk)
    selectable = at_my_level and not late
    cells = {
        "pk": pk,
        "name": name,
        "title": title if title and title != name else "",
        "parent": parent or "—",
        "programme": short_title,
        "category": category_name,
        "topic": topic_label,
        "badge": badge,
        "state": state,
        "state_label": state_label,
        "level": info["name"] if info and state == AppState.SUBMITTED else "",
        "version": page.version_fmt % {"n": version} if version > 1 else "",
        "lower": page.lower_fmt % {"org": lower[0], "rank": lower[1]}
        if lower and lower[0]
        else "—",
        "my_rank": page.mine.get(pk) or "—",
        "submitted": submitted_at.astimezone(page.tz).strftime("%Y-%m-%d %H:%M")
        if submitted_at
        else "",
        "deadline": deadline,
        "late": late,
        "selectable": selectable,
        "rankable": selectable and not final_step,
    }
    return cells, final_step and at_my_level


@prepared
def _calls_issued(lo: str, hi: str, *lineage: str):
    """Active calls issued at one of the ``lineage`` paths or inside ``[lo, hi)`` (``issued_q``),
    newest first. The spec is parsed once per file content (``Programme.parsed`` caches it by
    hash): its file and JSON are not loaded."""
    return (
        Programme.objects.filter(issued_q(lineage, (lo, hi)), is_active=True, kind="call")
        .defer("spec", "source_text")
        .order_by("-updated_at")
    )


def review_programmes(scope: Scope) -> list[Programme]:
    """Active calls that concern the scope: issued in its lineage or inside its subtree
    (``programmes_concerning``, one query; a reviewer's compiled once per process and depth
    of the tree, ``concerning_paths`` giving its values)."""
    if scope.is_authenticated and scope.org_path and not scope.is_platform_admin:
        lineage, subtree = concerning_paths(scope)
        if subtree is not None:
            return list(_calls_issued(*subtree, *lineage))
    return list(
        programmes_concerning(scope)
        .filter(is_active=True, kind="call")
        .defer("spec", "source_text")
        .order_by("-updated_at")
    )


def access_review_programme(scope: Scope, pk) -> Programme:
    """An active programme that concerns the scope (to order its recommendations), or 404."""
    return get_or_404(programmes_concerning(scope).filter(is_active=True), pk=pk)


@prepared
def _area_rows(lo: str, hi: str, org_id: int):
    """The areas the bureaus administer inside ``[lo, hi)`` (``subtree_range``), but the org
    itself: (pk, name, path, parent's pk, parent's name)."""
    return (
        Org.objects.filter(
            path_range_q(lo, hi),
            kind__in=[OrgKind.CITY, OrgKind.COUNTY, OrgKind.ZONE],
            is_active=True,
        )
        .exclude(pk=org_id)
        .order_by("path")
        .values_list("pk", "name", "path", "parent_id", "parent__name")
    )


def _areas(scope: Scope) -> list[tuple[int, str, str]]:
    """The county filter's choices: (pk, label, path), the path to filter by without
    fetching the chosen area again. Only the areas the bureaus administer (an inactive
    division, such as 金门县 of the division registry, has nobody to apply)."""
    if scope.org_tier not in (Tier.PROVINCE, Tier.CITY) or scope.org_path is None:
        return []
    lo, hi = subtree_range(scope.org_path)
    org_id = scope.org_id
    return [
        (pk, name if parent_id == org_id or not parent else f"{parent} · {name}", path)
        for pk, name, path, parent_id, parent in _area_rows(lo, hi, org_id)
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


def _mine(scope: Scope) -> QuerySet:
    """The scope's own active recommendations of each application, latest step first (a
    subquery: the 本级已推荐 tab and its order by rank; the other tabs do not build it)."""
    return ReviewDecision.objects.filter(
        application=OuterRef("pk"),
        org_id=scope.org_id,
        active=True,
        action=ReviewAction.RECOMMEND,
    ).order_by("-step")


@functools.cache
def _states(language: str | None) -> tuple[tuple[str, str], ...]:
    """The tabs (``state``): the level's own two, then the subtree's states, in ``language``
    (translated once per process and language, not with every request)."""
    area = _("辖区内：%(state)s")
    return (
        (PENDING, _("待本级审核")),
        (PASSED, _("本级已推荐")),
        *(
            (value, area % {"state": label})
            for value, label in AppState.choices
            if value != AppState.DRAFT
        ),
    )


@functools.cache
def _labels(language: str | None) -> tuple[tuple[tuple[str, str], ...], dict[str, str]]:
    """The stages' and the orders' choices in ``language`` (translated once per process and
    language: a lazy label is looked up again each time it is read)."""
    stages = tuple((value, str(label)) for value, label in Stage.choices)
    return stages, {key: str(label) for key, label in SORT_LABELS.items()}


def _tab_q(scope: Scope, state: str) -> Q:
    """The applications of the tab ``state``."""
    if state == PENDING:
        # A joint review step waits for each of its orgs until that org has said its opinion.
        joint_pending = JointOpinion.objects.filter(
            application=OuterRef("pk"),
            org_id=scope.org_id,
            version=OuterRef("version"),
            step=OuterRef("current_step"),
            verdict=JointVerdict.PENDING,
        )
        return Q(Q(current_org_id=scope.org_id) | Exists(joint_pending)) & Q(
            state__in=[AppState.SUBMITTED, AppState.RECOMMENDED]
        )
    if state == PASSED:
        # … and, for a joint review's orgs, what they agreed to (review/joint.py).
        agreed = JointOpinion.objects.filter(
            application=OuterRef("pk"), org_id=scope.org_id, verdict=JointVerdict.AGREE
        )
        return Q(Exists(_mine(scope)) | Exists(agreed))
    return Q(state=state)


def _queue_filtered(scope: Scope, filters: QueueFilters, programmes, programme, lists=True):
    """The queue's applications by tab and filters (invalid filters are dropped, so the page
    shows what it filtered by). The conditions go into one ``filter`` (each call clones the
    query, its subqueries with it); the relations they follow are single-valued, so one call
    or several select the same rows."""
    states = list(_states(get_language()))
    if filters.state not in {s for s, _ in states}:
        filters.state = PENDING
    conditions = [_tab_q(scope, filters.state)]
    if programme is not None:
        if len(programmes) > 1:  # one programme: ``applications_for`` keeps only its rows
            conditions.append(Q(programme=programme))
        spec = programme.parsed
        categories = [(c.code, c.name) for c in spec.categories]
        topic_codes = {t for c in spec.categories for t in c.topics}
        topics = [(t.code, spec.topic_label(t.code)) for t in spec.topics if t.code in topic_codes]
    else:
        categories, topics = [], []
    if filters.category and filters.category in {c for c, _ in categories}:
        conditions.append(Q(category=filters.category))
    else:
        filters.category = ""
    if filters.topic and filters.topic in {t for t, _ in topics}:
        conditions.append(Q(topic=filters.topic))
    else:
        filters.topic = ""
    # The API has no county filter and shows no filter lists: it skips the query.
    areas = _areas(scope) if lists or filters.area is not None else []
    paths = {pk: path for pk, _label, path in areas}
    if filters.area is not None and filters.area in paths:
        conditions.append(subtree_q(paths[filters.area], "applicant_path"))
    else:
        filters.area = None
    if filters.stage and filters.stage in Stage.values:
        conditions.append(Q(applicant_org__stages__contains=f",{filters.stage},"))
    else:
        filters.stage = ""
    if filters.q:
        conditions.append(
            Q(applicant_org__name__icontains=filters.q) | Q(title__icontains=filters.q)
        )
    # The programmes in hand also give the folds' lookup (no query of the active programmes).
    qs: QuerySet = applications_for(scope, programmes).filter(*conditions)
    return qs, states, categories, topics, [(pk, label) for pk, label, _p in areas]


def _queue_sorted(qs, filters: QueueFilters, scope: Scope):
    sorts = dict(_labels(get_language())[1])
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
        qs = qs.annotate(my_rank=Subquery(_mine(scope).values("rank")[:1]))
    return qs.order_by(*SORTS[filters.sort]), sorts


def _queue_page(qs, number, extra=None) -> tuple[Page, list[tuple]]:
    """The page of ``qs`` and its rows (``ROW_COLUMNS`` then the ``extra`` annotations, the
    titles' flags), each with its applicant's and parent's names (two joins on keys in the
    page's query, not a query of their own).

    The count comes with the rows (``COUNT(*) OVER ()``: the same filters, one query instead
    of two). A page past the end has no row to carry it: then the count is asked on its own
    and the last page read, as ``Paginator.get_page`` would."""
    extra = extra or {}
    named = qs.annotate(
        org_name=F("applicant_org__name"), org_parent=F("applicant_org__parent__name"), **extra
    ).values_list(*ROW_COLUMNS, *extra)
    paginator = Paginator(named, PAGE_SIZE)
    try:
        number = int(number)
    except (TypeError, ValueError):
        number = 1
    if number >= 1:
        bottom = (number - 1) * PAGE_SIZE
        counted = list(named.annotate(total=Window(Count("pk")))[bottom : bottom + PAGE_SIZE])
        if counted or number == 1:
            paginator.count = counted[0][-1] if counted else 0  # a cached property: set
            return paginator.page(number), [row[:-1] for row in counted]
    paginator.count = qs.count()
    page = paginator.get_page(number)
    return page, list(page.object_list)


def _queue_table(scope: Scope, rows, by_id, now, flags) -> tuple[list[dict], bool]:
    """The page's rows as display strings, with the levels' ranks and deadlines (one query),
    and whether every row waits for this org's final decision (the issuer's level)."""
    lower, mine = _recommendations(scope.org_id, rows)
    page = _Rows(scope.org_id, by_id, now, tuple(flags), lower, mine)
    table = []
    deciding = bool(rows)
    for row in rows:
        cells, final = _queue_row(row, page)
        table.append(cells)
        deciding = deciding and final
    return table, deciding


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
    qs, states, categories, topics, areas = _queue_filtered(
        scope, filters, programmes, programme, lists=page_extras
    )
    qs, sorts = _queue_sorted(qs, filters, scope)
    flags = title_flags(programmes)
    page, rows = _queue_page(qs, filters.page, flags)
    table, deciding = _queue_table(scope, rows, by_id, now, flags)
    page.object_list = table  # the page lists its rows as the table shows them
    return QueueView(
        filters=filters,
        page=page,
        programmes=programmes,
        programme=programme,
        categories=categories,
        topics=topics,
        areas=areas,
        states=states,
        stages=list(_labels(get_language())[0]),
        sorts=list(sorts.items()),
        rows=table,
        deciding=deciding,
        quota=(
            quota_summary(scope, [programme.pk] if programme else [p.pk for p in programmes], by_id)
            if page_extras
            else []
        ),
        now=now,
    )
