"""What input may hold, in one place: which characters a text may carry, how long each kind of
value may be, and how far a list may be paged.

Control characters (NUL and the other C0 codes except tab, line feed and carriage return, DEL,
and the lone surrogates JSON can carry) are what PostgreSQL refuses or what no keyboard types.
Pages: :class:`edupilot.core.middleware.InputCleaningMiddleware` removes them from every GET
and POST value before a view runs, so a save goes through on both databases with what the
user sees (Word's line and page breaks become line breaks). The API refuses them with a
400 naming the field, and its schemas bound every string with the lengths below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
# Word's manual line break (vertical tab) and page break: kept as a line break.
SOFT_BREAKS = re.compile("[\x0b\x0c]")

CONTROL_MESSAGE = _("含有不可见的控制字符（如 NUL），请删除后再提交")

# Length bounds, in characters, per kind of value.
KEY = 64  # a code, a key, a choice value
SHORT = 300  # a name, a title, a contact (the widest CharField of the models)
QUERY = 200  # a search box
LONG = 20_000  # an opinion, reasons, a note
DOCUMENT = 200_000  # a long text of an application form (its 汉字 count is checked apart)

# Lists: rows per API page and how far one may page.
MAX_LIMIT = 500
MAX_OFFSET = 10_000_000
MAX_PAGE = 1_000_000


def has_control_chars(value: str) -> bool:
    return bool(CONTROL_CHARS.search(value) or SOFT_BREAKS.search(value))


def clean_text(value: str) -> str:
    """``value`` without control characters (Word's soft breaks become line breaks)."""
    if not has_control_chars(value):
        return value
    return CONTROL_CHARS.sub("", SOFT_BREAKS.sub("\n", value))


def find_control_chars(value: Any, loc: tuple = ()) -> list[tuple]:
    """Where in a JSON value (keys included) a string holds a control character."""
    found: list[tuple] = []
    if isinstance(value, str):
        if has_control_chars(value):
            found.append(loc)
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and has_control_chars(k):
                found.append((*loc, k))
            found.extend(find_control_chars(v, (*loc, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(find_control_chars(v, (*loc, i)))
    return found


def form_post(data: dict) -> QueryDict:
    """A JSON draft's answers as the form post the services read (``f-<key>``)."""
    q = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list):
            q.setlist(f"f-{key}", value)
        else:
            q[f"f-{key}"] = value
    return q


def page_number(raw: Any) -> int:
    """A page number from a query parameter: anything odd is the first page, and the largest
    is bounded (a paginator shows the last page for a number past the end)."""
    try:
        n = int(str(raw)[:12])
    except (TypeError, ValueError):
        return 1
    return min(max(n, 1), MAX_PAGE)


# --- Score sheets ---------------------------------------------------------------------------

POINTS_CHARS = 20  # a typed score longer than this is no number anyone meant


@dataclass(frozen=True)
class PointsWords:
    """What a score sheet says about an item it refuses. Each is a ``str.format`` template
    given ``name`` (the item's), ``max`` (its maximum) and ``text`` (what was typed)."""

    required: str
    not_number: str
    out_of_range: str
    # None: a score with more decimals than ``places`` is rounded half up, not refused.
    too_precise: str | None = None


def read_points(
    items: Iterable[tuple[str, str, Decimal]],
    raw: Mapping[str, Any],
    *,
    words: PointsWords,
    places: Decimal,
    complete: bool,
) -> tuple[dict[str, Decimal], dict[str, list[str]]]:
    """Read the points posted for each ``(key, name, max)`` item: a finite number within
    0..max with at most ``places`` decimals; a blank item is refused only when ``complete``.
    The values come back quantized to ``places``; ``errors`` maps an item's key to its message.
    """
    values: dict[str, Decimal] = {}
    errors: dict[str, list[str]] = {}
    for key, name, top in items:
        text = str(raw.get(key, "") or "")
        if has_control_chars(text):
            errors[key] = [f"“{name}”{CONTROL_MESSAGE}"]
            continue
        # A Chinese input method may type the decimal point as a full-width stop or comma.
        text = text.strip().replace("，", ".").replace("．", ".")
        refusal, value = _read_point(text, top, words, places, complete)
        if refusal:
            errors[key] = [refusal.format(name=name, max=top, text=text)]
        elif value is not None:
            values[key] = value
    return values, errors


def _read_point(
    text: str, top: Decimal, words: PointsWords, places: Decimal, complete: bool
) -> tuple[str, Decimal | None]:
    """The refusal's template ("" if none) and the value read (None if left blank)."""
    if not text:
        return (words.required if complete else ""), None
    try:
        value = Decimal(text) if len(text) <= POINTS_CHARS else Decimal("NaN")
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        return words.not_number, None
    if value < 0 or value > top:
        return words.out_of_range, None
    rounded = value.quantize(places, rounding=ROUND_HALF_UP)
    if words.too_precise is not None and value != rounded:
        return words.too_precise, None
    return "", rounded


# --- API schemas ---------------------------------------------------------------------------


def _no_control_chars(value: str) -> str:
    if has_control_chars(value):
        raise PydanticCustomError("control_chars", str(CONTROL_MESSAGE))
    return value


def Text(max_length: int = LONG, min_length: int = 0) -> Any:  # noqa: N802 - a type
    """A string of at most ``max_length`` characters without control characters."""
    return Annotated[
        str,
        StringConstraints(max_length=max_length, min_length=min_length),
        AfterValidator(_no_control_chars),
    ]


# Row ids: beyond 2**53 no table of ours reaches, and SQLite overflows past 2**63.
MAX_ID = 2**53
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Key = Text(KEY)
Query = Text(QUERY)
Page = Annotated[int, Field(ge=1, le=MAX_PAGE)]


class BoundedLimitOffset(LimitOffsetPagination):
    """``?limit=&offset=`` with bounds: no more than 500 rows a page, no absurd offset."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
