"""What the tags that write HTML from Python share with the templates they replaced:
``{{ value }}``'s escaping and ``{{ moment|date:"Y-m-d H:i" }}``'s local time."""

from __future__ import annotations

import datetime as dt
from html import escape as _escape

from django.utils import timezone


def escape(value) -> str:
    """``{{ value }}`` under autoescape: a value already safe as it is, any other escaped (the
    standard library's escape, what Django's calls, without its lazy wrapper)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return _escape(str(value), quote=True)


def local_minute(moment: dt.datetime | None) -> str:
    """``moment|date:"Y-m-d H:i"`` in the current time zone; "" for none."""
    if not moment:
        return ""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%d %H:%M")
