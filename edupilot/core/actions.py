"""The POST-action skeleton of every page, written once.

A page action calls one service; a :class:`~edupilot.core.errors.Denied` becomes 403, any
other :class:`~edupilot.core.errors.Refused` becomes an error message on the page the user
came from, and success a message and a redirect::

    def adopt():
        standard = selectors.standard_chosen(request.POST.get("standard"))
        if standard is None:
            raise Refused("请选择认定标准")
        return services.batch_adopt_standard(batch=batch, standard=standard, ...)

    return run_action(request, adopt, success="已选用", back=batch_url(batch))

The common case, one service on the object of the URL, is declared with
:func:`edupilot.core.action_views.object_action` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from .errors import Denied, Refused


def safe_back(request, default: str) -> str:
    """The ``next`` field of the form when it points into this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def run_action(
    request,
    call: Callable[[], Any],
    *,
    success: str | Callable[[Any], str] | None,
    back: str,
    done: str | Callable[[Any], str] | None = None,
):
    """Run ``call``; redirect to ``done`` (or ``back``) with ``success``, or to ``back`` with
    the refusal's message. 403 when the refusal is about who acts."""
    try:
        result = call()
    except Denied as exc:
        raise PermissionDenied(exc.message) from exc
    except Refused as exc:
        messages.error(request, exc.message)
        return redirect(safe_back(request, back))
    if success:
        messages.success(request, success(result) if callable(success) else success)
    target = done(result) if callable(done) else done
    return redirect(target or safe_back(request, back))


# --- confirmation -----------------------------------------------------------------------------

CONFIRM_FIELD = "confirm"


def confirmed(request) -> bool:
    """Whether the POST comes from the confirmation page's button (``confirm=yes``)."""
    return request.POST.get(CONFIRM_FIELD) == "yes"


def confirm_page(
    request,
    *,
    title: str,
    question: str,
    confirm_label: str,
    back: str,
    points: list[str] | None = None,
    keep: tuple[str, ...] = (),
):
    """The page that asks before an action that cannot be taken back (withdraw, publish).

    Without inline JS (the CSP forbids it): the page's form posts to the same URL again with
    the fields ``keep`` names and ``confirm=yes``; 返回 is a link back. Both are ordinary
    controls, reached with the keyboard. The view calls this when :func:`confirmed` is false.
    """
    hidden = [(name, request.POST.get(name, "")) for name in keep]
    return render(
        request,
        "core/confirm.html",
        {
            "title": title,
            "question": question,
            "points": points or [],
            "confirm_label": confirm_label,
            "action": request.path,
            "hidden": hidden,
            "back": safe_back(request, back),
        },
    )
