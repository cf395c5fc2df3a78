"""Where apps built on review plug into its rules, so that review never imports them.

The issuer's level may act on an application before it leaves RECOMMENDED (selection: expert
scoring, a pending approval decision); the levels below must then no longer withdraw their
recommendation, and the issuer must undo its own work before returning the application. Review
asks every registered check::

    register_issuer_check(fn)   # fn(application) -> "" or what the issuer has done

``edupilot.selection`` registers its check in ``SelectionConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable

IssuerCheck = Callable[[object], str]

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
