"""Writes for programmes: loading files, syncing quota tables, overrides."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record
from edupilot.orgs.models import Org

from . import loader, tables
from .models import (
    ParticipantEntry,
    ParticipantList,
    Programme,
    ProgrammeDocument,
    QuotaAllocation,
)
from .quotas import compute_category


class ProgrammeLoadRefused(Exception):
    """The file changed but the programme already has submissions."""


@dataclass(frozen=True)
class LoadOutcome:
    programme: Programme
    action: str  # "created", "updated", "unchanged"


# Submissions are held by the apps above (applications); each registers a function counting a
# programme's submissions, in its AppConfig.ready. A changed file is refused once there are any.
_submission_counters: list[Callable[[Programme], int]] = []


def register_submission_counter(counter: Callable[[Programme], int]) -> None:
    if counter not in _submission_counters:
        _submission_counters.append(counter)


def _has_submissions(programme: Programme) -> int:
    return sum(count(programme) for count in _submission_counters)


def open_now_shift(parsed: loader.ParsedFile, now: dt.datetime | None = None) -> int:
    """Days to add to every date of a programme so that it is open now (for demos).

    The window is placed so that it opened a week ago and has at least three weeks to run.
    """
    now = now or timezone.now()
    period = parsed.spec.period
    length = (period.closes_at - period.opens_at).days
    target_open = now - dt.timedelta(days=7)
    shift = (target_open - period.opens_at).days
    if length < 28:
        shift = (now + dt.timedelta(days=21) - period.closes_at).days
    return shift


@transaction.atomic
def programme_load(
    path: str | Path | None = None,
    *,
    actor: Actor,
    parsed: loader.ParsedFile | None = None,
    time_shift_days: int | None = None,
) -> LoadOutcome:
    """Create or update a programme from its file. Idempotent.

    Loading the same file twice changes nothing. A changed file updates a programme that
    has no submissions yet and is refused, with the reason, once it has them. Raises
    ProgrammeFileInvalid with every problem found.
    """
    if parsed is None:
        parsed = loader.parse_file(path)
    errors = loader.check_against_database(parsed)
    if errors:
        raise loader.ProgrammeFileInvalid(errors)
    spec = parsed.spec
    issuer = loader.issuer_for(spec)
    existing = Programme.objects.select_for_update().filter(code=spec.code).first()
    shift = (
        time_shift_days
        if time_shift_days is not None
        else (existing.time_shift_days if existing else 0)
    )
    if existing is not None and existing.source_sha256 == parsed.sha256:
        if existing.time_shift_days != shift:
            before = existing.time_shift_days
            existing.time_shift_days = shift
            existing.save(update_fields=["time_shift_days", "updated_at"])
            audit_record(
                actor=actor,
                action="programme.shift",
                obj=existing,
                before={"time_shift_days": before},
                after={"time_shift_days": shift},
            )
            return LoadOutcome(existing, "updated")
        return LoadOutcome(existing, "unchanged")
    if existing is not None:
        submitted = _has_submissions(existing)
        if submitted:
            raise ProgrammeLoadRefused(
                f"项目 {spec.code} 已有 {submitted} 份提交的申报，不能再修改项目文件；"
                "如需调整名额请使用名额调整功能（记录理由），其他修改请发布新项目。"
            )
    fields = {
        "title": spec.title,
        "kind": spec.kind,
        "issuer": issuer,
        "doc_no": spec.doc_no,
        "spec": spec.model_dump(mode="json"),
        "source_name": Path(parsed.name).name,
        "source_sha256": parsed.sha256,
        "source_text": parsed.text,
        "time_shift_days": shift,
    }
    if existing is None:
        programme = Programme.objects.create(code=spec.code, **fields)
        action = "created"
        before = None
    else:
        before = {
            "source_sha256": existing.source_sha256,
            "time_shift_days": existing.time_shift_days,
        }
        for k, v in fields.items():
            setattr(existing, k, v)
        existing.save()
        programme, action = existing, "updated"
    _store_notice_files(programme, parsed)
    for ref in spec.lists:
        ParticipantList.objects.get_or_create(
            code=ref.code, defaults={"title": ref.title, "description": ref.description}
        )
    quota_sync(programme)
    audit_record(
        actor=actor,
        action=f"programme.{action}",
        obj=programme,
        before=before,
        after={
            "source_sha256": parsed.sha256,
            "source_name": programme.source_name,
            "time_shift_days": shift,
        },
    )
    return LoadOutcome(programme, action)


def _store_notice_files(programme: Programme, parsed: loader.ParsedFile) -> None:
    """The notice's text and attachments as this version of the file declares them."""
    programme.documents.all().delete()
    ProgrammeDocument.objects.bulk_create(
        ProgrammeDocument(
            programme=programme,
            role=f.role,
            position=f.position,
            title=f.title,
            filename=f.filename,
            content_type=f.content_type,
            size=len(f.content),
            sha256=f.sha256,
            content=f.content,
        )
        for f in parsed.notice_files
    )


def quota_sync(programme: Programme) -> None:
    """Rewrite the computed and declared numbers of a programme's quota rows, keeping overrides."""
    spec = programme.parsed
    existing = {
        (a.category, a.level, a.holder_id, a.direct): a
        for a in QuotaAllocation.objects.filter(programme=programme)
    }
    fields = ["policy", "label", "basis", "computed", "declared", "derivation", "unlimited", "effective"]  # fmt: skip
    create, update, keep = [], [], set()
    # The derivation is stored (and printed on the quota PDF): in LANGUAGE_CODE, whoever syncs.
    with translation.override(settings.LANGUAGE_CODE):
        rows = [
            row
            for category in spec.categories
            for report in compute_category(category, programme.issuer)
            for row in report.rows
        ]
    for row in rows:
        key = (row.category, row.level, row.holder.pk, row.direct)
        alloc = existing.get(key)
        if alloc is None:
            alloc = QuotaAllocation(
                programme=programme,
                category=row.category,
                level=row.level,
                holder=row.holder,
                direct=row.direct,
            )
        before = [getattr(alloc, f) for f in fields]
        alloc.policy = row.policy
        alloc.label = row.label
        alloc.basis = row.basis
        alloc.computed = row.computed
        alloc.declared = row.declared
        alloc.derivation = row.derivation
        # An override is a number, so it ends "no limit" as well.
        alloc.unlimited = row.unlimited and alloc.override is None
        alloc.effective = alloc.override if alloc.override is not None else row.effective
        if alloc.pk is None:
            create.append(alloc)
        else:
            keep.add(alloc.pk)
            if [getattr(alloc, f) for f in fields] != before:
                update.append(alloc)
    QuotaAllocation.objects.bulk_create(create)
    QuotaAllocation.objects.bulk_update(update, fields)
    stale = [pk for key, a in existing.items() if (pk := a.pk) not in keep]
    QuotaAllocation.objects.filter(pk__in=stale).delete()


@transaction.atomic
def quota_override(
    *, allocation: QuotaAllocation, value: int | None, reason: str, actor: Actor
) -> QuotaAllocation:
    """Set (or clear, with ``value=None``) an admin override of one quota, with its reason."""
    reason = (reason or "").strip()
    if value is not None and value < 0:
        raise ValueError(_("名额不能为负数"))
    if not reason:
        raise ValueError(_("调整名额必须填写理由"))
    alloc = QuotaAllocation.objects.select_for_update().get(pk=allocation.pk)
    before = {
        "override": alloc.override,
        "effective": alloc.effective,
        "reason": alloc.override_reason,
    }
    alloc.override = value
    alloc.override_reason = reason
    alloc.overridden_by = actor.user
    alloc.overridden_at = timezone.now()
    if value is not None:
        alloc.effective = value
        alloc.unlimited = False
    alloc.save()
    if value is None:
        # Back to what the policy says.
        quota_sync(alloc.programme)
        alloc.refresh_from_db()
    audit_record(
        actor=actor,
        action="quota.override",
        obj=alloc,
        before=before,
        after={"override": value, "effective": alloc.effective, "reason": reason},
    )
    return alloc


@transaction.atomic
def quota_resync(*, programme: Programme, actor: Actor) -> list[dict]:
    """Recompute a programme's quotas from today's org tree (overrides kept), audited.

    Formula quotas count schools and counties; after a roster import the stored numbers
    may be stale. Returns the rows whose effective value changed.
    """
    Programme.objects.select_for_update().filter(pk=programme.pk).first()
    before = {
        (a.category, a.level, a.holder_id, a.direct): a.effective
        for a in QuotaAllocation.objects.filter(programme=programme)
    }
    quota_sync(programme)
    changed = []
    for a in QuotaAllocation.objects.filter(programme=programme).select_related("holder"):
        old = before.get((a.category, a.level, a.holder_id, a.direct))
        if old != a.effective:
            changed.append(
                {
                    "category": a.category,
                    "level": a.level,
                    "holder": a.holder.code,
                    "direct": a.direct,
                    "before": old,
                    "after": a.effective,
                }
            )
    if changed:
        audit_record(actor=actor, action="quota.resync", obj=programme, after={"changed": changed})
    return changed


# --- participant lists ---------------------------------------------------------------------


class ParticipantsImportInvalid(Exception):
    """The file has errors; nothing was imported. ``report`` names every bad row."""

    def __init__(self, report: ImportReport):
        super().__init__("\n".join(r.message for r in report.rows if r.action == "error"))
        self.report = report


@dataclass
class ImportRowResult:
    line: int | None
    org_ref: str
    action: str  # created, updated, unchanged, removed, error
    message: str = ""
    org: Org | None = None


@dataclass
class ImportReport:
    plist: ParticipantList
    rows: list[ImportRowResult] = field(default_factory=list)
    dry_run: bool = False

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def ok(self) -> bool:
        return self.count("error") == 0

    @property
    def changed(self) -> bool:
        return any(r.action in ("created", "updated", "removed") for r in self.rows)

    def summary(self) -> str:
        parts = [
            _("新增 %(count)s") % {"count": self.count("created")},
            _("更新 %(count)s") % {"count": self.count("updated")},
            _("未变 %(count)s") % {"count": self.count("unchanged")},
        ]
        if self.count("removed"):
            parts.append(_("移除 %(count)s") % {"count": self.count("removed")})
        if self.count("error"):
            parts.append(_("错误 %(count)s") % {"count": self.count("error")})
        return "，".join(parts)


def _list_candidates(refs: list[str]) -> dict[str, list[Org]]:
    """Every org whose code or name is one of ``refs`` (a few queries for thousands of rows)."""
    out: dict[str, list[Org]] = {}
    refs = sorted(set(refs))
    for i in range(0, len(refs), 500):
        chunk = refs[i : i + 500]
        matching = Org.objects.filter(Q(code__in=chunk) | Q(name__in=chunk))
        for o in matching.only("id", "code", "name", "path"):
            out.setdefault(o.code, []).append(o)
            if o.name != o.code:
                out.setdefault(o.name, []).append(o)
    return out


def _resolve_list_org(
    ref: str, candidates: list[Org], issuers: list[Org]
) -> tuple[Org | None, str]:
    org = next((o for o in candidates if o.code == ref), None)
    if org is None:
        matches = [o for o in candidates if o.name == ref]
        if not matches:
            return None, _("机构“%(ref)s”不存在（请使用机构代码或准确全称）") % {"ref": ref}
        if issuers and len(matches) > 1:
            inside = [m for m in matches if any(m.is_within(i) for i in issuers)]
            matches = inside or matches[:1]
        if len(matches) > 1:
            return None, _("机构名称“%(ref)s”不唯一，请改用机构代码") % {"ref": ref}
        org = matches[0]
    if issuers and not any(org.is_within(i) for i in issuers):
        where = "、".join(i.name for i in issuers)
        return None, _("机构“%(org)s”（%(code)s）不在%(where)s范围内") % {
            "org": org.name,
            "code": org.code,
            "where": where,
        }
    return org, ""


@transaction.atomic
def participants_import(
    *,
    plist: ParticipantList,
    rows: list[tables.ListRow],
    actor: Actor,
    replace: bool = False,
    dry_run: bool = False,
    source_name: str = "",
    source_sha256: str = "",
) -> ImportReport:
    """Bring a participant list in line with a file's rows. Idempotent; all or nothing.

    Each row names an org (code or exact name), a status and a note. Rows for orgs already
    on the list update status and note; with ``replace`` orgs missing from the file are
    removed. Any bad row refuses the whole file (ParticipantsImportInvalid) so a half-read
    list never decides anyone's eligibility.
    """
    from .selectors import list_issuers

    report = ImportReport(plist, dry_run=dry_run)
    issuers = list_issuers(plist)
    entries = plist.entries.select_for_update().select_related("org")
    existing = {
        e.org_id: e
        for e in entries.only("id", "plist", "org", "status", "note", "org__code", "org__name")
    }
    candidates = _list_candidates([r.org_ref for r in rows if r.org_ref])
    seen: dict[int, int] = {}
    planned: list[tuple[ImportRowResult, str, str]] = []
    for row in rows:
        result = ImportRowResult(row.line, row.org_ref, "error")
        report.rows.append(result)
        if not row.org_ref:
            result.message = _("第 %(line)s 行：机构为空") % {"line": row.line}
            continue
        if len(row.status) > 40:
            result.message = _("第 %(line)s 行：状态最长 40 个字符") % {"line": row.line}
            continue
        if len(row.note) > 300:
            result.message = _("第 %(line)s 行：备注最长 300 个字符") % {"line": row.line}
            continue
        org, problem = _resolve_list_org(row.org_ref, candidates.get(row.org_ref, []), issuers)
        if org is None:
            result.message = _("第 %(line)s 行：%(problem)s") % {
                "line": row.line,
                "problem": problem,
            }
            continue
        if org.pk in seen:
            result.message = _("第 %(line)s 行：与第 %(first_line)s 行是同一机构（%(org)s）") % {
                "line": row.line,
                "first_line": seen[org.pk],
                "org": org.name,
            }
            continue
        seen[org.pk] = row.line
        result.org = org
        entry = existing.get(org.pk)
        if entry is None:
            result.action = "created"
        elif (entry.status, entry.note) != (row.status, row.note):
            result.action = "updated"
            result.message = _("状态“%(status)s”→“%(new_status)s”") % {
                "status": entry.status,
                "new_status": row.status,
            }
        else:
            result.action = "unchanged"
        planned.append((result, row.status, row.note))
    if replace:
        for org_id, entry in existing.items():
            if org_id not in seen:
                report.rows.append(
                    ImportRowResult(
                        None, entry.org.code, "removed", _("文件中没有该机构"), entry.org
                    )
                )
    if not report.ok:
        raise ParticipantsImportInvalid(report)
    if dry_run or not report.changed:
        return report
    now = timezone.now()
    create, update = [], []
    for result, status, note in planned:
        if result.action == "created":
            create.append(
                ParticipantEntry(
                    plist=plist, org=result.org, status=status, note=note, imported_at=now
                )
            )
        elif result.action == "updated":
            entry = existing[result.org.pk]
            entry.status, entry.note, entry.imported_at = status, note, now
            update.append(entry)
    ParticipantEntry.objects.bulk_create(create, batch_size=1000)
    ParticipantEntry.objects.bulk_update(update, ["status", "note", "imported_at"], batch_size=1000)
    removed = [r.org.pk for r in report.rows if r.action == "removed"]
    if removed:
        ParticipantEntry.objects.filter(plist=plist, org_id__in=removed).delete()
    audit_record(
        actor=actor,
        action="participants.import",
        obj=plist,
        after={
            "source": source_name,
            "sha256": source_sha256,
            "replace": replace,
            **{
                action: [r.org.code for r in report.rows if r.action == action]
                for action in ("created", "updated", "removed")
            },
        },
    )
    return report
