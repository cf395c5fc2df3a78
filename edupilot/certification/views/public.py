"""The public list of certified schools: no login, no people, only final results."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from edupilot.core.public import PublicItem, clean_query

from .. import selectors
from ..models import Batch


def public_index(request):
    q = clean_query(request.GET.get("q"))
    return render(
        request,
        "certification/public_index.html",
        {"batches": selectors.public_batches_search(q)[:200], "q": q},
    )


def public_batch(request, code):
    try:
        batch = selectors.published_batches().get(code=code)
    except Batch.DoesNotExist as exc:
        raise Http404 from exc
    rows = selectors.public_list(batch)
    graded = any(r["grade"] for r in rows)
    return render(
        request,
        "certification/public_list.html",
        {"batch": batch, "rows": rows, "graded": graded},
    )


def section_items(q: str, limit: int) -> list[PublicItem]:
    """The portal's section of certified-school lists, one item per published batch."""
    return [
        PublicItem(
            title=b.name,
            url=reverse("certification_public:batch", args=[b.code]),
            meta=_("%(owner)s · 数据统计截止 %(cutoff)s")
            % {"owner": b.owner.name, "cutoff": b.cutoff.strftime("%Y-%m-%d")},
            when=b.published_at,
            badge=_("已公布"),
            badge_kind="ok",
        )
        for b in selectors.public_batches_search(q)[:limit]
    ]
