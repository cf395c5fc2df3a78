"""Every number of a region's dashboard, read through the scope, by the region's children.

A province's dashboard is by city, a city's by county, a county's by school: the rows are the
region's direct children in the reporting tree (``Org.parent``), and each row counts what lies
in that child's subtree. Each table is one or a few aggregate queries grouped by the
applicant's parent's path (``_near_path``), folded to the children in Python by the path's
next segment (``_Buckets``), so the page is a fixed number of queries whatever the number of
schools (tests/dashboards/test_dashboards.py, bench/dashboards.py). A ``CASE`` over the
children's path ranges in SQL was tried first: several times slower on SQLite.

Definitions (the page says them too):

- 已填报: applications started in the programme (any state);
- 已提交: those submitted at least once (not a draft, or ``version > 0``);
- 已推荐: a region child's applications with a counting recommendation by the child itself or
  by this region (passed upward by the child's level); a school's (or unit's) with a counting
  recommendation at any level; and every application past the whole chain;
- 名额 / 已用: the child's own quota allocations in the programme (summed over categories) and
  the counting recommendations that spend them;
- reporting: pilots.reports.completeness (on time, late, missing over the periods due so far);
- certification: the batch's entries against the schools of the child inside the batch's
  area whose stages the batch covers.

Applications a programme's ``[[folds]]`` route to another unit count where they queue: under
the child that holds the fold's ``into`` (dashboards/queues.py), not where the tree puts them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Case, Count, F, Q, Sum, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from edupilot.applications.models import EDITABLE_STATES, Application, AppState
from edupilot.certification.models import Decision, EntryState
from edupilot.certification.selectors.reads import batches_for, entries_for
from edupilot.core.errors import Denied, check
from edupilot.documents.xlsx import Column
from edupilot.orgs.models import ADMIN_KINDS, PATH_SEP, Org, OrgKind, subtree_q
from edupilot.orgs.scoping import Scope, get_or_404, scoped
from edupilot.pilots.reports import completeness
from edupilot.pilots.selectors import query_int
from edupilot.programmes.models import Programme, QuotaAllocation
from edupilot.review.models import ReviewAction, ReviewDecision
from edupilot.review.queue import review_programmes

from .permissions import can_view_dashboard
from .queues import (
    APPROVAL,
    FoldMoves,
    announcement_ends,
    fold_moves,
    joint_waiting,
    near_path,
    pilot_report_deadlines,
    short_of_scores,
    waiting_by_stage,
)
from .tables import UNLIMITED, Chart, Table, ratio

CHILD_LABELS = {
    OrgKind.PROVINCE: gettext_lazy("各设区市"),
    OrgKind.CITY: gettext_lazy("各县（市、区）"),
    OrgKind.COUNTY: gettext_lazy("各学校（单位）"),
    OrgKind.ZONE: gettext_lazy("各学校（单位）"),
}
MAX_DEADLINES = 10
# Past the whole review chain: recommended by every level (whatever the issuer did next).
PASSED_CHAIN = (
    AppState.RECOMMENDED,
    AppState.APPROVED,
    AppState.REJECTED,
    AppState.PILOT,
    AppState.FORWARDED,
)
OWN = 0  # the bucket of rows in the region itself, not in any child


@dataclass
class Dashboard:
    org: Org
    children_label: str
    breadcrumbs: list[Org]
    programmes: list[Programme]
    programme: Programme | None
    batches: list
    batch: object
    tables: list[Table] = field(default_factory=list)

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)


# --- which region ---------------------------------------------------------------------------


def dashboard_org(scope: Scope, code: str | None = None) -> Org:
    """The region of the page: the scope's own org, or one inside its scope (else 404)."""
    check(can_view_dashboard(scope))
    if code is None:
        org = scope.org
        if org.kind not in ADMIN_KINDS:  # a platform admin on a unit: no region of its own
            raise Denied(_("统计看板按行政区域汇总，请从行政区域的页面进入。"))
    else:
        org = get_or_404(scoped(Org.objects.all(), scope), code=code)
    check(can_view_dashboard(scope, org))
    return org


def _children_label(org: Org) -> str:
    return str(CHILD_LABELS.get(org.kind, _("各下级单位")))


def _breadcrumbs(scope: Scope, org: Org) -> list[Org]:
    """The regions above ``org`` that the scope may open, root first (one query)."""
    codes = org.ancestor_codes
    if not codes:
        return []
    above = scoped(Org.objects.filter(code__in=codes), scope).order_by("depth")
    return [o for o in above if o.kind in ADMIN_KINDS]


def _children(org: Org) -> list[Org]:
    return list(
        Org.objects.filter(parent=org, is_active=True)
        .exclude(kind=OrgKind.GROUP)
        .order_by("path")
        .only("pk", "code", "name", "path", "kind")
    )


class _Buckets:
    """Which child of ``org`` a path lies under (its pk), OWN for the region itself: the path's
    next segment below the region, looked up among the children (no query, O(1) a row)."""

    def __init__(self, org: Org, children: list[Org]):
        self.root = org.path
        self.by_path = {c.path: c.pk for c in children}

    def __call__(self, path: str) -> int:
        if not path.startswith(self.root) or path == self.root:
            return OWN
        segment = path[len(self.root) :].split(PATH_SEP, 1)[0]
        return self.by_path.get(f"{self.root}{segment}{PATH_SEP}", OWN)


def _near_path(org: Org, prefix: str = "") -> Case:
    """An org's path when it is a child of ``org`` itself, else its parent's (the schools of
    the certification tables; applications: queues.near_path, which also follows folds)."""
    return Case(
        When(**{f"{prefix}parent_id": org.pk}, then=F(f"{prefix}path")),
        default=F(f"{prefix}parent__path"),
    )


def _label_rows(org: Org, children: list[Org], counted: dict) -> list[tuple[str, str | None, int]]:
    """(label, link, bucket) per child, then the region's own row if it has any numbers."""
    out = []
    for c in children:
        link = reverse("dashboards:org", args=[c.code]) if c.kind in ADMIN_KINDS else None
        out.append((c.name, link, c.pk))
    if counted.get(OWN):
        out.append((_("%(org)s（本级）") % {"org": org.name}, None, OWN))
    return out


# --- the tables -------------------------------------------------------------------------------


def _quotas(programme: Programme, holder_ids: list[int]) -> tuple[dict, dict]:
    """Each holder's quota in the programme (summed over categories; UNLIMITED when any of
    its allocations is) and the counting recommendations that spend it: two queries."""
    limits = {
        r["holder_id"]: str(UNLIMITED) if r["unlimited"] else r["limit"]
        for r in QuotaAllocation.objects.filter(programme=programme, holder_id__in=holder_ids)
        .values("holder_id")
        .annotate(limit=Sum("effective"), unlimited=Count("pk", filter=Q(unlimited=True)))
        .order_by()
    }
    used = dict(
        ReviewDecision.objects.filter(
            programme=programme,
            quota_holder_id__in=holder_ids,
            active=True,
            action=ReviewAction.RECOMMEND,
        )
        .values("quota_holder_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("quota_holder_id", "n")
    )
    return limits, used


def _region_apps(scope: Scope, programme: Programme, folds: FoldMoves):
    """The programme's applications counted in the region (its tree, with the folds)."""
    return scoped(
        Application.objects.filter(programme=programme), scope, org_field="applicant_org"
    ).filter(folds.region_q())


def _progress(scope: Scope, org: Org, children: list[Org], programme: Programme) -> Table:
    table = Table(
        "progress",
        _("申报进度"),
        _("%(title)s：%(children)s申报进度")
        % {"title": programme.title, "children": _children_label(org)},
        [
            Column(_("单位"), 30),
            Column(_("已填报"), 10, "int"),
            Column(_("已提交"), 10, "int"),
            Column(_("已推荐"), 10, "int"),
            Column(_("名额"), 10, "int"),
            Column(_("已用名额"), 10, "int"),
        ],
        chart=Chart(series=[1, 2, 3, 5]),
        empty=_("本辖区尚无申报。"),
        note=_(
            "已推荐：经该单位（或本级）推荐上报、仍然有效的申报（学校为任一级推荐），"
            "含已通过全部审核的；名额为该单位持有的名额合计。"
        ),
    )
    child_ids = [c.pk for c in children]
    folds = fold_moves(programme, org)
    apps = _region_apps(scope, programme, folds)
    regions = {c.pk for c in children if c.kind in ADMIN_KINDS}
    leaves = any(c.kind not in ADMIN_KINDS for c in children)
    bucket = _Buckets(org, children)
    counts: dict[int, dict] = {}
    for r in (
        apps.annotate(near=near_path(org, folds))
        .values("near")
        .annotate(
            started=Count("pk"),
            submitted=Count("pk", filter=~Q(state=AppState.DRAFT) | Q(version__gt=0)),
            passed=Count("pk", filter=Q(state__in=PASSED_CHAIN)),
        )
        .order_by()
    ):
        acc = counts.setdefault(bucket(r["near"]), {"started": 0, "submitted": 0, "recommended": 0})
        acc["started"] += r["started"]
        acc["submitted"] += r["submitted"]
        acc["recommended"] += r["passed"]
    # Recommended short of the chain's end: by the child or the region for a region child,
    # at any level for a school (or unit) child. One grouped join each, not a subquery a row.
    counting = ReviewDecision.objects.filter(
        application__in=apps.exclude(state__in=PASSED_CHAIN).values("pk"),
        active=True,
        action=ReviewAction.RECOMMEND,
    )
    by_region = counting.filter(org_id__in=[org.pk, *regions])
    for qs, wanted in ((by_region, True), (counting if leaves else None, False)):
        if qs is None:
            continue
        for path, n in (
            qs.annotate(near=near_path(org, folds.via("application__")))
            .values_list("near")
            .annotate(n=Count("application_id", distinct=True))
            .order_by()
        ):
            child = bucket(path)
            if (child in regions or child == OWN) == wanted:
                counts.setdefault(child, {"started": 0, "submitted": 0, "recommended": 0})
                counts[child]["recommended"] += n
    limits, used = _quotas(programme, child_ids)
    sums = [0, 0, 0, 0, 0]
    for label, link, pk in _label_rows(org, children, counts):
        c = counts.get(pk, {})
        limit = limits.get(pk)
        row = [
            c.get("started", 0),
            c.get("submitted", 0),
            c.get("recommended", 0),
            limit,
            used.get(pk, 0) if limit is not None else None,
        ]
        table.add([label, *row], link)
        for i, v in enumerate(row):
            if isinstance(v, int) and isinstance(sums[i], int):
                sums[i] += v
            elif i == 3 and v == str(UNLIMITED):
                sums[i] = v
    table.total = [_("合计"), *sums]
    return table


def _deadlines(scope: Scope, org: Org, programme: Programme, now: dt.datetime) -> Table:
    table = Table(
        "deadlines",
        _("近期截止"),
        _("%(title)s：近期截止事项") % {"title": programme.title},
        [
            Column(_("事项"), 36),
            Column(_("截止时间"), 18, "datetime"),
            Column(_("剩余天数"), 10, "int"),
            Column(_("本辖区待办"), 12, "int"),
        ],
        chart=Chart(series=[3], horizontal=True),
        empty=_("该项目近期没有截止事项。"),
        note=_(
            "待办：申报截止前为尚未提交（草稿、退回、撤回）的申报；审核、专家评审截止前为正在该阶段"
            "等待的申报（联合审核：尚未满足通过条件的申报，另列各单位尚未发表意见的申报）；"
            "审定截止前为等待审定的申报；试点报告截止前为尚未上报的试点。公示的截止时间为已发布公示的"
            "异议期结束时间；未设截止时间的联合审核列在最后，标为“无截止日期（进行中）”。"
        ),
    )
    apps = _region_apps(scope, programme, fold_moves(programme, org))
    unsent = dict(
        apps.filter(state__in=EDITABLE_STATES)
        .values("category")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("category", "n")
    )
    waiting = waiting_by_stage(apps)
    publicity = announcement_ends(programme)
    items = []
    open_ended = []  # (what, pending): a joint review without a deadline stays open until done
    for category in programme.parsed.categories:
        closes = programme.category_closes_at(category.code)
        what = _("%(category)s：申报截止") % {"category": category.name}
        items.append((closes, what, unsent.get(category.code, 0)))
        in_chain = {s.key for s in category.levels}
        for stage in category.pipeline:
            when = programme.level_deadline(category.code, stage.key)
            if stage.kind == "announcement":
                # The 公示 published ends when its objection period does, whatever the file says.
                when = publicity.get(category.code, when)
            if when is None and stage.kind != "joint_review":
                continue
            what = f"{category.name}：{stage.name}"
            if stage.kind == "expert_scoring" and stage.key not in in_chain:
                # The panel after the reviews scores the bids awaiting approval.
                pending = short_of_scores(apps, category.code, max(stage.min_scores, 1))
            else:
                pending = _at_stage(waiting, category, stage)
            rows = [(what, pending)]
            if stage.kind == "joint_review":
                # The stage waits until its rule holds; each org's own share of the work.
                for name, n in joint_waiting(apps, programme, category.code, stage):
                    mine = _("%(stage)s：%(org)s待发表意见") % {"stage": what, "org": name}
                    rows.append((mine, n))
            if when is None:
                open_ended += rows
            else:
                items += [(when, w, n) for w, n in rows]
    items += pilot_report_deadlines(scope, org, programme, now)
    upcoming = sorted((i for i in items if i[0] is not None and i[0] >= now), key=lambda i: i[0])
    for when, what, pending in upcoming[:MAX_DEADLINES]:
        days = (timezone.localtime(when).date() - timezone.localtime(now).date()).days
        table.add([what, when, days, pending])
    for what, pending in open_ended:
        table.add([what, _("无截止日期（进行中）"), None, pending])
    return table


def _at_stage(waiting: dict, category, stage) -> int | None:
    """Applications of ``category`` waiting at ``stage`` (None: the 公示, not a queue)."""
    if stage.kind == "announcement":
        return None
    return waiting.get((category.code, APPROVAL if stage.kind == "approval" else stage.key), 0)


def _reporting(scope: Scope, org: Org, children: list[Org], programme: Programme, params, now):
    data = completeness(scope, {"programme": programme.pk, "stage": params.get("stage")}, now=now)
    if data.programme is None or data.programme.pk != programme.pk:
        return None
    table = Table(
        "reporting",
        _("试点上报"),
        _("%(title)s：%(stage)s上报情况（截至今日已到期的各期）")
        % {"title": programme.title, "stage": data.stage.name},
        [
            Column(_("单位"), 30),
            Column(_("试点数"), 10, "int"),
            Column(_("应报"), 10, "int"),
            Column(_("按时"), 10, "int"),
            Column(_("逾期补报"), 10, "int"),
            Column(_("未报"), 10, "int"),
            Column(_("上报率"), 10, "percent"),
        ],
        chart=Chart(series=[3, 4, 5], stack=True),
        empty=_("本辖区尚无试点。"),
        note=_("上报率 =（按时 + 逾期补报）÷ 应报；未到期的各期不计。"),
    )
    by_child: dict[int, list[int]] = {}
    bucket = _Buckets(org, children)
    for r in data.rows:
        path = r["pilot"].unit_path
        if not path.startswith(org.path):
            continue
        acc = by_child.setdefault(bucket(path), [0, 0, 0, 0])
        acc[0] += 1
        acc[1] += r["cells"].count("on_time")
        acc[2] += r["cells"].count("late")
        acc[3] += r["cells"].count("missing")
    sums = [0, 0, 0, 0, 0]
    for label, link, pk in _label_rows(org, children, by_child):
        pilots, on_time, late, missing = by_child.get(pk, [0, 0, 0, 0])
        expected = on_time + late + missing
        row = [pilots, expected, on_time, late, missing]
        table.add([label, *row, ratio(on_time + late, expected)], link)
        sums = [a + b for a, b in zip(sums, row, strict=True)]
    table.total = [_("合计"), *sums, ratio(sums[2] + sums[3], sums[1])]
    return table


def _certification(scope: Scope, org: Org, children: list[Org], batch) -> Table:
    table = Table(
        "certification",
        _("智慧校园认定"),
        _("%(batch)s：%(children)s认定覆盖与结果")
        % {"batch": batch.name, "children": _children_label(org)},
        [
            Column(_("单位"), 30),
            Column(_("应参评学校"), 12, "int"),
            Column(_("已纳入认定"), 12, "int"),
            Column(_("覆盖率"), 10, "percent"),
            Column(_("认定通过"), 10, "int"),
            Column(_("不予认定"), 10, "int"),
            Column(_("暂缓认定"), 10, "int"),
            Column(_("待认定"), 10, "int"),
        ],
        chart=Chart(series=[4, 5, 6, 7], stack=True),
        empty=_("本辖区不在该批次范围内。"),
        note=_("应参评学校：批次范围内、学段属于认定学段的学校；认定通过含按称号自动认定。"),
    )
    stages = Q()
    for s in batch.stage_list:
        stages |= Q(stages__contains=f",{s},")
    bucket = _Buckets(org, children)
    schools: dict[int, int] = {}
    for path, n in (
        scoped(Org.objects.filter(kind=OrgKind.SCHOOL, is_active=True), scope)
        .filter(subtree_q(org.path), subtree_q(batch.owner.path))
        .filter(stages)
        .annotate(near=_near_path(org))
        .values_list("near")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        child = bucket(path)
        schools[child] = schools.get(child, 0) + n
    entries: dict[int, list[int]] = {}
    for path, state, decision, n in (
        entries_for(scope, batch)
        .filter(subtree_q(org.path, "school__path"))
        .annotate(near=_near_path(org, "school__"))
        .values_list("near", "state", "decision")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        acc = entries.setdefault(bucket(path), [0, 0, 0, 0, 0])  # in, certified, not, …
        acc[0] += n
        if state == EntryState.EXEMPT or decision == Decision.CERTIFIED:
            acc[1] += n
        elif decision == Decision.NOT_CERTIFIED:
            acc[2] += n
        elif decision == Decision.DEFERRED:
            acc[3] += n
        else:
            acc[4] += n
    if not schools and not entries:
        return table
    sums = [0] * 6
    for label, link, pk in _label_rows(org, children, {**schools, **entries}):
        total = schools.get(pk, 0)
        inside, certified, refused, deferred, queued = entries.get(pk, [0, 0, 0, 0, 0])
        row = [total, inside, certified, refused, deferred, queued]
        table.add([label, total, inside, ratio(inside, total), *row[2:]], link)
        sums = [a + b for a, b in zip(sums, row, strict=True)]
    table.total = [_("合计"), sums[0], sums[1], ratio(sums[1], sums[0]), *sums[2:]]
    return table


# --- the page ---------------------------------------------------------------------------------


TABLE_KEYS = ("progress", "deadlines", "reporting", "certification")


def _with_applications(org: Org, programmes: list[Programme]) -> set[int]:
    """The programmes with applications in ``org``'s subtree (one query)."""
    return set(
        Application.objects.filter(
            subtree_q(org.path, "applicant_path"), programme__in=[p.pk for p in programmes]
        )
        .values_list("programme_id", flat=True)
        .distinct()
    )


def _chosen(items: list, wanted, preferred: set[int]):
    """The item asked for by pk; else the first that concerns the region; else the first."""
    pk = query_int(wanted)
    return (
        next((i for i in items if i.pk == pk), None)
        or next((i for i in items if i.pk in preferred), None)
        or (items[0] if items else None)
    )


def dashboard(
    scope: Scope, org: Org, params, *, now: dt.datetime | None = None, only: str | None = None
) -> Dashboard:
    """The dashboard of ``org`` (from :func:`dashboard_org`) for the programme and the
    certification batch chosen in ``params`` (``programme``, ``batch``: pks; by default the
    newest with applications in the region, the newest batch whose area overlaps it);
    ``only`` computes one table (an export)."""
    now = now or timezone.now()
    programmes = review_programmes(scope)
    programme = _chosen(programmes, params.get("programme"), _with_applications(org, programmes))
    batches = list(batches_for(scope).select_related("owner").order_by("-certification_date", "pk"))
    overlapping = {b.pk for b in batches if org.is_within(b.owner) or b.owner.is_within(org)}
    batch = _chosen(batches, params.get("batch"), overlapping)
    children = _children(org)
    page = Dashboard(
        org=org,
        children_label=_children_label(org),
        breadcrumbs=_breadcrumbs(scope, org),
        programmes=programmes,
        programme=programme,
        batches=batches,
        batch=batch,
    )
    wants = {only} if only else set(TABLE_KEYS)
    if programme is not None:
        if "progress" in wants:
            page.tables.append(_progress(scope, org, children, programme))
        if "deadlines" in wants:
            page.tables.append(_deadlines(scope, org, programme, now))
        if "reporting" in wants:
            reporting = _reporting(scope, org, children, programme, params, now)
            if reporting is not None:
                page.tables.append(reporting)
    if batch is not None and "certification" in wants:
        page.tables.append(_certification(scope, org, children, batch))
    return page
