"""The public list of certified schools: no login, no people, only final results."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from .. import selectors
from ..models import Batch


def public_index(request):
    return render(
        request, "certification/public_index.html", {"batches": selectors.published_batches()}
    )


def public_batch(request, code):
    try:
        batch = selectors.published_batches().get(code=code)
    except Batch.DoesNotExist as exc:
        raise Http404 from exc
    rows = selectors.public_list(batch)
    return render(request, "certification/public_list.html", {"batch": batch, "rows": rows})
