"""The public portal's sections (公开信息), assembled from what each app registers.

Each app that publishes something without login registers one :class:`PublicSection` per
kind of item in its ``AppConfig.ready()`` (as with :mod:`edupilot.core.navigation`)::

    from edupilot.core.public import PublicSection, register
    register(PublicSection("announcements", _("公示公告"), "selection_public:list",
                           items=public_items, order=20))

``items(q, limit)`` returns at most ``limit`` :class:`PublicItem` for the search text ``q``
("" for everything), newest first, and never a person's name, phone or e-mail. The portal
(``/``) shows a few of each; ``/public/`` shows more and searches them all.

The pilots app registers its achievement lists and cases (成果名单、典型案例) the same way:
this module knows no app, so a section appears once its app registers it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse

QUERY_MAX = 50  # characters of a search; more are cut off


@dataclass(frozen=True)
class PublicItem:
    title: str
    url: str
    meta: str = ""  # one line under the title: issuer, dates, counts
    when: dt.datetime | dt.date | None = None
    badge: str = ""  # a short state ("公示中")
    badge_kind: str = ""  # css class of the badge: ok, warn, err or ""


@dataclass(frozen=True)
class PublicSection:
    key: str
    title: str  # a lazy translation
    url_name: str  # the section's own full list
    items: Callable[[str, int], list[PublicItem]] = field(compare=False)
    order: int = 100
    intro: str = ""  # a lazy translation; one sentence under the title
    url_query: str = ""  # added to the list's URL ("state=closed")


_SECTIONS: dict[str, PublicSection] = {}


def register(section: PublicSection) -> None:
    """Add (or replace, by key) a section of the portal."""
    _SECTIONS[section.key] = section


def sections() -> list[PublicSection]:
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))


def clean_query(raw) -> str:
    """A search text fit for a LIKE query: no NUL (PostgreSQL refuses it), no control
    characters, spaces collapsed, at most :data:`QUERY_MAX` characters."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(raw or ""))
    return " ".join(text.split())[:QUERY_MAX]


def collect(q: str, limit: int) -> list[dict]:
    """Every section with its items for ``q`` (sections whose URL is gone are left out)."""
    out = []
    for s in sections():
        try:
            url = reverse(s.url_name) + (f"?{s.url_query}" if s.url_query else "")
        except NoReverseMatch:
            continue
        items = s.items(q, limit + 1)
        out.append(
            {
                "section": s,
                "url": url,
                "items": items[:limit],
                "more": len(items) > limit,
            }
        )
    return out
