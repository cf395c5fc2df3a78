"""Assessment: the standards a batch assesses against, and the bulk path that applies them.

The bulk paths (import, assessment) work in chunks with one UPDATE statement per chunk, so
that 50,000 schools × 80 indicators stays a matter of seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from edupilot.audit.services import Actor, audit_record
from edupilot.core.jobs import job_start
from edupilot.orgs.scoping import Scope, scoped

from .. import engine
from ..models import Batch, Entry, EntryState, Finding, Indicator, Standard
from ..permissions import can_import_data
from ..selfgate import gate_reasons
from ..workflows import BATCH
from .common import CHUNK, Progress, bulk_objects, check


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
                dimensions=standard.dimensions,
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


_DJANGO_JSON = DjangoJSONEncoder()
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def json_text(value: Any) -> str:
    """``value`` as JSON text, as a JSONField with Django's encoder would store it, written
    by orjson (docs/decisions/1203-orjson-for-bulk-json.md): a school's 80 values and their
    provenance were a third of the import's time in ``json.dumps``. Dates, times, decimals
    and lazy strings go through Django's encoder as before; the text is compact."""
    return orjson.dumps(value, default=_DJANGO_JSON.default, option=_JSON_OPTIONS).decode()


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
                params.append([json_text(r[i]) for r in rows])
            else:
                params.append([r[i] for r in rows])
        with connection.cursor() as cur:
            cur.execute(sql, params)
        return
    sets = ", ".join(f"{qn(name)} = %s" for name, _ in columns)
    sql = f"UPDATE {table} SET {sets}{stamps} WHERE id = %s"  # noqa: S608
    fields = [Entry._meta.get_field(name) for name, _ in columns]
    prep = [
        json_text if kind == "jsonb" else (lambda v, f=f: f.get_db_prep_save(v, connection))
        for f, (_, kind) in zip(fields, columns, strict=True)
    ]
    with connection.cursor() as cur:
        cur.executemany(
            sql,
            [
                (
                    *(p(r[i]) for i, p in enumerate(prep, start=1)),
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
        gates = gate_reasons(batch, chunk)  # None: the batch asks no self-assessment
        rows = []
        for pk, certifier_id, stages, data in Entry.objects.filter(pk__in=chunk).values_list(
            "pk", "certifier_id", "stages", "data"
        ):
            stage_list = [s for s in stages.split(",") if s]
            result = _assess_one(plan, certifier_id, stage_list, data, findings.get(pk, {}))
            if gates is not None:
                result = engine.apply_gate(result, gates.get(pk, ""))
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


def batch_assess_start(*, batch: Batch, scope: Scope, actor: Actor):
    """Check that the scope may re-assess the batch now, and start the job that does it."""
    check(can_import_data(scope, batch))
    BATCH.refuse_unless(Batch.objects.get(pk=batch.pk), "assess")
    return job_start(
        "certification.assess", actor=actor, scope=scope, params={"batch_id": batch.pk}
    )


def batch_assess(*, batch: Batch, actor: Actor, scope: Scope, progress: Progress = None):
    """Assess every school of the batch that the scope may see (a district: its own)."""
    check(can_import_data(scope, batch))
    BATCH.refuse_unless(Batch.objects.get(pk=batch.pk), "assess")
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
