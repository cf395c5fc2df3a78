"""The refusals of selection: a message in Chinese for the screen, ``errors`` naming fields."""

from __future__ import annotations

from edupilot.core.errors import Denied, Refused


class SelectionError(Refused):
    """A refused selection action; ``message`` is shown as is, ``errors`` name fields.

    When one is raised nothing has changed.
    """


class SelectionDenied(SelectionError, Denied):
    """Refused because of who acts (not the issuer's programme admin, not the assigned
    expert): 403 on a page, and still a :class:`SelectionError` for callers that catch those."""
