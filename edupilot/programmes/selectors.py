"""Scoped reads for programmes, quotas and participant lists.

A programme admin sees the programmes its org (or its subtree) issued and those whose quotas
its subtree holds; a platform admin sees all. Quota rows and list entries outside the
scope's subtree are shown only to those who manage the programme.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.core.prepared import prepared
from edupilot.orgs.models import TREE_FIELDS, Org, Tier, lineage_paths, path_range_q, subtree_range
from edupilot.orgs.scoping import Scope, access, get_or_404, scoped

from . import schema
from .models import ParticipantEntry, ParticipantList, Programme, QuotaAllocation
from .permissions import can_manage_programme
from .quotas import QuotaReport, QuotaRow, compute_category


def programmes_concerning(who: Scope | Org, *, lineage_only: bool = False) -> QuerySet[Programme]:
    """The programmes that concern ``who``: the one rule, one query, no Python filtering.

    - issued by its org or an org above it (the notices open to it);
    - for reviewers and programme admins, also issued by an org inside their subtree;
    - a platform admin: every programme; anonymous: none.

    An ``Org`` stands for that org itself applying (the lineage only); ``lineage_only``
    restricts a scope the same way (who may ask an issuer above it). Callers narrow further
    (active, kind, open now).
    """
    if isinstance(who, Org):
        return Programme.objects.filter(issued_q(lineage_paths(who.path)))
    if not who.is_authenticated or not who.org_path:
        return Programme.objects.none()
    if who.is_platform_admin:
        return Programme.objects.all()
    return Programme.objects.filter(issued_q(*concerning_paths(who, lineage_only=lineage_only)))


def concerning_paths(
    scope: Scope, *, lineage_only: bool = False
) -> tuple[list[str], tuple[str, str] | None]:
    """What ``programmes_concerning`` reads of a scope with an org, not a platform admin: the
    paths of its org's lineage, and (a reviewer's) its subtree's range of paths, else None."""
    subtree = None
    if scope.is_reviewer and not lineage_only:
        subtree = subtree_range(scope.org_path)
    return lineage_paths(scope.org_path), subtree


def issued_q(lineage, subtree: tuple[str, str] | None = None) -> Q:
    """Issued by the org at one of the ``lineage`` paths, or inside ``subtree`` ([lo, hi))."""
    q = Q(issuer__path__in=lineage)
    if subtree is not None:
        q |= path_range_q(*subtree, "issuer__path")
    return q


def programmes_for(scope: Scope) -> QuerySet[Programme]:
    """Every programme ``scope`` may see; the one entry point from a request to programmes."""
    if not scope.is_authenticated:
        return Programme.objects.none()
    if scope.is_platform_admin:
        return Programme.objects.all()
    issued = scoped(Programme.objects.all(), scope, org_field="issuer").values("pk")
    held = scoped(QuotaAllocation.objects.all(), scope, org_field="holder").values("programme_id")
    return Programme.objects.filter(Q(pk__in=issued) | Q(pk__in=held))


def access_programme(scope: Scope, code: str) -> Programme:
    """One programme (by code) through the scope, or 404 so that its existence does not leak."""
    return get_or_404(programmes_for(scope).select_related("issuer"), code=code)


@functools.cache
def _covering_fields() -> tuple[str, ...]:
    """The programme without its file and its JSON (the parsed spec is kept per process by
    the file's hash), its issuer as the tree knows it (``TREE_FIELDS``: the applicant's
    eligibility, the API's programme and quotas read no more; another field still loads
    when read)."""
    own = [f.name for f in Programme._meta.concrete_fields if f.name not in ("spec", "source_text")]
    return (*own, *(f"issuer__{f}" for f in TREE_FIELDS))


@prepared
def _active_calls_issued_at(*paths: str) -> QuerySet[Programme]:
    """The active calls issued by the orgs at ``paths``. One path per argument, not a list:
    an org's lineage has a fixed length at each depth, so the query has one compiled form
    per depth (core.prepared), the paths as its values."""
    return (
        Programme.objects.filter(issued_q(paths), is_active=True, kind="call")
        .select_related("issuer")
        .only(*_covering_fields())
    )


def open_programmes_covering(org: Org, now: dt.datetime | None = None) -> list[Programme]:
    """The open calls ``org`` may answer: those issued at or above it
    (:func:`programmes_concerning` of the org, by its lineage's paths)."""
    now = now or timezone.now()
    paths = lineage_paths(org.path)
    if not paths:
        return []
    return [p for p in _active_calls_issued_at(*paths) if p.is_open(now)]


# --- quotas --------------------------------------------------------------------------------


@dataclass
class QuotaLine:
    """One quota row as the policy derives it today, with what the database holds for it."""

    row: QuotaRow
    allocation: QuotaAllocation | None = None

    @property
    def override(self) -> int | None:
        return self.allocation.override if self.allocation else None

    @property
    def effective(self) -> int:
        if self.allocation is not None and self.allocation.override is not None:
            return self.allocation.override
        return self.row.effective

    @property
    def unlimited(self) -> bool:
        return self.row.unlimited and self.override is None

    @property
    def stored_effective(self) -> int | None:
        return self.allocation.effective if self.allocation else None

    @property
    def stale(self) -> bool:
        """The org tree changed since the quotas were last synced."""
        return self.allocation is not None and self.allocation.effective != self.effective


@dataclass
class QuotaSection:
    report: QuotaReport
    lines: list[QuotaLine] = field(default_factory=list)

    @property
    def level_label(self) -> str:
        return str(dict(Tier.choices).get(self.report.level, self.report.level))

    @property
    def total(self) -> int:
        return sum(line.effective for line in self.lines)

    @property
    def overridden(self) -> list[QuotaLine]:
        return [line for line in self.lines if line.override is not None]

    @property
    def total_matches(self) -> bool | None:
        if self.report.declared_total is None:
            return None
        return self.total == self.report.declared_total


@dataclass
class CategoryQuotas:
    category: schema.Category
    sections: list[QuotaSection] = field(default_factory=list)


def quota_overview(programme: Programme, category_code: str | None = None) -> list[CategoryQuotas]:
    """Each category's quotas: derived from today's org tree, joined to stored overrides."""
    allocations = {
        (a.category, a.level, a.holder_id, a.direct): a
        for a in QuotaAllocation.objects.filter(programme=programme).select_related("overridden_by")
    }
    out = []
    for category in programme.parsed.categories:
        if category_code and category.code != category_code:
            continue
        cq = CategoryQuotas(category)
        for report in compute_category(category, programme.issuer):
            section = QuotaSection(report)
            for row in report.rows:
                key = (row.category, row.level, row.holder.pk, row.direct)
                section.lines.append(QuotaLine(row, allocations.get(key)))
            cq.sections.append(section)
        out.append(cq)
    return out


def quota_overview_for(
    scope: Scope, programme: Programme, category_code: str | None = None
) -> list[CategoryQuotas]:
    """The overview, with only the rows of the scope's subtree unless it manages the programme."""
    overview = quota_overview(programme, category_code)
    if can_manage_programme(scope, programme)[0]:
        return overview
    for cq in overview:
        for section in cq.sections:
            section.lines = [ln for ln in section.lines if scope.contains_org(ln.row.holder)]
    return overview


def access_allocation(scope: Scope, programme: Programme, pk) -> QuotaAllocation:
    return access(
        QuotaAllocation.objects.filter(programme=programme).select_related("holder"),
        scope,
        pk,
        org_field="holder",
    )


# --- participant lists ------------------------------------------------------------------------


def list_codes_of(programmes) -> set[str]:
    return {ref.code for p in programmes for ref in p.parsed.lists}


def lists_for(scope: Scope) -> QuerySet[ParticipantList]:
    """Lists that the programmes visible to ``scope`` refer to."""
    if scope.is_platform_admin:
        return ParticipantList.objects.all().order_by("code")
    codes = list_codes_of(programmes_for(scope).select_related("issuer"))
    return ParticipantList.objects.filter(code__in=codes).order_by("code")


def access_list(scope: Scope, code: str) -> ParticipantList:
    try:
        return lists_for(scope).get(code=code)
    except ParticipantList.DoesNotExist as exc:
        raise Http404 from exc


def programmes_using_list(plist: ParticipantList) -> list[Programme]:
    return [
        p
        for p in Programme.objects.select_related("issuer")
        if plist.code in {ref.code for ref in p.parsed.lists}
    ]


def can_manage_list(scope: Scope, plist: ParticipantList) -> tuple[bool, str]:
    if scope.is_platform_admin:
        return True, ""
    if any(can_manage_programme(scope, p)[0] for p in programmes_using_list(plist)):
        return True, ""
    return False, _("只有使用该名单的项目的发文单位项目管理员可以导入名单。")


def list_entries_for(scope: Scope, plist: ParticipantList) -> QuerySet[ParticipantEntry]:
    qs = plist.entries.select_related("org").order_by("org__path")
    if can_manage_list(scope, plist)[0]:
        return qs
    return scoped(qs, scope, org_field="org")


def list_issuers(plist: ParticipantList) -> list[Org]:
    return [p.issuer for p in programmes_using_list(plist)]


def scoped_entry_counts(scope: Scope, list_pks: list[int]) -> dict[int, int]:
    """How many entries of each list the scope may see (one count per list)."""
    managed = list_codes_of(
        p for p in Programme.objects.select_related("issuer") if can_manage_programme(scope, p)[0]
    )
    out = {}
    for plist in ParticipantList.objects.filter(pk__in=list_pks):
        qs = plist.entries.all()
        if not (scope.is_platform_admin or plist.code in managed):
            qs = scoped(qs, scope, org_field="org")
        out[plist.pk] = qs.count()
    return out
