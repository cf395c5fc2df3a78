"""What the certification pages share."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from edupilot.core.errors import Denied, Refused

from .. import selectors


def refused(request, reason: str, status: int = 403):
    """A page that cannot be shown, saying why (a certificate for a school not certified)."""
    return render(request, "certification/refused.html", {"reason": reason}, status=status)


def is_bureau(request) -> bool:
    return request.scope.is_reviewer or request.scope.is_platform_admin


def bureau_batch(request, pk):
    """The batch ``pk`` for a page only education bureaus see; 404 for anyone else."""
    batch = selectors.access_batch(request.scope, pk)
    if not is_bureau(request):
        raise Http404
    return batch


def batch_url(batch) -> str:
    return reverse("certification:batch_detail", args=[batch.pk])


def entry_url(entry_id: int) -> str:
    return reverse("certification:entry_detail", args=[entry_id])


def form_submit(form, call):
    """Run ``call`` for a valid ``form``: its result, or None when the service refused, with
    the reason as the form's error (the page shows it and keeps what was typed). A refusal
    because of who acts goes on and becomes 403."""
    try:
        return call()
    except Denied:
        raise
    except Refused as exc:
        form.add_error(None, exc.message)
        return None


def form_errors(form) -> str:
    return "；".join(e for es in form.errors.values() for e in es)


def cleaned(form, problem: str) -> dict:
    """The data of a valid ``form``; else a refusal saying ``problem`` and what is wrong."""
    if not form.is_valid():
        raise Refused(problem + form_errors(form))
    return form.cleaned_data
