"""Data from other systems: sources (an export format and its mapping) and imports.

An import is recorded first (:func:`import_prepare`, on the page) and read in a background
job (:func:`import_execute`): schools are matched by code, then by exact name; values are
kept as of the run's date with their provenance; the same file with the same mapping is
recognised by its sha256 and not imported twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record
from edupilot.core.jobs import job_start
from edupilot.orgs.models import Org, OrgKind, subtree_q
from edupilot.orgs.scoping import Scope, scoped

from .. import files, importers
from ..models import Batch, DataSource, Entry, ImportIssue, ImportRun
from ..permissions import can_import_data, can_save_source
from ..workflows import BATCH, IMPORT
from .assessment import BatchPlan, assess_entries
from .common import CHUNK, Progress, Refused, bulk_objects, check
from .import_writes import write_blocks


def _clean_mapping(mapping: list[dict]) -> list[dict]:
    out, seen = [], set()
    for item in mapping:
        column = importers._norm_header(item.get("column"))
        code = str(item.get("indicator") or "").strip()
        if not column or not code:
            continue
        if column in seen:
            raise Refused(_("列“%(column)s”重复映射") % {"column": column})
        seen.add(column)
        scale = item.get("scale") or 1
        try:
            scale = float(scale)
        except (TypeError, ValueError) as exc:
            raise Refused(
                _("列“%(column)s”的换算系数“%(scale)s”不是数字")
                % {"column": column, "scale": scale}
            ) from exc
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
    scope: Scope | None,
    actor: Actor,
) -> DataSource:
    """Create or update a data source and its saved column → indicator mapping."""
    check(can_save_source(scope, owner))
    if not code_column.strip() and not name_column.strip():
        raise Refused(_("请至少填写“学校代码列”或“学校名称列”之一"))
    if header_row < 1:
        raise Refused(_("表头所在行须为正整数"))
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
    scope: Scope | None,
    actor: Actor,
) -> ImportStart:
    """Check and record an import; the reading itself is :func:`import_execute` (a job).

    The same file with the same mapping into the same batch is recognised by its sha256
    and not imported again: re-importing changes nothing.
    """
    # Decide on the batch as stored, not on a copy that may predate a freeze.
    batch = Batch.objects.select_related("owner").get(pk=batch.pk)
    check(can_import_data(scope, batch))
    if batch.is_frozen:
        raise Refused(
            _("本批次数据已于 %(date)s 冻结，不再接受导入")
            % {"date": format(timezone.localtime(batch.frozen_at), "%Y-%m-%d")}
        )
    BATCH.refuse_unless(batch, "import")
    as_of = as_of or batch.cutoff
    if as_of > batch.cutoff:
        raise Refused(
            _(
                "数据日期 %(as_of)s 晚于本批次的数据统计截止日 %(cutoff)s；本批次只采用截止日当日及以前的数据"
            )
            % {"as_of": as_of, "cutoff": batch.cutoff}
        )
    if not source.mapping:
        raise Refused(
            _("数据来源“%(source)s”还没有设置列与指标的对应关系") % {"source": source.name}
        )
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
        if existing is not None and not IMPORT.can_leave(existing, "retry"):
            return ImportStart(existing, False)
        stored = files.store_file(content, ctype)
        if existing is not None:
            run = existing
            IMPORT.advance(run, "retry")
            run.message, run.finished_at = "", None
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
                state=IMPORT.initial("start"),
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


def import_submit(
    *,
    batch: Batch,
    source: DataSource,
    content: bytes,
    filename: str,
    as_of: dt.date | None,
    scope: Scope,
    actor: Actor,
) -> ImportStart:
    """The import page: record the import and start the job that reads it (unless the same
    file with the same mapping was imported before)."""
    started = import_prepare(
        batch=batch,
        source=source,
        content=content,
        filename=filename,
        as_of=as_of,
        scope=scope,
        actor=actor,
    )
    if started.created:
        job = job_start(
            "certification.import", actor=actor, scope=scope, params={"run_id": started.run.pk}
        )
        started.run.job_id = job.pk
        started.run.save(update_fields=["job_id"])
    return started


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


def import_execute(*, run: ImportRun, scope: Scope, progress: Progress = None, assess: bool = True):
    """Read the run's file, match schools, write values as of the run's date; then assess."""
    with bulk_objects():
        run, ids = _import_execute(run, scope, progress)
    if assess and ids:
        assess_entries(batch=run.batch, entry_ids=ids, progress=progress)
    return run


def _import_execute(run: ImportRun, scope: Scope, progress: Progress) -> tuple[ImportRun, list]:
    result = importers.ReadResult()
    try:
        with files.open_file(run.file) as fh:
            blocks = _open_run(run, scope, fh, result, progress)
            return _write_run(run, result, blocks)
    except importers.TableError as exc:
        # Raised before anything was written, or mid-file (then the transaction rolled back).
        return _import_fail(run, str(exc)), []


class _Frozen(Exception):
    pass


def _open_run(run: ImportRun, scope: Scope, fh, result, progress: Progress):
    """Open the run's file and plan its columns; returns the iterator of blocks of matched
    rows' values, which reads the file as it is consumed (issues go into ``result``)."""
    batch, source = run.batch, run.source
    headers, rows = importers.read_table(
        fh, run.filename, sheet=source.sheet, header_row=source.header_row
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
    return importers.iter_blocks(
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


def _write_run(run: ImportRun, result, blocks) -> tuple[ImportRun, list]:
    """Read the blocks of rows and merge them into the entries chunk by chunk, all in one
    transaction under the batch's lock: a batch frozen meanwhile, or a file that breaks off,
    writes nothing. Only one chunk of values is held at a time."""
    batch = run.batch
    src, as_of = f"i{run.pk}", run.as_of.isoformat()
    ids: list[int] = []
    total_set = total_changed = 0
    try:
        with transaction.atomic():
            locked = Batch.objects.select_for_update().get(pk=batch.pk)
            if locked.is_frozen:
                raise _Frozen
            chunk: list[importers.Block] = []
            size = 0
            for block in blocks:
                chunk.append(block)
                size += len(block.entry_ids)
                if size >= CHUNK:
                    set_, changed = write_blocks(chunk, src, as_of)
                    total_set, total_changed = total_set + set_, total_changed + changed
                    ids.extend(pk for block in chunk for pk in block.entry_ids)
                    chunk, size = [], 0
            if chunk:
                set_, changed = write_blocks(chunk, src, as_of)
                total_set, total_changed = total_set + set_, total_changed + changed
                ids.extend(pk for block in chunk for pk in block.entry_ids)
            del chunk
            _finish_run(run, result, total_set, total_changed)
    except _Frozen:
        return _import_fail(run, "导入过程中本批次数据已冻结，本次导入未写入任何数据"), []
    ids.sort()
    return run, ids


def _finish_run(run: ImportRun, result, total_set: int, total_changed: int) -> None:
    """The row report (its first lines), the counts and the audit event of a finished run."""
    for start in range(0, len(result.issues), CHUNK):
        ImportIssue.objects.bulk_create(
            [
                ImportIssue(run=run, row=i.row, column=i.column, school=i.school, message=i.message)
                for i in result.issues[start : start + CHUNK]
            ]
        )
    IMPORT.advance(run, "finish")
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
            "batch": run.batch.code,
            "source": run.source.code,
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


def _import_fail(run: ImportRun, message: str) -> ImportRun:
    fields = IMPORT.advance(run, "fail")
    run.message, run.finished_at = message, timezone.now()
    run.save(update_fields=[*fields, "message", "finished_at"])
    audit_record(
        actor=Actor(user=run.imported_by, org=run.importer_org),
        action="certification.import_failed",
        obj=run,
        after={"message": message},
    )
    return run
