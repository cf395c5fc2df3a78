"""The one Application locker, and the global lock order every service keeps.

A service that changes several kinds of rows takes their locks in this order, so that two
services never wait on each other in a cycle (no deadlock) on PostgreSQL:

1. the programme row, where a service acts on a whole programme (selection: deciding in
   bulk, publishing or closing an announcement) — before any application;
2. applications, by id ascending — :func:`lock_applications` / :func:`lock_application`;
3. review levels, by key ``(programme, category, level, org)`` — ``review.locks`` (PostgreSQL
   advisory transaction locks; they serialise rank changes within a level);
   then the recommendation sets of ``[[categories.set_rules]]``, by key ``(programme,
   category, tier, org)`` — ``review.sets.lock_sets`` (advisory locks as well);
4. quota rows, sorted by bucket key — ``review.quotas.quota_state(..., lock=True)``;
5. rows that belong to an application (assignments, decisions, announcement entries,
   objections);
6. the audit chain — ``audit_record`` takes it last, in every service.

Application rows are locked alone (``of=("self",)``): locking the joined programme row too
would make every action in a programme wait for every other. SQLite serialises writers, so
these locks matter on PostgreSQL, where the concurrency tests run.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import Application

DEFAULT_RELATED = ("programme", "applicant_org")


def lock_applications(ids: Iterable[int], *related: str) -> dict[int, Application]:
    """Lock the applications ``ids`` in id order; by id. Missing ids are simply absent."""
    rows = (
        Application.objects.select_for_update(of=("self",))
        .select_related(*(related or DEFAULT_RELATED))
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
    )
    return {a.pk: a for a in rows}


def lock_application(application: Application, *related: str) -> Application:
    """Lock one application (raises ``Application.DoesNotExist`` if it is gone)."""
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related(*(related or DEFAULT_RELATED))
        .get(pk=application.pk)
    )
