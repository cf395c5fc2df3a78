"""One error base class for every refused action.

Services raise :class:`Refused` (or a subclass) with a message in Chinese that says why; a page
shows the message and keeps what the user typed, the API answers 400 with it. :class:`Denied`
is a refusal because of who acts (403 on pages and in the API). Both are mapped once: pages in
``edupilot.core.actions`` and ``edupilot.core.middleware.RefusedMiddleware``, the API in
``edupilot.api.api``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _


class Refused(Exception):
    """An action that is not allowed now; ``message`` (Chinese) says why.

    ``errors`` maps form field names to their messages where the refusal is about fields.
    """

    status = 400

    def __init__(self, message: str = "", errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = str(message)
        self.errors = errors or {}

    def __str__(self) -> str:
        return self.message


class Denied(Refused):
    """Refused because of who acts: the scope may not take this action on this object."""

    status = 403


def check(result: tuple[bool, str], exc: type[Refused] = Denied) -> None:
    """Raise ``exc`` with the predicate's reason when a ``can_…`` predicate says no."""
    ok, reason = result
    if not ok:
        raise exc(reason)


def first_refusal(who: tuple[bool, str], *refusals: tuple[bool, str]) -> tuple[bool, str]:
    """A ``can_…`` predicate's answer: ``who`` may act (else its reason), then the first of
    ``(refused, reason)`` that holds now; ``(True, "")`` when none does."""
    if not who[0]:
        return who
    for refused, reason in refusals:
        if refused:
            return False, reason
    return True, ""


def posted_text(
    value: str | None,
    *,
    field: str,
    label: str,
    limit: int,
    exc: type[Refused] = Refused,
    required: str = "",
) -> str:
    """A typed text without NUL and surrounding space; ``exc`` (naming ``field``) refuses it
    when longer than ``limit`` ("<label>最多 N 字") or, ``required`` naming it, when empty.

    ``label`` and ``required`` are shown to the user: pass them through gettext."""
    text = (value or "").replace("\x00", "").strip()
    if required and not text:
        raise exc(
            _("请填写%(what)s。") % {"what": required},
            {field: [_("请填写%(what)s") % {"what": required}]},
        )
    if len(text) > limit:
        raise exc(
            _("%(label)s最多 %(limit)s 字。") % {"label": label, "limit": limit},
            {field: [_("最多 %(limit)s 字") % {"limit": limit}]},
        )
    return text
