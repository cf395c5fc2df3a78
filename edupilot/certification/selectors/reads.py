"""Reads for certification, always through the request's scope.

Entries (a school in a batch) are org-owned rows: they are filtered by the school with
:func:`edupilot.orgs.scoping.scoped`, so a district sees its own schools, a school only
itself, and an expert only the schools of the site visits it is on. A batch is visible to
the bureaus of its owner's area (and above), and to the schools and experts that take part.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from edupilot.orgs.models import PATH_SEP, Org, subtree_q
from edupilot.orgs.scoping import Scope, access, get_or_404, scoped

from ..models import (
    Batch,
    BatchState,
    Correction,
    DataSource,
    Decision,
    Entry,
    EntryState,
    Evidence,
    Filing,
    ImportRun,
    Indicator,
    SiteVisit,
    Standard,
)


def _ancestor_paths(path: str) -> list[str]:
    codes = [c for c in path.split(PATH_SEP) if c]
    return [PATH_SEP.join(codes[: i + 1]) + PATH_SEP for i in range(len(codes))]


def batches_for(scope: Scope) -> QuerySet[Batch]:
    qs = Batch.objects.select_related("owner", "standard")
    if not scope.is_authenticated:
        return qs.none()
    if scope.is_platform_admin:
        return qs
    if scope.is_reviewer:
        return qs.filter(
            Q(owner__path__in=_ancestor_paths(scope.org_path))
            | subtree_q(scope.org_path, "owner__path")
        )
    return qs.filter(
        pk__in=scoped(Entry.objects.all(), scope, org_field="school").values("batch_id")
    )


def access_batch(scope: Scope, pk) -> Batch:
    return get_or_404(batches_for(scope), pk=pk)


def entries_for(scope: Scope, batch: Batch) -> QuerySet[Entry]:
    return scoped(Entry.objects.filter(batch=batch), scope, org_field="school").select_related(
        "school", "certifier", "exempt_title"
    )


def entries_of_school(scope: Scope) -> QuerySet[Entry]:
    """A school's own entries across batches."""
    return (
        scoped(Entry.objects.all(), scope, org_field="school")
        .filter(school_id=scope.org_id)
        .select_related("batch", "certifier", "exempt_title")
        .order_by("-batch__certification_date")
    )


def access_entry(scope: Scope, pk) -> Entry:
    qs = Entry.objects.select_related(
        "batch", "batch__owner", "school", "certifier", "exempt_title"
    )
    return access(qs, scope, pk, org_field="school")


def _via_entry(scope: Scope, qs, pk, entry_id):
    """The row ``pk`` of ``qs`` when ``scope`` may see the school's entry ``entry_id(row)``,
    else 404."""
    row = get_or_404(qs, pk=pk)
    access_entry(scope, entry_id(row))
    return row


def access_visit(scope: Scope, pk) -> SiteVisit:
    return _via_entry(scope, SiteVisit.objects.select_related("entry"), pk, lambda v: v.entry_id)


def access_correction(scope: Scope, pk) -> Correction:
    return _via_entry(scope, Correction.objects.select_related("entry"), pk, lambda c: c.entry_id)


def access_evidence(scope: Scope, pk) -> Evidence:
    """A correction's or a finding's evidence file, through its school's entry, or 404."""
    return _via_entry(
        scope,
        Evidence.objects.select_related("file", "correction", "finding__visit"),
        pk,
        lambda ev: ev.correction.entry_id if ev.correction_id else ev.finding.visit.entry_id,
    )


def certifiers_of(scope: Scope, batch: Batch) -> QuerySet[Org]:
    """The certifying bureaus of the entries the scope sees in ``batch`` (the list's filter)."""
    return Org.objects.filter(pk__in=entries_for(scope, batch).values("certifier_id")).order_by(
        "path"
    )


def filter_entries(qs: QuerySet[Entry], params) -> QuerySet[Entry]:
    state = params.get("state") or ""
    if state in EntryState.values:
        qs = qs.filter(state=state)
    provisional = params.get("provisional") or ""
    if provisional:
        qs = qs.filter(provisional=provisional)
    decision = params.get("decision") or ""
    if decision in Decision.values:
        qs = qs.filter(decision=decision)
    certifier = params.get("certifier") or ""
    if certifier.isdigit():
        qs = qs.filter(certifier_id=int(certifier))
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(school__name__contains=q) | Q(school__code=q))
    return qs


def queue_for(scope: Scope, batch: Batch) -> QuerySet[Entry]:
    """The schools waiting for this org's conclusion (exempt ones are never in it)."""
    return entries_for(scope, batch).filter(certifier_id=scope.org_id, state=EntryState.QUEUED)


@dataclass
class DistrictRow:
    org: Org
    total: int = 0
    exempt: int = 0
    queued: int = 0
    certified: int = 0
    not_certified: int = 0
    deferred: int = 0
    filing: Filing | None = None
    is_owner: bool = False


def batch_overview(scope: Scope, batch: Batch) -> dict:
    """Counts for the batch page: by provisional result and decision, and per certifier."""
    qs = entries_for(scope, batch)
    states = Counter(
        dict(qs.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    )
    provisional = Counter(
        dict(
            qs.exclude(state=EntryState.EXEMPT)
            .values_list("provisional")
            .annotate(n=Count("pk"))
            .values_list("provisional", "n")
        )
    )
    rows: dict[int, DistrictRow] = {}
    for certifier_id, state, decision, n in (
        qs.values_list("certifier_id", "state", "decision").annotate(n=Count("pk")).order_by()
    ):
        row = rows.setdefault(certifier_id, DistrictRow(org=None))
        row.total += n
        if state == EntryState.EXEMPT:
            row.exempt += n
        elif state == EntryState.QUEUED:
            row.queued += n
        elif decision == Decision.CERTIFIED:
            row.certified += n
        elif decision == Decision.NOT_CERTIFIED:
            row.not_certified += n
        elif decision == Decision.DEFERRED:
            row.deferred += n
    orgs = {o.pk: o for o in Org.objects.filter(pk__in=rows)}
    filings = {
        f.org_id: f
        for f in Filing.objects.filter(batch=batch, org_id__in=rows, returned_at__isnull=True)
    }
    for pk, row in rows.items():
        row.org = orgs[pk]
        row.filing = filings.get(pk)
        row.is_owner = pk == batch.owner_id
    return {
        "states": states,
        "provisional": provisional,
        "total": sum(states.values()),
        "districts": sorted(rows.values(), key=lambda r: (not r.is_owner, r.org.path)),
    }


# --- other lists ---------------------------------------------------------------------------------


def sources_for(scope: Scope) -> QuerySet[DataSource]:
    """Sources of the acting org and of the bureaus above it (a district may use the city's)."""
    if not scope.is_authenticated or not scope.is_reviewer and not scope.is_platform_admin:
        return DataSource.objects.none()
    qs = DataSource.objects.select_related("owner")
    if scope.is_platform_admin:
        return qs
    return qs.filter(owner__path__in=_ancestor_paths(scope.org_path))


def access_source(scope: Scope, pk) -> DataSource:
    return get_or_404(sources_for(scope), pk=pk)


def imports_for(scope: Scope, batch: Batch) -> QuerySet[ImportRun]:
    """Imports made by the acting org or inside its area."""
    qs = ImportRun.objects.filter(batch=batch).select_related(
        "source", "imported_by", "importer_org"
    )
    if scope.is_platform_admin:
        return qs
    if not scope.is_reviewer:
        return qs.none()
    return qs.filter(subtree_q(scope.org_path, "importer_org__path"))


def access_import(scope: Scope, pk) -> ImportRun:
    run = get_or_404(ImportRun.objects.select_related("batch"), pk=pk)
    return get_or_404(imports_for(scope, access_batch(scope, run.batch_id)), pk=pk)


def title_lists(batch: Batch):
    return batch.exempt_titles.annotate(n=Count("entries")).order_by("code")


# Standards are a shared catalogue: a bureau publishes one (``issuer``), every bureau may
# certify by it; they hold no org's data, so they are read without a scope.


def standards() -> QuerySet[Standard]:
    return Standard.objects.select_related("extends", "issuer").annotate(n=Count("indicators"))


def access_standard(pk) -> Standard:
    """One standard of the catalogue, or 404."""
    return get_or_404(standards(), pk=pk)


def standard_chosen(pk) -> Standard | None:
    """The standard a form names by id (None: none or no such standard)."""
    try:
        return Standard.objects.filter(pk=pk).first()
    except (ValueError, TypeError):
        return None


def standard_by_code(code: str) -> Standard | None:
    return Standard.objects.filter(code=code).first()


def indicator_choices() -> list[tuple[str, str]]:
    """Every indicator code of the catalogue with its name and the first standard naming it
    (what a data source's column may be mapped to)."""
    seen = {}
    for ind in Indicator.objects.select_related("standard").order_by("standard__code", "order"):
        seen.setdefault(
            ind.code, f"{ind.code} {ind.name}（{ind.standard.short_title or ind.standard.title}）"
        )
    return sorted(seen.items())


def visits_for_user(scope: Scope) -> QuerySet[SiteVisit]:
    return (
        SiteVisit.objects.filter(team__id=scope.user_id)
        .select_related("entry", "entry__school", "entry__batch")
        .order_by("-assigned_at")
    )


# --- public -------------------------------------------------------------------------------------


def published_batches() -> QuerySet[Batch]:
    return Batch.objects.filter(state=BatchState.PUBLISHED).select_related("owner")


def public_batches_search(q: str = "") -> QuerySet[Batch]:
    """Published batches, newest first, whose name, owner or a certified school's name
    contains ``q`` (the schools :func:`public_list` shows)."""
    qs = published_batches().order_by("-published_at", "-pk")
    if not q:
        return qs
    certified = (
        Entry.objects.filter(school__name__icontains=q)
        .filter(Entry.certified_final_q())
        .values("batch_id")
    )
    return qs.filter(Q(name__icontains=q) | Q(owner__name__icontains=q) | Q(pk__in=certified))


def public_list(batch: Batch) -> list[dict]:
    """Certified schools of a published batch: school, district, stages, basis. No people."""
    if batch.state != BatchState.PUBLISHED:
        raise Http404
    qs = (
        Entry.objects.filter(Entry.certified_final_q(), batch=batch)
        .select_related("school", "certifier", "exempt_title")
        .order_by("certifier__path", "school__code")
    )
    out = []
    for e in qs:
        out.append(
            {
                "school": e.school.name,
                "code": e.school.code,
                "district": "市直属" if e.certifier_id == batch.owner_id else e.certifier.name,
                "stages": e.get_stages_display(),
                "basis": f"自动认定（{e.exempt_title.title}）" if e.exempt_title else "认定",
                "grade": e.grade_name,
            }
        )
    return out
