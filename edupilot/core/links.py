"""The site's URLs reversed once per process (per URLconf and script prefix), not on every
use: a reverse walks the resolver each time (~30 µs), and a page writes a dozen or two —
the navigation's entries, the application page's links and buttons."""

from __future__ import annotations

from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

# Numbers no URL of the site contains, reversed in place of an object's keys.
_PLACEHOLDERS = (987654321, 987654322)
# (URLconf, script prefix, name, number of keys, escaped) -> the URL as a format string, or
# None where the name does not reverse.
_URLS: dict[tuple, str | None] = {}


def _pattern(name: str, n_keys: int, escaped: bool) -> str | None:
    key = (get_urlconf(), get_script_prefix(), name, n_keys, escaped)
    if key not in _URLS:
        try:
            found = reverse(name, args=_PLACEHOLDERS[:n_keys])
        except NoReverseMatch:
            found = None
        if found is not None:
            if escaped:
                found = str(conditional_escape(found))
            found = found.replace("{", "{{").replace("}", "}}")
            for i, placeholder in enumerate(_PLACEHOLDERS[:n_keys]):
                found = found.replace(str(placeholder), f"{{{i}}}")
        if len(_URLS) > 512:
            _URLS.clear()
        _URLS[key] = found
    return _URLS[key]


def url_or_none(name: str) -> str | None:
    """``reverse(name)`` for a URL without arguments, None where it does not reverse."""
    found = _pattern(name, 0, escaped=False)
    return None if found is None else found.format()


def url(name: str, *keys: int) -> str:
    """``reverse(name, args=keys)``, escaped for HTML, for a URL taking integer keys (the
    numbers are put into the pattern reversed once); NoReverseMatch as ``reverse`` raises."""
    found = _pattern(name, len(keys), escaped=True)
    if found is None:
        raise NoReverseMatch(name)
    return found.format(*(int(k) for k in keys))
