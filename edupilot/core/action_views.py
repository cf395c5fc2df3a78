"""A page action on one object, declared instead of written out.

Most POST actions of the pages are the same five steps: log-in required, POST only, fetch the
object of the URL through the scope (``selectors.access_*``: 404 outside it), call one
service on it with the scope and the actor, then :func:`~edupilot.core.actions.run_action`'s
message and redirect. :func:`object_action` writes those steps once; see
``selection/views.py`` (``announcement_close``) or ``certification/views/batches.py``
(``batch_freeze``) for declared actions.

An action that reads more than a few text fields, or checks its form first, stays a function
that calls :func:`run_action` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_POST

from edupilot.audit.services import actor_from

from .actions import confirm_page, confirmed, run_action

Posted = Sequence[str] | Mapping[str, Callable[[str], Any]]


def posted_values(post, posted: Posted) -> dict[str, Any]:
    """The named POST fields: the text ("" when absent), or with a mapping ``name: parse``,
    ``parse(text)`` (a number, a date, a checkbox)."""
    parse = posted if isinstance(posted, Mapping) else dict.fromkeys(posted, str)
    return {name: read(post.get(name, "")) for name, read in parse.items()}


def object_action(
    access: Callable[[Any, Any], Any],
    service: Callable[..., Any],
    field: str,
    *,
    success: str | Callable[[Any], str] | None,
    back: Callable[[Any], str],
    done: str | Callable[[Any], str] | None = None,
    posted: Posted = (),
    guard: Callable[[Any], None] | None = None,
    run: Callable[..., Any] = run_action,
    confirm: Callable[[Any], dict] | None = None,
):
    """The view of a POST action on the object the URL names (its one argument).

    ``guard(request)`` runs first when given (it raises to refuse); ``access(scope, id)``
    fetches the object; ``service(<field>=obj, <each of posted>=its value (see
    :func:`posted_values`), scope=…, actor=…)`` acts on it through ``run`` (:func:`run_action`
    or a wrapper of it with the same arguments), which goes ``back(obj)`` on refusal and to ``done`` (default:
    back) with ``success`` otherwise.

    ``confirm(obj)``: the action is asked about first: a POST without ``confirm=yes`` gets
    :func:`~edupilot.core.actions.confirm_page` with what ``confirm(obj)`` returns (title,
    question, confirm_label, points) and acts on nothing.
    """

    @login_required
    @require_POST
    def view(request, *args, **kwargs):
        if guard is not None:
            guard(request)
        (ident,) = (*args, *kwargs.values())
        obj = access(request.scope, ident)
        if confirm is not None and not confirmed(request):
            return confirm_page(request, back=back(obj), keep=tuple(posted), **confirm(obj))
        fields = posted_values(request.POST, posted)
        return run(
            request,
            lambda: service(
                **{field: obj}, **fields, scope=request.scope, actor=actor_from(request)
            ),
            success=success,
            back=back(obj),
            done=done,
        )

    return view
