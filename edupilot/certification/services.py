"""Writes for certification: one function per state transition.

Each checks permission (permissions.py) and state, changes rows inside one transaction and
writes the audit event there. Refusals raise :class:`Refused` with a Chinese message that
the page shows as is; nothing is changed.

The bulk paths (import, assessment) work in chunks with one UPDATE statement per chunk,
so that 50,000 schools × 80 indicators stays a matter of seconds.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from edupilot.audit.services import Actor, audit_record
from edupilot.core.errors import Refused as BaseRefused
from edupilot.core.notifications import notify
from edupilot.orgs.models import Membership, Org, OrgKind, Role, subtree_q
from edupilot.orgs.scoping import Scope, scoped
from edupilot.programmes.models import ParticipantEntry, ParticipantList
from edupilot.programmes.quotas import QuotaResolveError, resolve_org
from edupilot.programmes.services import ImportReport as ListImportReport
from edupilot.programmes.services import participants_import
from edupilot.programmes.tables import TableInvalid, read_list_rows

from . import engine, files, importers, permissions
from .models import (
    Batch,
    BatchStandard,
    BatchState,
    Correction,
    CorrectionState,
    DataSource,
    Decision,
    Entry,
    EntryState,
    Evidence,
    Filing,
    Finding,
    ImportIssue,
    ImportRun,
    ImportState,
    Indicator,
    Provisional,
    SiteVisit,
    Standard,
    StandardRole,
    Verdict,
    VisitState,
)
from .standards import (
    DimensionSpec,
    ParsedStandard,
    ResolvedIndicator,
    ResolvedStandard,
    StandardFileInvalid,
    StandardSpec,
    resolve,
)

CHUNK = 2000


@contextmanager
def bulk_objects():
    """Pause the cyclic garbage collector while millions of small values are built.

    Imports and assessments create a few objects per value and free them together; with
    the collector on, its full passes over the growing heap cost more than the work itself.
    Nothing built here is cyclic, so reference counting frees it all.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


Progress = Callable[..., None] | None


class Refused(BaseRefused):
    """An action that is not allowed now; the message (Chinese) says why."""


def _check(result: tuple[bool, str]) -> None:
    ok, reason = result
    if not ok:
        raise Refused(reason)


def _is_system(actor: Actor) -> bool:
    # Commands and background steps act as the system; every page passes a user.
    return actor.user is None


def today() -> dt.date:
    return timezone.localdate()


# --- standards ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StandardOutcome:
    standard: Standard
    action: str  # created, updated, unchanged


class _NoIndex:
    def __init__(self, name: str):
        self.name = name

    def line_for(self, loc):
        return None

    def file_for(self, loc):
        return self.name


def resolved_from_db(standard: Standard) -> ResolvedStandard:
    spec = StandardSpec.model_validate(standard.spec)
    dims = [DimensionSpec(**d) for d in standard.dimensions]
    fields = ResolvedIndicator.__dataclass_fields__
    inds = [
        ResolvedIndicator(**{f: getattr(i, f) for f in fields})
        for i in standard.indicators.order_by("order")
    ]
    return ResolvedStandard(spec, dims, inds, standard.extends.code if standard.extends else None)


def _standards_in_use(standard: Standard) -> list[Batch]:
    """Batches past data collection that assess against this standard (or one derived from it)."""
    codes = {standard.pk}
    frontier = [standard]
    while frontier:
        nxt = list(Standard.objects.filter(extends__in=frontier))
        frontier = [s for s in nxt if s.pk not in codes]
        codes.update(s.pk for s in frontier)
    batches = Batch.objects.exclude(state=BatchState.OPEN)
    used = set(batches.filter(standard__in=codes).values_list("pk", flat=True))
    used |= set(batches.filter(additional_standards__in=codes).values_list("pk", flat=True))
    used |= set(
        BatchStandard.objects.filter(standard__in=codes, batch__in=batches).values_list(
            "batch_id", flat=True
        )
    )
    return list(Batch.objects.filter(pk__in=used))


def _write_standard(
    standard: Standard, resolved: ResolvedStandard, parsed: ParsedStandard, issuer, base
) -> None:
    spec = resolved.spec
    standard.title = spec.title
    standard.short_title = spec.short_title
    standard.issuer = issuer
    standard.issuer_name = spec.issuer_name or (issuer.name if issuer else "")
    standard.doc_no = spec.doc_no
    standard.role = spec.role
    standard.applies_to = f",{','.join(spec.applies_to)}," if spec.applies_to else ""
    standard.extends = base
    standard.rule = spec.rule.model_dump(mode="json")
    standard.dimensions = [d.model_dump() for d in resolved.dimensions]
    standard.verification = spec.verification
    standard.note = spec.note
    standard.source = spec.source
    standard.source_name = parsed.name.rsplit("/", 1)[-1][:255]
    standard.source_sha256 = parsed.sha256
    standard.source_text = parsed.text
    standard.spec = spec.model_dump(mode="json")
    standard.save()
    standard.indicators.all().delete()
    Indicator.objects.bulk_create(
        [Indicator(standard=standard, **i.to_row()) for i in resolved.indicators]
    )


@transaction.atomic
def standard_load(*, parsed: ParsedStandard, actor: Actor) -> StandardOutcome:
    """Create or update a standard from its parsed file. Idempotent.

    Raises StandardFileInvalid (naming file, line, field) for a bad or weaker file, and
    Refused when the standard is in use by a batch whose data is frozen.
    """
    spec = parsed.spec
    base_obj = None
    base = None
    if spec.extends:
        base_obj = Standard.objects.filter(code=spec.extends).first()
        if base_obj is None:
            raise StandardFileInvalid(
                [parsed.error(("extends",), f"所依据的标准 {spec.extends} 尚未载入，请先载入它")]
            )
        if spec.code in {s.code for s in base_obj.chain()}:
            raise StandardFileInvalid(
                [parsed.error(("extends",), f"标准 {spec.code} 与 {spec.extends} 互相依据（循环）")]
            )
        base = resolved_from_db(base_obj)
    resolved = resolve(parsed, base)
    issuer = None
    if spec.issuer:
        try:
            issuer = resolve_org(spec.issuer, None, ("issuer",))
        except QuotaResolveError as exc:
            raise StandardFileInvalid([parsed.error(exc.loc, str(exc))]) from exc

    existing = Standard.objects.select_for_update().filter(code=spec.code).first()
    if existing is not None and existing.source_sha256 == parsed.sha256:
        return StandardOutcome(existing, "unchanged")
    if existing is not None:
        frozen = _standards_in_use(existing)
        if frozen:
            raise Refused(
                f"标准 {spec.code} 已用于数据已冻结的批次（{'、'.join(b.name for b in frozen)}），不能修改；"
                "请以新的代码载入新版本"
            )
        # Every standard derived from this one must still be at least as strict as it.
        children = []
        for child in existing.derived.all():
            child_parsed = ParsedStandard(
                child.source_name,
                child.source_sha256,
                child.source_text,
                StandardSpec.model_validate(child.spec),
                _NoIndex(child.source_name),
            )
            try:
                children.append((child, resolve(child_parsed, resolved), child_parsed))
            except StandardFileInvalid as exc:
                raise StandardFileInvalid(
                    [
                        parsed.error((), f"修改后，派生标准 {child.code} 将低于本标准：{e.message}")
                        for e in exc.errors
                    ]
                ) from exc
    before = (
        {"sha256": existing.source_sha256, "indicators": existing.indicators.count()}
        if existing
        else None
    )
    standard = existing or Standard(code=spec.code)
    _write_standard(standard, resolved, parsed, issuer, base_obj)
    if existing is not None:
        for child, child_resolved, child_parsed in children:
            child_issuer = child.issuer
            _write_standard(child, child_resolved, child_parsed, child_issuer, standard)
    audit_record(
        actor=actor,
        action="certification.standard_load",
        obj=standard,
        before=before,
        after={
            "sha256": parsed.sha256,
            "file": standard.source_name,
            "indicators": len(resolved.indicators),
            "extends": spec.extends,
        },
    )
    return StandardOutcome(standard, "updated" if existing else "created")


# --- exempting titles ------------------------------------------------------------------------


def titles_import(
    *, plist: ParticipantList, content: bytes, filename: str, replace: bool, actor: Actor
) -> ListImportReport:
    """Import the holders of an exempting title (a participant list) from XLSX/CSV.

    The list format and its all-or-nothing import are the programmes app's; afterwards the
    open batches that exempt this title are brought up to date.
    """
    batches = list(Batch.objects.filter(exempt_titles=plist).select_related("owner"))
    if not _is_system(actor) and not any(
        permissions.acts_for(actor, b.owner, (Role.PROGRAMME_ADMIN,)) for b in batches
    ):
        raise Refused("只有使用该称号名单的认定批次的组织单位项目管理员可以导入名单")
    try:
        rows = read_list_rows(content, filename)
    except TableInvalid as exc:
        raise Refused(str(exc)) from exc
    with transaction.atomic():
        report = participants_import(
            plist=plist,
            rows=rows,
            actor=actor,
            replace=replace,
            source_name=filename,
            source_sha256=hashlib.sha256(content).hexdigest(),
        )
        if report.changed:
            for batch in batches:
                if batch.state == BatchState.OPEN:
                    batch_sync_roster(batch=batch, actor=Actor.system())
    return report


# --- batches and roster ---------------------------------------------------------------------


@dataclass
class RosterReport:
    added: int = 0
    exempt: int = 0
    unexempt: int = 0
    total: int = 0


def school_in_scope(stages: Iterable[str], batch_stages: Iterable[str]) -> bool:
    """Primary, secondary and vocational schools; a kindergarten never (杭教办发展〔2023〕146号 一)."""
    wanted = set(batch_stages) - {"kindergarten"}
    return bool(set(stages) & wanted)


def certifiers_under(owner: Org) -> dict[str, Org]:
    """The district bureaus (counties and functional zones) under the batch owner, by code."""
    return {
        o.code: o
        for o in Org.objects.filter(
            subtree_q(owner.path), kind__in=[OrgKind.COUNTY, OrgKind.ZONE]
        ).exclude(pk=owner.pk)
    }


def certifier_for(school: Org, owner: Org, districts: dict[str, Org]) -> Org:
    """The district the school sits under, or the owner for a city-direct school."""
    codes = school.ancestor_codes
    if owner.code in codes:
        codes = codes[codes.index(owner.code) + 1 :]
    for code in codes:
        if code in districts:
            return districts[code]
    return owner


@transaction.atomic
def batch_create(
    *,
    owner: Org,
    code: str,
    name: str,
    certification_date: dt.date,
    cutoff: dt.date,
    standard: Standard,
    additional: Iterable[Standard] = (),
    exempt_titles: Iterable[ParticipantList] = (),
    stages: Iterable[str] | None = None,
    programme=None,
    actor: Actor,
) -> Batch:
    if not _is_system(actor) and not permissions.acts_for(actor, owner, (Role.PROGRAMME_ADMIN,)):
        raise Refused(f"只有{owner.name}的项目管理员可以设立认定批次")
    if owner.kind not in (OrgKind.PROVINCE, OrgKind.CITY, OrgKind.COUNTY, OrgKind.ZONE):
        raise Refused("认定批次须由教育行政部门设立")
    if Batch.objects.filter(code=code).exists():
        raise Refused(f"批次代码 {code} 已存在")
    if cutoff > certification_date:
        raise Refused(f"数据统计截止日 {cutoff} 不能晚于认定时间 {certification_date}")
    if standard.role != StandardRole.MAIN:
        raise Refused(f"{standard} 是附加标准，不能作为认定标准")
    additional = list(additional)
    for s in additional:
        if s.role != StandardRole.ADDITIONAL:
            raise Refused(f"{s} 不是附加标准")
    stage_list = list(stages or ["primary", "junior", "senior", "vocational"])
    if "kindergarten" in stage_list:
        raise Refused("幼儿园不参加智慧校园认定")
    if not stage_list:
        raise Refused("请至少选择一个认定学段")
    batch = Batch(
        code=code,
        name=name,
        owner=owner,
        programme=programme,
        certification_date=certification_date,
        cutoff=cutoff,
        stages=f",{','.join(stage_list)},",
        standard=standard,
        created_by=actor.user,
    )
    batch.full_clean()
    batch.save()
    batch.additional_standards.set(additional)
    batch.exempt_titles.set(list(exempt_titles))
    audit_record(
        actor=actor,
        action="certification.batch_create",
        obj=batch,
        after={
            "code": code,
            "owner": owner.code,
            "certification_date": certification_date,
            "cutoff": cutoff,
            "standard": standard.code,
            "additional": [s.code for s in additional],
            "stages": stage_list,
        },
    )
    batch_sync_roster(batch=batch, actor=actor)
    return batch


@transaction.atomic
def batch_sync_roster(*, batch: Batch, actor: Actor) -> RosterReport:
    """Put every in-scope school of the owner's area in the batch; apply exempting titles.

    Kindergartens never enter. A title holder is certified automatically and kept out of
    the queue, unless the bureau has already decided on it.
    """
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if batch.is_frozen:
        raise Refused("本批次数据已冻结，名单不能再变动")
    if not _is_system(actor):
        _check(permissions.can_run_batch(actor, batch))
    owner = batch.owner
    districts = certifiers_under(owner)
    title_order = list(batch.exempt_titles.order_by("code").values_list("pk", flat=True))
    exempt: dict[int, int] = {}
    for school_id, list_id in ParticipantEntry.objects.filter(plist_id__in=title_order).values_list(
        "org_id", "plist_id"
    ):
        if school_id not in exempt or title_order.index(list_id) < title_order.index(
            exempt[school_id]
        ):
            exempt[school_id] = list_id
    existing = {
        e.school_id: e
        for e in Entry.objects.filter(batch=batch).only(
            "id", "school_id", "state", "exempt_title_id", "decision", "stages"
        )
    }
    report = RosterReport()
    new = []
    schools = Org.objects.filter(subtree_q(owner.path), kind=OrgKind.SCHOOL, is_active=True).only(
        "id", "code", "path", "stages"
    )
    for school in schools.iterator(chunk_size=5000):
        if not school_in_scope(school.stage_list, batch.stage_list):
            continue
        report.total += 1
        title = exempt.get(school.pk)
        entry = existing.get(school.pk)
        if entry is None:
            new.append(
                Entry(
                    batch=batch,
                    school_id=school.pk,
                    certifier=certifier_for(school, owner, districts),
                    stages=school.stages,
                    state=EntryState.EXEMPT if title else EntryState.QUEUED,
                    exempt_title_id=title,
                )
            )
            report.added += 1
            report.exempt += 1 if title else 0
            continue
        if entry.state == EntryState.QUEUED and not entry.decision and title:
            entry.state, entry.exempt_title_id = EntryState.EXEMPT, title
            entry.save(update_fields=["state", "exempt_title", "updated_at"])
            report.exempt += 1
        elif entry.state == EntryState.EXEMPT and not title:
            entry.state, entry.exempt_title_id = EntryState.QUEUED, None
            entry.save(update_fields=["state", "exempt_title", "updated_at"])
            report.unexempt += 1
    Entry.objects.bulk_create(new, batch_size=CHUNK)
    if report.added or report.exempt or report.unexempt:
        audit_record(
            actor=actor,
            action="certification.roster_sync",
            obj=batch,
            after={
                "added": report.added,
                "exempt": report.exempt,
                "unexempt": report.unexempt,
                "total": report.total,
            },
        )
    return report


@transaction.atomic
def batch_adopt_standard(
    *, batch: Batch, certifier: Org, standard: Standard, actor: Actor
) -> BatchStandard:
    """A district certifies its schools against its own standard, derived from the batch's."""
    if not _is_system(actor) and not permissions.acts_for(
        actor, certifier, (Role.PROGRAMME_ADMIN,)
    ):
        raise Refused(f"只有{certifier.name}的项目管理员可以设定本区认定标准")
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if batch.is_frozen:
        raise Refused("本批次数据已冻结，认定标准不能再变动")
    if certifier.pk == batch.owner_id or certifier.pk not in {
        o.pk for o in certifiers_under(batch.owner).values()
    }:
        raise Refused(f"{certifier.name}不是本批次的区、县（市）认定单位")
    if batch.standard not in standard.chain():
        raise Refused(
            f"{standard} 不是依据 {batch.standard} 制定的派生标准；区、县（市）标准须以其为依据（extends），且不低于它"
        )
    bs, created = BatchStandard.objects.update_or_create(
        batch=batch, certifier=certifier, defaults={"standard": standard}
    )
    Entry.objects.filter(batch=batch, certifier=certifier).exclude(
        state__in=[EntryState.EXEMPT, EntryState.FILED]
    ).update(provisional=Provisional.PENDING)
    audit_record(
        actor=actor,
        action="certification.standard_adopt",
        obj=bs,
        after={"batch": batch.code, "certifier": certifier.code, "standard": standard.code},
    )
    return bs


@transaction.atomic
def batch_freeze(*, batch: Batch, actor: Actor) -> Batch:
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if not _is_system(actor):
        _check(permissions.can_run_batch(actor, batch))
    if batch.state != BatchState.OPEN:
        raise Refused("本批次数据已冻结")
    batch.state, batch.frozen_at = BatchState.FROZEN, timezone.now()
    batch.save(update_fields=["state", "frozen_at"])
    audit_record(
        actor=actor,
        action="certification.batch_freeze",
        obj=batch,
        before={"state": BatchState.OPEN},
        after={"state": batch.state},
    )
    return batch


@transaction.atomic
def batch_publish(*, batch: Batch, actor: Actor) -> Batch:
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if not _is_system(actor):
        _check(permissions.can_run_batch(actor, batch))
    if batch.state == BatchState.OPEN:
        raise Refused("请先冻结本批次数据，再公布认定名单")
    if batch.state == BatchState.PUBLISHED:
        raise Refused("本批次认定名单已公布")
    batch.state, batch.published_at = BatchState.PUBLISHED, timezone.now()
    batch.save(update_fields=["state", "published_at"])
    audit_record(
        actor=actor,
        action="certification.batch_publish",
        obj=batch,
        before={"state": BatchState.FROZEN},
        after={"state": batch.state},
    )
    return batch


# --- the standards a batch assesses against ----------------------------------------------------


class BatchPlan:
    """Compiled standards of a batch: the main chain per certifier, plus additional ones."""

    def __init__(self, batch: Batch):
        self.batch = batch
        self._compiled: dict[int, engine.CompiledStandard] = {}
        self.standard_objs: dict[str, Standard] = {}
        self.indicator_rows: dict[int, list[Indicator]] = {}
        self.default_chain = self._chain(batch.standard)
        self.by_certifier = {
            bs.certifier_id: self._chain(bs.standard)
            for bs in batch.district_standards.select_related("standard")
        }
        self.additional = [self._compile(s) for s in batch.additional_standards.all()]

    def _compile(self, standard: Standard) -> engine.CompiledStandard:
        if standard.pk not in self._compiled:
            self.standard_objs[standard.code] = standard
            rows = list(standard.indicators.order_by("order"))
            self.indicator_rows[standard.pk] = rows
            self._compiled[standard.pk] = engine.CompiledStandard(
                code=standard.code,
                indicators=[r.as_engine_row() for r in rows],
                rule=standard.rule,
                applies_to=standard.applies_to_list,
            )
        return self._compiled[standard.pk]

    def _chain(self, standard: Standard) -> list[engine.CompiledStandard]:
        return [self._compile(s) for s in standard.chain()]

    def standards_for(self, certifier_id: int, stages) -> list[engine.CompiledStandard]:
        chain = self.by_certifier.get(certifier_id, self.default_chain)
        return [*chain, *(s for s in self.additional if s.applies(stages))]

    def indicators(self) -> dict[str, dict]:
        """Every indicator any school of the batch may be assessed on, by code."""
        out: dict[str, dict] = {}
        for rows in self.indicator_rows.values():
            for r in rows:
                out.setdefault(r.code, r.as_engine_row() | {"name": r.name})
        return out


def _findings_for(entry_ids: Iterable[int] | None, batch: Batch) -> dict[int, dict[str, bool]]:
    qs = Finding.objects.filter(visit__entry__batch=batch)
    if entry_ids is not None:
        qs = qs.filter(visit__entry_id__in=list(entry_ids))
    out: dict[int, dict[str, bool]] = {}
    # Later visits override earlier ones.
    for entry_id, code, met in qs.order_by("visit__assigned_at", "visit_id").values_list(
        "visit__entry_id", "indicator", "met"
    ):
        out.setdefault(entry_id, {})[code] = met
    return out


def plain_values(data: dict) -> dict[str, Any]:
    return {code: item[0] for code, item in data.items()}


def _assess_one(plan: BatchPlan, certifier_id: int, stages, data: dict, findings: dict):
    values = plain_values(data)
    outcomes = [
        s.assess(values, stages, findings=findings)
        for s in plan.standards_for(certifier_id, stages)
    ]
    return engine.combine(outcomes)


def _update_entries(
    columns: list[tuple[str, str]], rows: list[tuple], *, stamp: list[str], arrays: bool = True
) -> None:
    """Write many entries: ``rows`` are ``(pk, value, …)`` for ``columns`` ``[(name, type)]``;
    the ``stamp`` columns get the current time.

    With ``arrays``, PostgreSQL gets one ``UPDATE … FROM unnest(arrays)`` per call, one
    round trip however many rows. Large JSON values (a school's data) are cheaper sent one
    row each (psycopg pipelines an executemany), since array text would escape every quote;
    SQLite, in process, always gets the executemany. The table and column names come from
    the model, never from input; values are parameters.
    """
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(Entry._meta.db_table)
    now = Entry._meta.get_field("updated_at").get_db_prep_save(timezone.now(), connection)
    stamps = "".join(f", {qn(c)} = %s" for c in stamp)
    if connection.vendor == "postgresql" and arrays:
        names = [qn(name) for name, _ in columns]
        sets = ", ".join(f"{n} = v.{n}" for n in names)
        arrays = ", ".join(f"%s::{kind}[]" for _, kind in columns)
        sql = (
            f"UPDATE {table} SET {sets}{stamps} "  # noqa: S608
            f"FROM unnest(%s::bigint[], {arrays}) AS v(id, {', '.join(names)}) "
            f"WHERE {table}.id = v.id"
        )
        params = [now] * len(stamp) + [[r[0] for r in rows]]
        for i, (_, kind) in enumerate(columns, start=1):
            if kind == "jsonb":
                params.append([json.dumps(r[i], cls=DjangoJSONEncoder) for r in rows])
            else:
                params.append([r[i] for r in rows])
        with connection.cursor() as cur:
            cur.execute(sql, params)
        return
    sets = ", ".join(f"{qn(name)} = %s" for name, _ in columns)
    sql = f"UPDATE {table} SET {sets}{stamps} WHERE id = %s"  # noqa: S608
    fields = [Entry._meta.get_field(name) for name, _ in columns]
    with connection.cursor() as cur:
        cur.executemany(
            sql,
            [
                (
                    *(f.get_db_prep_save(r[i], connection) for i, f in enumerate(fields, start=1)),
                    *([now] * len(stamp)),
                    r[0],
                )
                for r in rows
            ],
        )


@dataclass
class AssessReport:
    assessed: int = 0
    passed: int = 0
    failed: int = 0
    incomplete: int = 0


def assess_entries(
    *, batch: Batch, entry_ids: Iterable[int] | None = None, progress: Progress = None
) -> AssessReport:
    """Assess the given entries (default: the whole batch). Exempt and filed entries stay."""
    with bulk_objects():
        return _assess_entries(batch, entry_ids, progress)


def _assess_entries(batch: Batch, entry_ids, progress: Progress) -> AssessReport:
    plan = BatchPlan(batch)
    qs = Entry.objects.filter(batch=batch).exclude(state__in=[EntryState.EXEMPT, EntryState.FILED])
    if entry_ids is not None:
        entry_ids = list(entry_ids)
        qs = qs.filter(pk__in=entry_ids)
    ids = list(qs.order_by("pk").values_list("pk", flat=True))
    findings = _findings_for(None if entry_ids is None else ids, batch)
    report = AssessReport()
    columns = [
        ("result", "jsonb"),
        ("provisional", "text"),
        ("score", "numeric"),
        ("unmet_count", "integer"),
        ("missing_count", "integer"),
    ]
    total = len(ids)
    for start in range(0, total, CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = []
        for pk, certifier_id, stages, data in Entry.objects.filter(pk__in=chunk).values_list(
            "pk", "certifier_id", "stages", "data"
        ):
            stage_list = [s for s in stages.split(",") if s]
            result = _assess_one(plan, certifier_id, stage_list, data, findings.get(pk, {}))
            report.assessed += 1
            if result.provisional == engine.PASS:
                report.passed += 1
            elif result.provisional == engine.INCOMPLETE:
                report.incomplete += 1
            else:
                report.failed += 1
            rows.append(
                (
                    pk,
                    result.as_json(),
                    result.provisional,
                    None if result.score is None else round(result.score, 2),
                    len(result.unmet_basic),
                    len(result.missing),
                )
            )
        with transaction.atomic():
            _update_entries(columns, rows, stamp=["assessed_at", "updated_at"])
        if progress is not None:
            progress(min(start + CHUNK, total), total, "正在评估")
    return report


def batch_assess(*, batch: Batch, actor: Actor, scope: Scope, progress: Progress = None):
    """Assess every school of the batch that the actor may see (a district: its own)."""
    if not _is_system(actor):
        _check(permissions.can_import(actor, batch))
    ids = scoped(Entry.objects.filter(batch=batch), scope, org_field="school").values_list(
        "pk", flat=True
    )
    report = assess_entries(batch=batch, entry_ids=list(ids), progress=progress)
    audit_record(
        actor=actor,
        action="certification.assess",
        obj=batch,
        after={
            "assessed": report.assessed,
            "passed": report.passed,
            "incomplete": report.incomplete,
            "failed": report.failed,
        },
    )
    return report


# --- data sources and imports -------------------------------------------------------------------


def _clean_mapping(mapping: list[dict]) -> list[dict]:
    out, seen = [], set()
    for item in mapping:
        column = importers._norm_header(item.get("column"))
        code = str(item.get("indicator") or "").strip()
        if not column or not code:
            continue
        if column in seen:
            raise Refused(f"列“{column}”重复映射")
        seen.add(column)
        scale = item.get("scale") or 1
        try:
            scale = float(scale)
        except (TypeError, ValueError) as exc:
            raise Refused(f"列“{column}”的换算系数“{scale}”不是数字") from exc
        out.append({"column": column, "indicator": code, "scale": scale})
    return out


@transaction.atomic
def source_save(
    *,
    owner: Org,
    code: str,
    name: str,
    system: str,
    code_column: str,
    name_column: str,
    sheet: str = "",
    header_row: int = 1,
    mapping: list[dict],
    known_columns: list[str] | None = None,
    actor: Actor,
) -> DataSource:
    """Create or update a data source and its saved column → indicator mapping."""
    if not _is_system(actor) and not permissions.acts_for(actor, owner):
        raise Refused(f"只有{owner.name}的审核人或项目管理员可以维护其数据来源")
    if not code_column.strip() and not name_column.strip():
        raise Refused("请至少填写“学校代码列”或“学校名称列”之一")
    if header_row < 1:
        raise Refused("表头所在行须为正整数")
    mapping = _clean_mapping(mapping)
    source = DataSource.objects.select_for_update().filter(owner=owner, code=code).first()
    before = (
        {
            "mapping": source.mapping,
            "code_column": source.code_column,
            "name_column": source.name_column,
        }
        if source
        else None
    )
    source = source or DataSource(owner=owner, code=code)
    source.name, source.system = name, system
    source.code_column = importers._norm_header(code_column)
    source.name_column = importers._norm_header(name_column)
    source.sheet, source.header_row, source.mapping = sheet.strip(), header_row, mapping
    if known_columns is not None:
        source.known_columns = known_columns
    source.full_clean()
    source.save()
    audit_record(
        actor=actor,
        action="certification.source_save",
        obj=source,
        before=before,
        after={
            "mapping": mapping,
            "code_column": source.code_column,
            "name_column": source.name_column,
        },
    )
    return source


def mapping_sha256(source: DataSource) -> str:
    body = json.dumps(
        {
            "code_column": source.code_column,
            "name_column": source.name_column,
            "sheet": source.sheet,
            "header_row": source.header_row,
            "mapping": source.mapping,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class ImportStart:
    run: ImportRun
    created: bool  # False: the same file with the same mapping was imported before


def import_prepare(
    *,
    batch: Batch,
    source: DataSource,
    content: bytes,
    filename: str,
    as_of: dt.date | None,
    actor: Actor,
) -> ImportStart:
    """Check and record an import; the reading itself is :func:`import_execute` (a job).

    The same file with the same mapping into the same batch is recognised by its sha256
    and not imported again: re-importing changes nothing.
    """
    # Decide on the batch as stored, not on a copy that may predate a freeze.
    batch = Batch.objects.select_related("owner").get(pk=batch.pk)
    if not _is_system(actor):
        _check(permissions.can_import(actor, batch))
    if batch.is_frozen:
        raise Refused(
            f"本批次数据已于 {timezone.localtime(batch.frozen_at):%Y-%m-%d} 冻结，不再接受导入"
        )
    as_of = as_of or batch.cutoff
    if as_of > batch.cutoff:
        raise Refused(
            f"数据日期 {as_of} 晚于本批次的数据统计截止日 {batch.cutoff}；本批次只采用截止日当日及以前的数据"
        )
    if not source.mapping:
        raise Refused(f"数据来源“{source.name}”还没有设置列与指标的对应关系")
    try:
        ctype = files.import_type(content, filename)
    except files.FileRefused as exc:
        raise Refused(str(exc)) from exc
    sha = hashlib.sha256(content).hexdigest()
    msha = mapping_sha256(source)
    with transaction.atomic():
        existing = (
            ImportRun.objects.select_for_update()
            .filter(batch=batch, source=source, sha256=sha, mapping_sha256=msha)
            .first()
        )
        if existing is not None and existing.state != ImportState.FAILED:
            return ImportStart(existing, False)
        stored = files.store_file(content, ctype)
        if existing is not None:
            run = existing
            run.state, run.message, run.finished_at = ImportState.RUNNING, "", None
            run.imported_by, run.importer_org, run.as_of = (
                actor.user,
                actor.org or batch.owner,
                as_of,
            )
            run.issues.all().delete()
            run.save()
        else:
            run = ImportRun.objects.create(
                batch=batch,
                source=source,
                file=stored,
                filename=filename[:255],
                sha256=sha,
                mapping_sha256=msha,
                mapping=source.mapping,
                as_of=as_of,
                imported_by=actor.user,
                importer_org=actor.org or batch.owner,
            )
        audit_record(
            actor=actor,
            action="certification.import_start",
            obj=run,
            after={
                "batch": batch.code,
                "source": source.code,
                "file": filename,
                "sha256": sha,
                "as_of": as_of,
                "cutoff": batch.cutoff,
            },
        )
    return ImportStart(run, True)


def build_roster(batch: Batch, scope: Scope) -> importers.Roster:
    """The batch's schools the importer may write to, and why other schools are not there."""
    entries = scoped(Entry.objects.filter(batch=batch), scope, org_field="school")
    by_code: dict[str, int] = {}
    by_name: dict[str, list[int]] = {}
    school_ids = set()
    for pk, school_id, code, name in entries.values_list(
        "pk", "school_id", "school__code", "school__name"
    ).iterator(chunk_size=10000):
        by_code[code] = pk
        by_name.setdefault(name, []).append(pk)
        school_ids.add(school_id)
    outside: dict[str, str] = {}
    others = (
        scoped(Org.objects.filter(kind=OrgKind.SCHOOL), scope)
        .filter(subtree_q(batch.owner.path))
        .exclude(pk__in=school_ids)
        .values_list("code", "name", "stages")
    )
    for code, name, stages in others.iterator(chunk_size=10000):
        stage_list = [s for s in stages.split(",") if s]
        if stage_list and set(stage_list) <= {"kindergarten"}:
            reason = "幼儿园不参加智慧校园认定，未导入"
        else:
            reason = "该校的学段不在本批次认定范围内，未导入"
        outside[code] = reason
        outside.setdefault(name, reason)
    return importers.Roster(by_code, by_name, set(by_code.values()), outside)


def _merge(data: dict, values: dict, src: str, as_of: str) -> tuple[int, int]:
    """Merge one school's imported values; returns (values set, values changed).

    A value accepted from a school's correction stands; a value already dated later (but
    still within the cut-off) is newer than this file's and stands too.
    """
    if not data:
        # The first import into this school: nothing to weigh against.
        data.update({code: (value, src, as_of) for code, value in values.items()})
        return len(values), len(values)
    set_, changed = 0, 0
    for code, value in values.items():
        current = data.get(code)
        if current is not None:
            if str(current[1]).startswith("c"):
                continue
            if current[2] > as_of:
                continue
        set_ += 1
        if current is None or current[0] != value:
            changed += 1
        data[code] = (value, src, as_of)
    return set_, changed


def import_execute(*, run: ImportRun, scope: Scope, progress: Progress = None, assess: bool = True):
    """Read the run's file, match schools, write values as of the run's date; then assess."""
    with bulk_objects():
        run, ids = _import_execute(run, scope, progress)
    if assess and ids:
        assess_entries(batch=run.batch, entry_ids=ids, progress=progress)
    return run


def _import_execute(run: ImportRun, scope: Scope, progress: Progress) -> tuple[ImportRun, list]:
    batch = run.batch
    source = run.source
    content = files.read_file(run.file)
    result = importers.ReadResult()
    try:
        headers, rows = importers.read_table(
            content, run.filename, sheet=source.sheet, header_row=source.header_row
        )
        for label, column in (
            ("学校代码列", source.code_column),
            ("学校名称列", source.name_column),
        ):
            if column and column not in headers:
                raise importers.TableError(
                    f"文件中没有{label}“{column}”（第 {source.header_row} 行为表头）"
                )
        plan = BatchPlan(batch)
        columns = importers.plan_columns(
            headers,
            mapping=run.mapping,
            indicators=plan.indicators(),
            result=result,
            header_row=source.header_row,
        )
        roster = build_roster(batch, scope)
        importers.read_values(
            headers=headers,
            rows=rows,
            code_column=source.code_column,
            name_column=source.name_column,
            columns=columns,
            roster=roster,
            result=result,
            progress=progress,
            total_hint=len(roster.by_code) or None,
        )
    except importers.TableError as exc:
        return _import_fail(run, str(exc)), []

    src, as_of = f"i{run.pk}", run.as_of.isoformat()
    ids = sorted(result.values)
    total_set = total_changed = 0
    with transaction.atomic():
        locked = Batch.objects.select_for_update().get(pk=batch.pk)
        if locked.is_frozen:
            return _import_fail(run, "导入过程中本批次数据已冻结，本次导入未写入任何数据"), []
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            rows = []
            for pk, data in (
                Entry.objects.filter(pk__in=chunk)
                .exclude(state=EntryState.FILED)
                .values_list("pk", "data")
            ):
                set_, changed = _merge(data, result.values[pk], src, as_of)
                total_set += set_
                total_changed += changed
                if changed or set_:
                    rows.append((pk, data))
            _update_entries([("data", "jsonb")], rows, stamp=["updated_at"], arrays=False)
            if progress is not None:
                progress(start + len(chunk), len(ids), "正在写入数据")
        ImportIssue.objects.bulk_create(
            [
                ImportIssue(run=run, row=i.row, column=i.column, school=i.school, message=i.message)
                for i in result.issues
            ],
            batch_size=CHUNK,
        )
        run.state = ImportState.DONE
        run.total_rows = result.total_rows
        run.matched_rows = result.matched_rows
        run.values_set = total_set
        run.values_changed = total_changed
        run.issue_count = result.issue_count
        run.finished_at = timezone.now()
        run.save()
        audit_record(
            actor=Actor(user=run.imported_by, org=run.importer_org),
            action="certification.import",
            obj=run,
            after={
                "batch": batch.code,
                "source": source.code,
                "file": run.filename,
                "sha256": run.sha256,
                "as_of": run.as_of,
                "rows": result.total_rows,
                "matched": result.matched_rows,
                "values_set": total_set,
                "values_changed": total_changed,
                "issues": result.issue_count,
            },
        )
    return run, ids


def _import_fail(run: ImportRun, message: str) -> ImportRun:
    run.state, run.message, run.finished_at = ImportState.FAILED, message, timezone.now()
    run.save(update_fields=["state", "message", "finished_at"])
    audit_record(
        actor=Actor(user=run.imported_by, org=run.importer_org),
        action="certification.import_failed",
        obj=run,
        after={"message": message},
    )
    return run


# --- corrections -------------------------------------------------------------------------------


def _indicator_for(entry: Entry, code: str) -> dict:
    plan = BatchPlan(entry.batch)
    for standard in plan.standards_for(entry.certifier_id, entry.stage_list):
        ind = standard.by_code.get(code)
        if ind is not None:
            return {
                "code": ind.code,
                "name": ind.name,
                "measure": ind.measure,
                "levels": ind.levels,
            }
    raise Refused(f"指标 {code} 不在该校适用的认定标准中")


def _store_evidence(uploads, actor: Actor, **target) -> None:
    for filename, content in uploads:
        try:
            ctype = files.evidence_type(content, filename)
        except files.FileRefused as exc:
            raise Refused(str(exc)) from exc
        stored = files.store_file(content, ctype)
        Evidence.objects.create(
            file=stored, filename=filename[:255], uploaded_by=actor.user, **target
        )


@transaction.atomic
def correction_file(
    *,
    entry: Entry,
    indicator: str,
    raw_value: Any,
    reason: str,
    evidence: list[tuple[str, bytes]],
    actor: Actor,
) -> Correction:
    """A school asks, before the cut-off, to correct one of its values, with evidence."""
    _check(permissions.can_correct(actor, entry))
    batch = Batch.objects.get(pk=entry.batch_id)
    if batch.is_frozen:
        raise Refused("本批次数据已冻结，不能再提交更正")
    if today() > batch.cutoff:
        raise Refused(f"已过数据统计截止日（{batch.cutoff}），不能再提交更正")
    ind = _indicator_for(entry, indicator)
    try:
        value = engine.parse_value(ind["measure"], ind["levels"], raw_value)
    except engine.ValueError_ as exc:
        raise Refused(f"更正值：{exc}") from exc
    if value is None:
        raise Refused("请填写更正后的数值")
    if not reason.strip():
        raise Refused("请填写更正理由")
    if not evidence:
        raise Refused("请上传证明材料（PDF 或图片）")
    if entry.corrections.filter(indicator=indicator, state=CorrectionState.PENDING).exists():
        raise Refused(f"指标 {indicator} 已有一条待处理的更正")
    current = entry.data.get(indicator)
    correction = Correction.objects.create(
        entry=entry,
        indicator=indicator,
        current_value=current[0] if current else None,
        proposed_value=value,
        reason=reason.strip(),
        filed_by=actor.user,
        filed_at=timezone.now(),
    )
    _store_evidence(evidence, actor, correction=correction)
    audit_record(
        actor=actor,
        action="certification.correction_file",
        obj=correction,
        after={
            "entry": entry.pk,
            "indicator": indicator,
            "current": correction.current_value,
            "proposed": value,
            "evidence": len(evidence),
        },
    )
    notify(
        orgs=[entry.certifier_id],
        roles=permissions.BUREAU_ROLES,
        event="certification.correction_filed",
        title=f"{entry.school.name}申请更正指标 {indicator} 的数据",
        body=f"更正理由：{correction.reason}",
        link=_entry_link(entry),
    )
    return correction


@transaction.atomic
def correction_decide(
    *, correction: Correction, accept: bool, response: str, actor: Actor
) -> Correction:
    """The certifying bureau accepts (the value replaces the imported one) or rejects."""
    correction = Correction.objects.select_for_update().get(pk=correction.pk)
    entry = Entry.objects.select_for_update().get(pk=correction.entry_id)
    _check(permissions.can_certify(actor, entry))
    if correction.state != CorrectionState.PENDING:
        raise Refused("该更正已处理")
    if entry.batch.is_frozen:
        raise Refused("本批次数据已冻结，不能再处理更正")
    if not accept and not response.strip():
        raise Refused("不予采纳时请填写理由")
    correction.state = CorrectionState.ACCEPTED if accept else CorrectionState.REJECTED
    correction.response = response.strip()
    correction.decided_by, correction.decided_at = actor.user, timezone.now()
    correction.save()
    if accept:
        entry.data[correction.indicator] = [
            correction.proposed_value,
            f"c{correction.pk}",
            timezone.localtime(correction.filed_at).date().isoformat(),
        ]
        entry.save(update_fields=["data", "updated_at"])
    audit_record(
        actor=actor,
        action="certification.correction_decide",
        obj=correction,
        before={"state": CorrectionState.PENDING},
        after={"state": correction.state, "response": correction.response},
    )
    if accept:
        assess_entries(batch=entry.batch, entry_ids=[entry.pk])
    outcome = "已采纳" if accept else "未予采纳"
    notify(
        users=[correction.filed_by_id] if correction.filed_by_id else (),
        orgs=[entry.school_id],
        roles=[Role.APPLICANT],
        event="certification.correction_decided",
        title=f"指标 {correction.indicator} 的数据更正{outcome}",
        body=correction.response,
        link=_entry_link(entry),
    )
    return correction


# --- site verification -----------------------------------------------------------------------


def team_member_q(certifier: Org) -> Q:
    """Memberships that may sit on a verification team: experts, or the certifier's staff."""
    return Q(role=Role.EXPERT) | Q(org=certifier, role__in=[Role.REVIEWER, Role.PROGRAMME_ADMIN])


def _open_entry(entry: Entry) -> None:
    if entry.state == EntryState.EXEMPT:
        raise Refused("该校持有免于认定的称号，已自动认定")
    if entry.state == EntryState.FILED:
        raise Refused("该校认定结果已报备，不能再更改")


@transaction.atomic
def visit_assign(
    *, entry: Entry, team: list, team_note: str, planned_for: dt.date | None, actor: Actor
) -> SiteVisit:
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    _check(permissions.can_certify(actor, entry))
    _open_entry(entry)
    if entry.visits.filter(state=VisitState.ASSIGNED).exists():
        raise Refused("该校已有进行中的实地核查")
    if not team and not team_note.strip():
        raise Refused("请指定核查组成员")
    for user in team:
        ok = Membership.objects.filter(user=user, is_active=True).filter(
            team_member_q(entry.certifier)
        )
        if not ok.exists():
            raise Refused(f"{user} 不是评审专家或{entry.certifier.name}的工作人员，不能加入核查组")
    visit = SiteVisit.objects.create(
        entry=entry,
        team_note=team_note.strip()[:300],
        planned_for=planned_for,
        assigned_by=actor.user,
        assigned_at=timezone.now(),
    )
    visit.team.set(team)
    audit_record(
        actor=actor,
        action="certification.visit_assign",
        obj=visit,
        after={
            "entry": entry.pk,
            "team": [u.pk for u in team],
            "team_note": visit.team_note,
            "planned_for": planned_for,
        },
    )
    if team:
        when = f"，计划于 {planned_for} 进行" if planned_for else ""
        notify(
            users=team,
            event="certification.visit_assigned",
            title=f"您被指派参加{entry.school.name}的实地核查",
            body=f"{entry.certifier.name}指派{when}。请在“我的核查任务”中记录核查意见。",
            link=_visits_link(),
            exclude_users=[actor.user],
        )
    return visit


def data_outcome(entry: Entry, code: str) -> bool:
    """Whether the data alone (no findings) meets indicator ``code`` for this school."""
    plan = BatchPlan(entry.batch)
    values = plain_values(entry.data)
    for standard in plan.standards_for(entry.certifier_id, entry.stage_list):
        if code in standard.by_code:
            outcome = standard.assess(values, entry.stage_list, detail=True)
            return outcome.indicators[code].status == engine.MET
    raise Refused(f"指标 {code} 不在该校适用的认定标准中")


@transaction.atomic
def finding_record(
    *,
    visit: SiteVisit,
    indicator: str,
    met: bool,
    observed: str,
    reason: str,
    evidence: list[tuple[str, bytes]],
    actor: Actor,
) -> Finding:
    """The team's finding on one indicator: confirms the data or overturns it (with reason)."""
    visit = SiteVisit.objects.select_for_update().get(pk=visit.pk)
    _check(permissions.can_record_finding(actor, visit))
    if visit.state != VisitState.ASSIGNED:
        raise Refused("该实地核查已完成，不能再记录")
    entry = visit.entry
    _open_entry(entry)
    from_data = data_outcome(entry, indicator)
    verdict = Verdict.CONFIRM if met == from_data else Verdict.OVERTURN
    if verdict == Verdict.OVERTURN and not reason.strip():
        raise Refused(f"核查结果与数据不一致（推翻数据）时须填写理由：指标 {indicator}")
    finding = Finding.objects.filter(visit=visit, indicator=indicator).first()
    before = (
        {"verdict": finding.verdict, "met": finding.met, "reason": finding.reason}
        if finding
        else None
    )
    finding = finding or Finding(visit=visit, indicator=indicator)
    finding.verdict, finding.met = verdict, met
    finding.observed, finding.reason = observed.strip()[:200], reason.strip()
    finding.recorded_by, finding.recorded_at = actor.user, timezone.now()
    finding.save()
    _store_evidence(evidence, actor, finding=finding)
    audit_record(
        actor=actor,
        action="certification.finding_record",
        obj=finding,
        before=before,
        after={
            "entry": entry.pk,
            "indicator": indicator,
            "verdict": verdict,
            "met": met,
            "reason": finding.reason,
            "evidence": len(evidence),
        },
    )
    assess_entries(batch=entry.batch, entry_ids=[entry.pk])
    return finding


@transaction.atomic
def visit_complete(*, visit: SiteVisit, summary: str, actor: Actor) -> SiteVisit:
    visit = SiteVisit.objects.select_for_update().get(pk=visit.pk)
    _check(permissions.can_record_finding(actor, visit))
    if visit.state != VisitState.ASSIGNED:
        raise Refused("该实地核查已完成")
    if not summary.strip():
        raise Refused("请填写核查结论")
    visit.state, visit.summary, visit.completed_at = (
        VisitState.DONE,
        summary.strip(),
        timezone.now(),
    )
    visit.save(update_fields=["state", "summary", "completed_at"])
    audit_record(
        actor=actor,
        action="certification.visit_complete",
        obj=visit,
        before={"state": VisitState.ASSIGNED},
        after={"state": visit.state, "summary": visit.summary},
    )
    return visit


# --- decisions and filing ------------------------------------------------------------------------


@transaction.atomic
def entry_decide(*, entry: Entry, decision: str, opinion: str, actor: Actor) -> Entry:
    """The certifying bureau's conclusion for one school, with its opinion."""
    entry = (
        Entry.objects.select_for_update()
        .select_related("batch", "school", "certifier")
        .get(pk=entry.pk)
    )
    _check(permissions.can_certify(actor, entry))
    _open_entry(entry)
    if decision not in Decision.values:
        raise Refused("请选择认定结论")
    if not opinion.strip():
        raise Refused("请填写认定意见")
    if entry.visits.filter(state=VisitState.ASSIGNED).exists():
        raise Refused("实地核查尚未完成，请待核查组提交核查结论后再作出认定结论")
    # Decide on the current data and findings, not on an assessment that may be stale.
    assess_entries(batch=entry.batch, entry_ids=[entry.pk])
    entry.refresh_from_db()
    if decision == Decision.CERTIFIED and entry.provisional != Provisional.PASS:
        raise Refused(
            f"该校评估结果为“{entry.get_provisional_display()}”，不能认定为智慧校园；"
            "可选择“不予认定”或“暂缓认定”"
        )
    before = {"state": entry.state, "decision": entry.decision, "opinion": entry.opinion}
    entry.state, entry.decision, entry.opinion = EntryState.DECIDED, decision, opinion.strip()
    entry.decided_by, entry.decided_at = actor.user, timezone.now()
    entry.save(
        update_fields=["state", "decision", "opinion", "decided_by", "decided_at", "updated_at"]
    )
    audit_record(
        actor=actor,
        action="certification.decide",
        obj=entry,
        before=before,
        after={"state": entry.state, "decision": decision, "opinion": entry.opinion},
    )
    return entry


@transaction.atomic
def filing_submit(*, batch: Batch, org: Org, note: str, actor: Actor) -> Filing:
    """A district files all its decisions with the batch owner in one step."""
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    _check(permissions.can_file(actor, batch, org))
    if Filing.objects.filter(batch=batch, org=org, returned_at__isnull=True).exists():
        raise Refused(f"{org.name}已报备本批次认定结果")
    entries = Entry.objects.select_for_update().filter(batch=batch, certifier=org)
    counts = {"total": 0, "queued": 0, "exempt": 0}
    by_decision = dict.fromkeys(Decision.values, 0)
    for state, decision in entries.values_list("state", "decision"):
        counts["total"] += 1
        if state == EntryState.QUEUED:
            counts["queued"] += 1
        elif state == EntryState.EXEMPT:
            counts["exempt"] += 1
        elif decision:
            by_decision[decision] += 1
    if counts["total"] == 0:
        raise Refused(f"{org.name}在本批次中没有学校")
    if counts["queued"]:
        raise Refused(f"还有 {counts['queued']} 所学校尚未作出认定结论，请全部作出结论后再报备")
    filing = Filing.objects.create(
        batch=batch,
        org=org,
        filed_by=actor.user,
        filed_at=timezone.now(),
        total=counts["total"],
        certified=by_decision[Decision.CERTIFIED],
        not_certified=by_decision[Decision.NOT_CERTIFIED],
        deferred=by_decision[Decision.DEFERRED],
        exempt=counts["exempt"],
        note=note.strip(),
    )
    entries.filter(state=EntryState.DECIDED).update(
        state=EntryState.FILED, filing=filing, updated_at=timezone.now()
    )
    entries.filter(state=EntryState.EXEMPT).update(filing=filing)
    audit_record(
        actor=actor,
        action="certification.file",
        obj=filing,
        after={
            "batch": batch.code,
            "org": org.code,
            "total": filing.total,
            "certified": filing.certified,
            "not_certified": filing.not_certified,
            "deferred": filing.deferred,
            "exempt": filing.exempt,
        },
    )
    notify(
        orgs=[batch.owner_id],
        roles=permissions.BUREAU_ROLES,
        event="certification.filed",
        title=f"{org.name}已报备{batch.name}认定结果",
        body=(
            f"认定 {filing.certified} 所，不予认定 {filing.not_certified} 所，"
            f"暂缓 {filing.deferred} 所，自动认定 {filing.exempt} 所。"
        ),
        link=_filing_link(batch),
        exclude_users=[actor.user],
    )
    return filing


@transaction.atomic
def filing_return(*, filing: Filing, reason: str, actor: Actor) -> Filing:
    """The batch owner sends a district's filing back before publication (退回报备).

    The district's filed decisions become editable again; the returned filing stays as
    history, with who returned it, when and why, and the district files anew.
    """
    batch = Batch.objects.select_for_update().select_related("owner").get(pk=filing.batch_id)
    filing = Filing.objects.select_for_update().select_related("org").get(pk=filing.pk)
    _check(permissions.can_return_filing(actor, batch))
    if filing.returned_at is not None:
        raise Refused(f"{filing.org.name}的这次报备已被退回")
    if batch.state == BatchState.PUBLISHED:
        raise Refused("本批次认定结果已公布，不能再退回报备")
    reason = reason.strip()
    if not reason:
        raise Refused("请填写退回理由")
    now = timezone.now()
    entries = Entry.objects.filter(batch=batch, filing=filing)
    reopened = entries.filter(state=EntryState.FILED).update(
        state=EntryState.DECIDED, filing=None, updated_at=now
    )
    entries.update(filing=None)  # the exempt schools it listed
    filing.returned_at, filing.returned_by, filing.return_reason = now, actor.user, reason
    filing.save(update_fields=["returned_at", "returned_by", "return_reason"])
    audit_record(
        actor=actor,
        action="certification.filing_return",
        obj=filing,
        before={"state": "filed", "filed_at": filing.filed_at},
        after={"state": "returned", "reason": reason, "reopened": reopened},
    )
    notify(
        orgs=[filing.org_id],
        roles=permissions.BUREAU_ROLES,
        event="certification.filing_returned",
        title=f"{batch.owner.name}退回了{filing.org.name}的{batch.name}认定结果报备",
        body=f"退回理由：{reason}。请修改认定结论后重新报备。",
        link=_filing_link(batch),
        exclude_users=[actor.user],
    )
    return filing


def _filing_link(batch: Batch) -> str:
    return reverse("certification:filing", args=[batch.pk])


def _entry_link(entry: Entry) -> str:
    return reverse("certification:entry_detail", args=[entry.pk])


def _visits_link() -> str:
    return reverse("certification:my_visits")


def dumps(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
