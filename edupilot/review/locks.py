"""Row locks of the review services, always taken in one global order
(``edupilot.applications.locks`` writes the whole order down).

Every service that changes applications takes its locks in this order, so that two of them
never wait on each other (no deadlock), on PostgreSQL and SQLite alike:

1. applications, by id (``lock_applications``; ``select_for_update`` of the application rows
   only, not of the joined programme);
2. review levels, by key ``(programme, category, level, org)`` (``lock_levels``: PostgreSQL
   advisory transaction locks; SQLite serialises writers anyway) — for ranks;
3. recommendation sets of ``[[categories.set_rules]]``, by key (``sets.lock_sets``: advisory
   transaction locks on PostgreSQL), taken by a recommendation, by a withdrawal or a return
   that takes one out of a ``confirm_ratio`` set (``sets.check_leaving``), and by the
   issuer's approval (after the programme row and the applications: selection/sets.py);
4. quota rows, by bucket key, sorted (``quotas.quota_state(..., lock=True)``);
5. the audit chain (``audit_record`` takes it last).

Selection's services lock the application first too (``selection.rules.lock_application``),
then the programme or their own rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from django.db import connection
from django.db.models import F, Q
from django.utils.translation import gettext as _

from edupilot.applications.locks import lock_applications
from edupilot.applications.models import Application

from .models import ReviewAction, ReviewDecision
from .permissions import ReviewError

# --- locks ---------------------------------------------------------------------------------


def _lock_applications(ids: Sequence[int]) -> dict[int, Application]:
    return lock_applications(ids)


def _lock_one(application: Application) -> Application:
    locked = _lock_applications([application.pk]).get(application.pk)
    if locked is None:
        raise ReviewError(_("申报不存在。"))
    return locked


LevelKey = tuple[int, str, str, int]  # programme, category, level key, org


def advisory_locks(namespace: str, keys) -> None:
    """Transaction advisory locks on ``keys`` of ``namespace``, in sorted order (PostgreSQL;
    SQLite serialises writers anyway)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        for key in sorted(set(keys)):
            digest = hashlib.blake2b(repr((namespace, *key)).encode(), digest_size=8).digest()
            cur.execute(
                "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)]
            )


def _lock_levels(keys) -> None:
    """Serialise rank changes of the same review level."""
    advisory_locks("review-level", keys)


def _level_key(application: Application, step: int) -> LevelKey:
    info = application.chain[step]
    return (application.programme_id, application.category, info["level"], info["org"])


def level_q(key: LevelKey) -> Q:
    """The active recommendations of one review level (its ranks)."""
    programme_id, category, level, org_id = key
    return Q(
        programme_id=programme_id,
        category=category,
        level=level,
        org_id=org_id,
        active=True,
        action=ReviewAction.RECOMMEND,
    )


def level_recommendations(key: LevelKey):
    return ReviewDecision.objects.filter(level_q(key))


def _deactivate(decisions: list[ReviewDecision], reason: str, now: dt.datetime) -> None:
    """Stop recommendations counting and close the gaps they leave in their levels' ranks."""
    for d in decisions:
        d.active = False
        d.deactivated_at = now
        d.deactivated_reason = reason
        d.save(update_fields=["active", "deactivated_at", "deactivated_reason"])
        if d.action == ReviewAction.RECOMMEND and d.rank is not None:
            key = (d.programme_id, d.category, d.level, d.org_id)
            level_recommendations(key).filter(rank__gt=d.rank).update(rank=F("rank") - 1)
