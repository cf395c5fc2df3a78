"""Top navigation, assembled from entries each app registers in its AppConfig.ready()."""

from collections.abc import Callable
from dataclasses import dataclass

from .links import url_or_none


@dataclass(frozen=True)
class NavEntry:
    url_name: str
    label: str  # a lazy translation
    roles: frozenset
    order: int = 100
    # A ``can_<verb>_<thing>(scope) -> (bool, reason)`` predicate for entries that a role
    # does not settle (a unit's reviewer has no region to see a dashboard of): no link to a
    # page that would answer 403.
    when: Callable | None = None


_ENTRIES: list[NavEntry] = []


def register(url_name: str, label, roles, order: int = 100, when: Callable | None = None) -> None:
    entry = NavEntry(url_name, label, frozenset(roles), order, when)
    if entry not in _ENTRIES:
        _ENTRIES.append(entry)


def items_for(request) -> list[dict]:
    role = getattr(getattr(request, "scope", None), "role", None)
    if role is None:
        return []
    out = []
    for e in sorted(_ENTRIES, key=lambda e: e.order):
        if role not in e.roles or (e.when is not None and not e.when(request.scope)[0]):
            continue
        url = url_or_none(e.url_name)
        if url is None:
            continue
        out.append({"url": url, "label": e.label, "active": False})
    # Only the entry with the longest URL prefix of the current path is the current page
    # (/review/ and /review/selection/ must not both light up).
    matches = [i for i in out if i["url"] != "/" and request.path.startswith(i["url"])]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    return out
