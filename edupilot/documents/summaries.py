"""Summary tables (汇总表): what a reviewing org passes upward, laid out as the notice's table.

A programme file declares its tables (``[[summary_tables]]``: title, the review level whose
org fills and stamps it, header lines, columns with optional groups). One table is rendered
per reviewing org: the applications that org recommends at the table's level, in its
recommendation rank (category by category, in the table's order), plus the org's own bids
in the table's categories that do not pass through that level (Hengyang's county bureaus
list their own bid on the table they send to the city).

An org above the level (a province, for a city table) gets one org's table on request, or
all of its subtree's tables in one sheet with a leading 推荐单位 column. Everything is read
through the scope: a county cannot get another county's table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import islice

from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from edupilot.applications.models import Application, ApplicationVersion, AppState
from edupilot.applications.presenters import display_value
from edupilot.orgs.models import ADMIN_KINDS, Org, Role, subtree_q
from edupilot.orgs.scoping import Scope, access, scoped
from edupilot.programmes import schema
from edupilot.programmes.models import Programme
from edupilot.programmes.selectors import programmes_concerning
from edupilot.review.models import ReviewAction, ReviewDecision

from .xlsx import Column, XlsxExport

TIER_ORDER = {"county": 0, "city": 1, "province": 2}
# Tables up to this many rows are answered directly; larger ones run as a background job.
DIRECT_MAX_ROWS = 300
CHUNK = 1000
DOCUMENT_ROLES = (Role.REVIEWER, Role.PROGRAMME_ADMIN, Role.PLATFORM_ADMIN)


def can_use_documents(scope: Scope) -> bool:
    return scope.is_authenticated and scope.role in DOCUMENT_ROLES


def document_programmes(scope: Scope) -> list[Programme]:
    """Active calls whose issuer's subtree holds the scope's org, or inside the scope."""
    if not can_use_documents(scope) or scope.org_path is None:
        return []
    return list(
        programmes_concerning(scope)
        .filter(is_active=True, kind="call")
        .select_related("issuer")
        .order_by("-updated_at", "pk")
    )


def access_document_programme(scope: Scope, code: str) -> Programme:
    for p in document_programmes(scope):
        if p.code == code:
            return p
    raise Http404


# --- the table's definition ----------------------------------------------------------------


@dataclass(frozen=True)
class SummarySpec:
    programme: Programme
    table: schema.SummaryTable
    categories: tuple[schema.Category, ...]
    level: schema.ReviewLevel

    @property
    def tier(self) -> str:
        return self.level.tier

    @property
    def category_codes(self) -> list[str]:
        return [c.code for c in self.categories]


def summary_specs(programme: Programme) -> list[SummarySpec]:
    spec = programme.parsed
    out = []
    for table in spec.summary_tables:
        cats = tuple(
            c for c in spec.categories if not table.categories or c.code in table.categories
        )
        if table.categories:
            order = {code: i for i, code in enumerate(table.categories)}
            cats = tuple(sorted(cats, key=lambda c: order[c.code]))
        level = next((lvl for c in cats for lvl in c.levels if lvl.key == table.by), None)
        if level is not None:
            out.append(SummarySpec(programme, table, cats, level))
    return out


def access_summary_spec(programme: Programme, key: str) -> SummarySpec:
    for s in summary_specs(programme):
        if s.table.key == key:
            return s
    raise Http404


# --- whose table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryTarget:
    """One reviewing org's table, or (``combined``) all tables of the org's subtree."""

    org: Org
    combined: bool = False

    @property
    def param(self) -> str:
        return "all" if self.combined else str(self.org.pk)


def summary_target(scope: Scope, org_param: str | None) -> SummaryTarget:
    """The org a request asks for, through the scope (404 outside it)."""
    if not can_use_documents(scope) or scope.org_id is None:
        raise Http404
    if org_param in (None, "", "all"):
        org = scope.org
        return SummaryTarget(org, combined=org_param == "all")
    return SummaryTarget(access(Org.objects.all(), scope, org_param))


def level_decisions(scope: Scope, spec: SummarySpec) -> QuerySet:
    """The counting recommendations at the table's level made by orgs inside the scope."""
    qs = ReviewDecision.objects.filter(
        programme=spec.programme,
        level=spec.table.by,
        category__in=spec.category_codes,
        active=True,
        action=ReviewAction.RECOMMEND,
    )
    return scoped(qs, scope, org_field="org")


def summary_decisions(scope: Scope, spec: SummarySpec, target: SummaryTarget) -> QuerySet:
    """The recommendations that make the table's rows."""
    qs = level_decisions(scope, spec)
    if target.combined:
        return qs.filter(subtree_q(target.org.path, "org__path"))
    return qs.filter(org=target.org)


def own_bids(scope: Scope, spec: SummarySpec, target: SummaryTarget) -> list[Application]:
    """Bids of the reviewing org(s) themselves that skip the table's level (few rows)."""
    qs = scoped(
        Application.objects.filter(
            programme=spec.programme,
            category__in=spec.category_codes,
            applicant_org__tier=spec.tier,
            applicant_org__kind__in=list(ADMIN_KINDS),
        ).exclude(state__in=[AppState.DRAFT, AppState.WITHDRAWN]),
        scope,
        org_field="applicant_org",
    )
    if target.combined:
        qs = qs.filter(subtree_q(target.org.path, "applicant_path"))
    else:
        qs = qs.filter(applicant_org=target.org)
    apps = list(
        qs.select_related("applicant_org", "applicant_org__parent").order_by(
            "applicant_org__path", "pk"
        )
    )
    return [a for a in apps if all(step["level"] != spec.table.by for step in a.chain or [])]


@dataclass
class ReviewingOrg:
    org_id: int
    name: str
    rows: int


def reviewing_orgs(scope: Scope, spec: SummarySpec) -> list[ReviewingOrg]:
    """The orgs of the scope's subtree that have rows on this table, with their counts."""
    if scope.org_path is None:
        return []
    rows = (
        level_decisions(scope, spec)
        .filter(subtree_q(scope.org_path, "org__path"))
        .values("org_id", "org__name", "org__path")
        .annotate(n=Count("pk"))
        .order_by("org__path")
    )
    return [ReviewingOrg(r["org_id"], r["org__name"], r["n"]) for r in rows]


# --- cells -----------------------------------------------------------------------------------


@dataclass
class _CategoryInfo:
    name: str
    fields: dict[str, object]
    topics: dict[str, str]
    topic_list: list[schema.Topic] = field(default_factory=list)


def _category_infos(spec: SummarySpec) -> dict[str, _CategoryInfo]:
    parsed = spec.programme.parsed
    out = {}
    for c in spec.categories:
        form = parsed.form_for(c)
        topics = [t for t in parsed.topics if t.code in c.topics]
        out[c.code] = _CategoryInfo(
            name=c.name,
            fields={f.key: f for f in form.all_fields()},
            topics={t.code: t.name for t in parsed.topics},
            topic_list=topics,
        )
    return out


def _column_kind(source: str, infos: dict[str, _CategoryInfo]) -> tuple[str, float, bool]:
    """(kind, width, wrap) of a column from what its source holds in every category."""
    if source in ("seq", "rank", "members.count"):
        return "int", 8, False
    if source == "blank":
        return "text", 14, False
    if source in ("org.name", "org.address"):
        return "text", 30, True
    if source in ("org.code", "org.postcode", "org.region", "category", "topic"):
        return "text", 16, True
    if source == "title":
        return "text", 30, True
    specs = [i.fields[source] for i in infos.values() if source in i.fields]
    if specs and all(f.type == "number" for f in specs):
        return ("int" if all(f.decimals == 0 for f in specs) else "number"), 12, False
    if any(f.type == "longtext" for f in specs):
        return "text", 50, True
    if any(f.type == "email" for f in specs):
        return "text", 24, False
    if any(f.type == "phone" for f in specs):
        return "text", 15, False
    if any(f.type == "text" and f.max_length > 60 for f in specs):
        return "text", 30, True
    return "text", 14, True


def _number(value):
    if isinstance(value, bool) or value in (None, ""):
        return None
    if isinstance(value, int | float | Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)


def header_line(labels: Iterable[str], *, org: Org, filler: str) -> str:
    """The line above the table: the stamping unit, the person filling it, a phone."""
    parts = []
    for label in labels:
        if "盖章" in label or "单位" in label:
            value = org.name
        elif "填表人" in label:
            value = filler
        elif "电话" in label:
            value = org.contact_phone
        else:
            value = ""
        parts.append(f"{label}：{value}")
    return "\u3000\u3000".join(parts)


def _chunks(iterable: Iterable, n: int) -> Iterator[list]:
    it = iter(iterable)
    while batch := list(islice(it, n)):
        yield batch


class SummaryExport(XlsxExport):
    """One summary table as XLSX: the notice's title, header line, grouped header, rows."""

    def __init__(
        self,
        *,
        scope: Scope,
        spec: SummarySpec,
        target: SummaryTarget,
        filler: str = "",
        now: dt.datetime | None = None,
    ):
        self.scope, self.spec, self.target = scope, spec, target
        self.now = now or timezone.now()
        self.infos = _category_infos(spec)
        table = spec.table
        self.title = table.title
        self.heading = table.title
        self.preamble = [header_line(table.header, org=target.org, filler=filler)] + (
            [f"汇总范围：{target.org.name}辖区内各推荐单位"] if target.combined else []
        )
        columns = [Column("推荐单位", 20, wrap=True)] if target.combined else []
        self.sources = []
        for col in table.columns:
            kind, width, wrap = _column_kind(col.source, self.infos)
            width = max(width, min(len(col.label) * 2 + 2, 30))
            columns.append(Column(col.label, width, kind, wrap=wrap, group=col.group))
            self.sources.append(col.source)
        self.columns = columns
        self._own: list[Application] | None = None

    def sheet_name(self) -> str:
        return "汇总表"

    def filename(self) -> str:
        suffix = f"{self.target.org.name}辖区汇总" if self.target.combined else self.target.org.name
        return f"{self.spec.table.title}（{suffix}）.xlsx"

    def decisions(self) -> QuerySet:
        order = Case(
            *[
                When(category=code, then=Value(i))
                for i, code in enumerate(self.spec.category_codes)
            ],
            output_field=IntegerField(),
        )
        return (
            summary_decisions(self.scope, self.spec, self.target)
            .annotate(category_order=order)
            .order_by("org__path", "category_order", "rank", "pk")
        )

    def own(self) -> list[Application]:
        if self._own is None:
            self._own = own_bids(self.scope, self.spec, self.target)
        return self._own

    def total(self) -> int:
        return self.decisions().count() + len(self.own())

    def rows(self) -> Iterator[list]:
        seq = 0
        values = self.decisions().values(
            "application_id",
            "version",
            "rank",
            "category",
            "org__name",
            "application__title",
            "application__applicant_org__name",
            "application__applicant_org__code",
            "application__applicant_org__address",
            "application__applicant_org__postcode",
            "application__applicant_org__parent__name",
        )
        for batch in _chunks(values.iterator(chunk_size=CHUNK), CHUNK):
            versions = {
                (v["application_id"], v["number"]): v
                for v in ApplicationVersion.objects.filter(
                    application_id__in={d["application_id"] for d in batch}
                ).values("application_id", "number", "data", "topic", "title", "members")
            }
            for d in batch:
                seq += 1
                version = versions.get((d["application_id"], d["version"])) or {}
                yield self._row(
                    seq=seq,
                    rank=d["rank"],
                    category=d["category"],
                    reviewer=d["org__name"],
                    version=version,
                    title=version.get("title") or d["application__title"],
                    org={
                        "org.name": d["application__applicant_org__name"],
                        "org.code": d["application__applicant_org__code"],
                        "org.address": d["application__applicant_org__address"],
                        "org.postcode": d["application__applicant_org__postcode"],
                        "org.region": d["application__applicant_org__parent__name"] or "",
                    },
                )
        own = self.own()
        if own:
            latest = {
                v["application_id"]: v
                for v in ApplicationVersion.objects.filter(application__in=own)
                .order_by("application_id", "number")
                .values("application_id", "number", "data", "topic", "title", "members")
            }
            for app in own:
                seq += 1
                o = app.applicant_org
                version = latest.get(app.pk) or {}
                yield self._row(
                    seq=seq,
                    rank=None,
                    category=app.category,
                    reviewer=o.name,
                    version=version,
                    title=version.get("title") or app.title,
                    org={
                        "org.name": o.name,
                        "org.code": o.code,
                        "org.address": o.address,
                        "org.postcode": o.postcode,
                        "org.region": o.parent.name if o.parent_id else "",
                    },
                )

    def _row(self, *, seq, rank, category, reviewer, version, title, org) -> list:
        info = self.infos.get(category)
        data = version.get("data") or {}
        out = [reviewer] if self.target.combined else []
        for source in self.sources:
            out.append(self._cell(source, info, data, version, seq, rank, category, title, org))
        return out

    def _cell(self, source, info, data, version, seq, rank, category, title, org):
        if source == "seq":
            return seq
        if source == "rank":
            return rank
        if source == "blank":
            return None
        if source in org:
            return org[source]
        if source == "category":
            return info.name if info else category
        if source == "topic":
            topic = version.get("topic") or data.get("topic") or ""
            return info.topics.get(topic, topic) if info else topic
        if source == "title":
            return title
        if source == "members.count":
            return len(version.get("members") or [])
        if info is None:
            return None
        spec = info.fields.get(source)
        if spec is None:
            return None
        value = data.get(source)
        if spec.type == "topic" and not value:
            value = version.get("topic")
        if spec.type == "number":
            return _number(value)
        if spec.type in ("attachment", "members", "group"):
            return None
        return display_value(spec, value, info.topic_list) or None
