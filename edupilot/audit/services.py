"""Writing and verifying the audit chain."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

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

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def audit_verify(batch_size: int = 5000) -> VerifyResult:
    """Walk the chain in id order and report the first event whose link does not hold."""
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
                    checked, event.pk, "prev_hash does not match the previous event"
                )
            if event.compute_hash() != event.hash:
                return VerifyResult(checked, event.pk, "content does not match its hash")
            prev = event.hash
            checked += 1
            last_id = event.pk
    return VerifyResult(checked)


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys that changed, for compact before/after records."""
    keys = set(before) | set(after)
    changed = {k for k in keys if before.get(k) != after.get(k)}
    return {k: before.get(k) for k in changed}, {k: after.get(k) for k in changed}
