"""Keyed checkpoints of the audit chain, kept outside the database.

The hash chain alone shows an edited or deleted row in the middle, but not two attacks by
someone who can write the database: deleting the newest events (the rest still links up) and
rewriting a row then recomputing every later hash (the chain links up again). A checkpoint
records, at some moment, how many events the chain had, the id of the newest and its hash,
signed with HMAC-SHA256 under a key that is not in the database (``EDUPILOT_AUDIT_KEY`` or
the file ``EDUPILOT_AUDIT_KEY_FILE``). ``audit verify`` checks every checkpoint against the
chain: fewer events than a checkpoint counted is a truncated tail, a different hash at a
checkpointed event is a rewritten chain. Without the key nobody can write a checkpoint that
matches a doctored chain.

Checkpoints are lines of JSON appended to ``EDUPILOT_AUDIT_CHECKPOINTS`` (by default in the
data directory), written by the periodic task and at each ``audit verify`` whose chain holds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone


@dataclass(frozen=True)
class Checkpoint:
    at: str
    count: int
    last_id: int
    head: str
    line: int = 0  # where in the file, for messages


def _key() -> bytes:
    key = getattr(settings, "EDUPILOT_AUDIT_KEY", "")
    if key:
        return key.encode()
    path = Path(settings.EDUPILOT_AUDIT_KEY_FILE)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _mac(at: str, count: int, last_id: int, head: str) -> str:
    message = f"edupilot-audit-checkpoint|{at}|{count}|{last_id}|{head}".encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def _path() -> Path:
    return Path(settings.EDUPILOT_AUDIT_CHECKPOINTS)


def checkpoint_write(*, count: int, last_id: int, head: str, now: dt.datetime | None = None):
    """Append one signed checkpoint; a chain with no events needs none."""
    if count <= 0:
        return None
    at = (now or timezone.now()).isoformat()
    record = {"at": at, "count": count, "last_id": last_id, "head": head}
    record["mac"] = _mac(at, count, last_id, head)
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # One write of one short line to a file opened for appending: writers do not interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
    return Checkpoint(at=at, count=count, last_id=last_id, head=head)


def checkpoints_read() -> tuple[list[Checkpoint], list[str]]:
    """The checkpoints whose signature holds, and a message for each line that does not."""
    path = _path()
    if not path.exists():
        return [], []
    good: list[Checkpoint] = []
    bad: list[str] = []
    for n, raw in enumerate(path.read_text().splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            r = json.loads(raw)
            cp = Checkpoint(
                at=str(r["at"]),
                count=int(r["count"]),
                last_id=int(r["last_id"]),
                head=str(r["head"]),
                line=n,
            )
            mac = str(r["mac"])
        except (ValueError, KeyError, TypeError):
            bad.append(f"checkpoint file line {n} is unreadable")
            continue
        if not hmac.compare_digest(mac, _mac(cp.at, cp.count, cp.last_id, cp.head)):
            bad.append(
                f"checkpoint file line {n} has a wrong signature "
                "(forged, or written under another key)"
            )
            continue
        good.append(cp)
    return good, bad
