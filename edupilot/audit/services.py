"""Writing and verifying the audit chain."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from .checkpoints import Checkpoint, checkpoint_write, checkpoints_read
from .models import GENESIS, AuditEvent

# Any constant works: it only has to be the same key for every writer of the chain.
_CHAIN_LOCK_KEY = 0x45445550  # "EDUP"


@dataclass(frozen=True)
class Actor:
    """Who did something, and from where. Services take this instead of a request."""

    user: Any = None
    org: Any = None
    ip: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls()

    @property
    def name(self) -> str:
        if self.user is None:
            return "system"
        return getattr(self.user, "username", "") or str(self.user)


def client_ip(request) -> str | None:
    # Behind a reverse proxy, configure it to set REMOTE_ADDR (see docs/deployment.md).
    return request.META.get("REMOTE_ADDR") or None


def actor_from(request) -> Actor:
    """The actor of a request: its user, the org of its active membership, its address.

    Here, beside Actor, so every app can build one without importing accounts."""
    membership = getattr(request, "membership", None)
    return Actor(
        user=request.user if request.user.is_authenticated else None,
        org=membership.org if membership is not None else None,
        ip=client_ip(request),
    )


def _jsonable(value):
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj=None,
    object_type: str = "",
    object_id: str | int = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain. Call inside the transaction of the change it records."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Serialise appenders so two transactions cannot both link to the same head.
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        head = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            created_at=timezone.now(),
            actor=actor.user if getattr(actor.user, "pk", None) else None,
            actor_name=actor.name,
            actor_org=actor.org if getattr(actor.org, "pk", None) else None,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            before=_jsonable(before),
            after=_jsonable(after),
            ip=actor.ip,
            handed_down=bool(getattr(actor.user, "handed_down_at", None)),
            prev_hash=head or GENESIS,
        )
        # Hash what the database will give back (microsecond-rounded time, JSON round trip).
        event.hash = event.compute_hash()
        event.save()
    return event


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken_id: int | None = None
    reason: str = ""
    checkpoints: int = 0  # how many signed checkpoints the chain was checked against

    @property
    def ok(self) -> bool:
        return not self.reason


def _check_at_checkpoint(event: AuditEvent, position: int, cp: Checkpoint) -> str:
    if cp.count != position:
        return (
            f"checkpoint of {cp.at} counted {cp.count} events up to id={cp.last_id}, "
            f"the chain has {position}: events were deleted or inserted before it"
        )
    if cp.head != event.hash:
        return (
            f"hash of event id={event.pk} differs from the checkpoint of {cp.at}: "
            "the chain was rewritten and recomputed at or before this event"
        )
    return ""


def _missing_anchors(pending: dict[int, list[Checkpoint]], checked: int, last_id: int) -> str:
    """The first checkpoint whose event was never reached, as a message ("" when none)."""
    if not pending:
        return ""
    cp = min((c for cps in pending.values() for c in cps), key=lambda c: c.last_id)
    if cp.last_id > last_id:
        return (
            f"the chain ends after {checked} events (id={last_id or '-'}), but the checkpoint "
            f"of {cp.at} counted {cp.count} events up to id={cp.last_id}: "
            "the newest events were deleted"
        )
    return (
        f"event id={cp.last_id}, recorded by the checkpoint of {cp.at}, is missing: it was deleted"
    )


def audit_verify(batch_size: int = 5000, *, checkpoint: bool = False) -> VerifyResult:
    """Walk the chain in id order, checking each link and every signed checkpoint.

    Reports the first event whose link does not hold, or the first checkpoint the chain
    contradicts (a truncated tail, a recomputed chain). ``checkpoint``: when the chain holds,
    sign and append a checkpoint of it (``audit verify`` and the periodic task do).
    """
    cps, bad = checkpoints_read()
    if bad:
        return VerifyResult(0, None, bad[0])
    pending: dict[int, list[Checkpoint]] = {}
    for cp in cps:
        pending.setdefault(cp.last_id, []).append(cp)
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.prev_hash != prev:
                return VerifyResult(
                    checked,
                    event.pk,
                    f"event id={event.pk}: prev_hash does not match the previous event "
                    "(an event before it was deleted or altered)",
                )
            if event.compute_hash() != event.hash:
                return VerifyResult(
                    checked,
                    event.pk,
                    f"event id={event.pk}: content does not match its hash (the row was edited)",
                )
            checked += 1
            for cp in pending.pop(event.pk, ()):
                problem = _check_at_checkpoint(event, checked, cp)
                if problem:
                    return VerifyResult(checked - 1, event.pk, problem)
            prev = event.hash
            last_id = event.pk
    problem = _missing_anchors(pending, checked, last_id)
    if problem:
        return VerifyResult(checked, None, problem)
    if checkpoint:
        checkpoint_write(count=checked, last_id=last_id, head=prev)
    return VerifyResult(checked, checkpoints=len(cps))


def audit_checkpoint() -> VerifyResult:
    """Check the events added since the newest checkpoint, then sign a new one.

    Cheap enough to run every few minutes: the older part of the chain is anchored by the
    checkpoint (its hash covers every event before it) and fully walked by ``audit verify``.
    """
    cps, bad = checkpoints_read()
    if bad:
        return VerifyResult(0, None, bad[0])
    if not cps:
        return audit_verify(checkpoint=True)
    cp = max(cps, key=lambda c: c.last_id)
    anchor = AuditEvent.objects.filter(pk=cp.last_id).first()
    position = AuditEvent.objects.filter(pk__lte=cp.last_id).count()
    if anchor is None:
        newest = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        return VerifyResult(0, None, _missing_anchors({cp.last_id: [cp]}, position, newest))
    problem = _check_at_checkpoint(anchor, position, cp)
    if problem:
        return VerifyResult(0, anchor.pk, problem)
    prev, checked, last_id = anchor.hash, position, anchor.pk
    for event in AuditEvent.objects.filter(id__gt=cp.last_id).order_by("id").iterator(2000):
        if event.prev_hash != prev or event.compute_hash() != event.hash:
            return VerifyResult(checked, event.pk, f"event id={event.pk}: the chain is broken")
        prev, checked, last_id = event.hash, checked + 1, event.pk
    checkpoint_write(count=checked, last_id=last_id, head=prev)
    return VerifyResult(checked, checkpoints=1)


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys that changed, for compact before/after records."""
    keys = set(before) | set(after)
    changed = {k for k in keys if before.get(k) != after.get(k)}
    return {k: before.get(k) for k in changed}, {k: after.get(k) for k in changed}
