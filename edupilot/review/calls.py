"""The reviewer's three level actions as one service call each on an application, built once
for the pages (``views.py``) and the API (``api.py``) so that both pass the scope, the actor
and the form's fields to the service the same way."""

from __future__ import annotations

from collections.abc import Callable

from edupilot.applications.models import Application
from edupilot.audit.services import actor_from

from . import services
from .models import ReviewDecision

LEVEL_SERVICES = {
    "recommend": services.review_recommend,
    "return": services.review_return,
    "not_recommend": services.review_not_recommend,
}


def level_call(request, action: str, **fields) -> Callable[[Application], ReviewDecision]:
    """``call(application)``: the service of ``action`` (a key of :data:`LEVEL_SERVICES`) for
    the user of ``request``, with ``fields`` (``opinion`` and ``rank``, ``reasons``, or
    ``reason``)."""
    service = LEVEL_SERVICES[action]
    return lambda application: service(
        application=application, scope=request.scope, actor=actor_from(request), **fields
    )
