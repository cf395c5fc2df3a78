"""Where apps built on review plug into its rules, so that review never imports them.

The issuer's level may act on an application before it leaves RECOMMENDED (selection: expert
scoring, a pending approval decision); the levels below must then no longer withdraw their
recommendation, and the issuer must undo its own work before returning the application. Review
asks every registered check::

    register_issuer_check(fn)   # fn(application) -> "" or what the issuer has done

An answer that is a decision (not only experts arranged) is an ``IssuerAct`` of kind
``DECIDED``: returning the application then needs the decision undone first. Review tells the
kinds apart by that mark, never by the message's words (which are translated).

``edupilot.selection`` registers its check in ``SelectionConfig.ready()``.

A ``confirm_ratio`` set rule (``[[categories.set_rules]]``) bounds what the issuer confirms by
how many the org recommended, so a recommendation that stops counting (withdrawn, returned
from above) must not leave the issuer with more confirmed than the ratio allows. Review asks::

    register_confirmed_count(fn)   # fn(programme_id, category, application ids) -> how many
                                   # of them the issuer has approved or is approving
"""

from __future__ import annotations

from collections.abc import Callable

IssuerCheck = Callable[[object], str]

DECIDED = "decided"


class IssuerAct(str):
    """What the issuer has done, as the message shown (a str), with its ``kind``."""

    kind: str

    def __new__(cls, message: str, kind: str) -> IssuerAct:
        obj = super().__new__(cls, message)
        obj.kind = kind
        return obj


_issuer_checks: list[IssuerCheck] = []


def register_issuer_check(check: IssuerCheck) -> IssuerCheck:
    if check not in _issuer_checks:
        _issuer_checks.append(check)
    return check


def issuer_acted(application) -> str:
    """The first registered check's answer that is not empty, or ""."""
    for check in _issuer_checks:
        why = check(application)
        if why:
            return why
    return ""


ConfirmedCount = Callable[[int, str, list[int]], int]

_confirmed_counts: list[ConfirmedCount] = []


def register_confirmed_count(count: ConfirmedCount) -> ConfirmedCount:
    if count not in _confirmed_counts:
        _confirmed_counts.append(count)
    return count


def confirmed_count(programme_id: int, category: str, application_ids: list[int]) -> int:
    """How many of ``application_ids`` the issuer has confirmed (0 without selection)."""
    return max(
        (count(programme_id, category, application_ids) for count in _confirmed_counts), default=0
    )
