"""Writes for programmes: loading files, syncing quota tables, overrides."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from edupilot.audit.services import Actor, audit_record

from . import loader
from .models import ParticipantList, Programme, QuotaAllocation
from .quotas import compute_category


class ProgrammeLoadRefused(Exception):
    """The file changed but the programme already has submissions."""


@dataclass(frozen=True)
class LoadOutcome:
    programme: Programme
    action: str  # "created", "updated", "unchanged"


def _has_submissions(programme: Programme) -> int:
    from edupilot.applications.models import ApplicationVersion

    return ApplicationVersion.objects.filter(application__programme=programme).count()


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


def quota_sync(programme: Programme) -> None:
    """Rewrite the computed and declared numbers of a programme's quota rows, keeping overrides."""
    spec = programme.parsed
    keep = set()
    for category in spec.categories:
        for report in compute_category(category, programme.issuer):
            for row in report.rows:
                alloc, _ = QuotaAllocation.objects.get_or_create(
                    programme=programme,
                    category=row.category,
                    level=row.level,
                    holder=row.holder,
                    direct=row.direct,
                    defaults={"policy": row.policy},
                )
                alloc.policy = row.policy
                alloc.label = row.label
                alloc.basis = row.basis
                alloc.computed = row.computed
                alloc.declared = row.declared
                alloc.derivation = row.derivation
                alloc.unlimited = row.unlimited
                alloc.effective = alloc.override if alloc.override is not None else row.effective
                alloc.save()
                keep.add(alloc.pk)
    QuotaAllocation.objects.filter(programme=programme).exclude(pk__in=keep).delete()


@transaction.atomic
def quota_override(
    *, allocation: QuotaAllocation, value: int | None, reason: str, actor: Actor
) -> QuotaAllocation:
    """Set (or clear, with ``value=None``) an admin override of one quota, with its reason."""
    reason = (reason or "").strip()
    if value is not None and value < 0:
        raise ValueError("名额不能为负数")
    if not reason:
        raise ValueError("调整名额必须填写理由")
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
