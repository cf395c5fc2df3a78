"""Scoped reads for the documents pages (the index of what a scope can download)."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q

from edupilot.applications.models import AppState
from edupilot.applications.selectors import applications_for
from edupilot.orgs.scoping import Scope
from edupilot.programmes.selectors import programmes_for
from edupilot.review.models import ReviewAction, ReviewDecision
from edupilot.selection.models import Announcement

from . import quotas, summaries


def document_index(scope: Scope) -> list[dict]:
    """Programme by programme: its summary tables, quota table, counts and announcements."""
    programmes = summaries.document_programmes(scope)
    quota_codes = set(programmes_for(scope).values_list("code", flat=True))
    my_tier = summaries.TIER_ORDER.get(scope.org_tier or "", -1)
    mine = ReviewDecision.objects.filter(
        application=OuterRef("pk"), org_id=scope.org_id, active=True, action=ReviewAction.RECOMMEND
    )
    counts = {
        r["programme_id"]: r
        for r in applications_for(scope)
        .filter(programme__in=programmes)
        .values("programme_id")
        .annotate(
            pending=Count(
                "pk",
                filter=Q(
                    current_org_id=scope.org_id,
                    state__in=[AppState.SUBMITTED, AppState.RECOMMENDED],
                ),
            ),
            passed=Count("pk", filter=Q(Exists(mine))),
        )
        .order_by()
    }
    announced: dict[int, list] = {}
    for a in Announcement.objects.filter(programme__in=programmes).order_by("-published_at"):
        announced.setdefault(a.programme_id, []).append(a)
    items = []
    for p in programmes:
        tables = []
        for spec in summaries.summary_specs(p):
            level_tier = summaries.TIER_ORDER[spec.tier]
            lower = summaries.reviewing_orgs(scope, spec)
            own = next((r for r in lower if r.org_id == scope.org_id), None)
            tables.append(
                {
                    "spec": spec,
                    "own": own is not None or my_tier == level_tier,
                    "own_rows": own.rows if own else 0,
                    "above": scope.is_platform_admin or my_tier > level_tier,
                    "lower": [r for r in lower if r.org_id != scope.org_id],
                    "total": sum(r.rows for r in lower),
                }
            )
        c = counts.get(p.pk, {})
        items.append(
            {
                "programme": p,
                "tables": tables,
                "quotas": p.code in quota_codes and quotas.has_quotas(p),
                "categories": p.parsed.categories,
                "pending": c.get("pending", 0),
                "passed": c.get("passed", 0),
                "announcements": announced.get(p.pk, []),
            }
        )
    return items
