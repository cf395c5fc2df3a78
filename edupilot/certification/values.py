"""Reading the raw cells other systems export (是/否, "95%", "良好") into typed values, and
writing them back as text. The importer, the correction form and the site-verification form
all read values the same way; :mod:`.engine` re-exports these names."""

from __future__ import annotations

import functools
import operator
import re
from decimal import Decimal, InvalidOperation
from itertools import repeat
from typing import Any

from django.utils.translation import gettext as _

YES = {"是", "有", "y", "yes", "true", "t", "1", "√", "✓", "达到", "符合", "已建", "已完成"}
NO = {"否", "无", "n", "no", "false", "f", "0", "×", "✗", "未达到", "不符合", "未建", "未完成"}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class ValueError_(ValueError):
    """A cell that cannot be read as this indicator's measure (message in Chinese)."""


def parse_value(measure: str, levels: list[str], raw: Any, *, scale: float = 1.0):
    """The typed value of ``raw`` for a measure, None for an empty cell.

    Raises ValueError_ with a Chinese message when the cell cannot be read.
    """
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "" or raw in ("-", "—", "/", "－"):
            return None
    if measure == "yes_no":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int | float):
            if raw in (0, 1):
                return bool(raw)
            raise ValueError_(_("“%(raw)s”不是“是/否”") % {"raw": raw})
        word = str(raw).strip().lower()
        if word in YES:
            return True
        if word in NO:
            return False
        raise ValueError_(_("“%(raw)s”不是“是/否”（可写 是/否、有/无、1/0）") % {"raw": raw})
    if measure in ("number", "percent", "score"):
        if isinstance(raw, bool):
            raise ValueError_(_("“%(raw)s”不是数字") % {"raw": raw})
        if isinstance(raw, int | float):
            number = float(raw)
        else:
            text = str(raw).replace(",", "").replace("，", "").replace(" ", "")
            if measure == "percent" and text.endswith(("%", "％")):
                text = text[:-1]
            elif measure in ("number", "score"):
                # Tolerate a trailing unit the other system appends ("1000Mbps", "12台").
                m = re.match(r"^([+-]?[\d.]+)\s*[A-Za-z\u4e00-\u9fff/]*$", text)
                text = m.group(1) if m else text
            if not _NUMBER.match(text):
                raise ValueError_(_("“%(raw)s”不是数字") % {"raw": raw})
            try:
                number = float(Decimal(text))
            except InvalidOperation as exc:
                raise ValueError_(_("“%(raw)s”不是数字") % {"raw": raw}) from exc
        number *= scale
        if measure == "percent" and not 0 <= number <= 100:
            raise ValueError_(
                _("百分比 %(number)s 不在 0–100 之间") % {"number": format(number, "g")}
            )
        if number < 0:
            raise ValueError_(_("数值 %(number)s 不能为负") % {"number": format(number, "g")})
        return number
    if measure == "level":
        text = str(int(raw) if isinstance(raw, float) and raw.is_integer() else raw).strip()
        if text in levels:
            return text
        raise ValueError_(
            _("“%(raw)s”不是可用的等级（%(levels)s）") % {"raw": raw, "levels": "、".join(levels)}
        )
    raise ValueError_(f"未知的计量方式 {measure}")


def make_parser(measure: str, levels: list[str], *, scale: float = 1.0):
    """A parser for one column: the cell types other systems export most often take a
    short path; anything else goes through :func:`parse_value` (same results, same errors)."""

    def slow(raw):
        return parse_value(measure, levels, raw, scale=scale)

    if measure == "yes_no":
        words = {**dict.fromkeys(YES, True), **dict.fromkeys(NO, False)}

        def parse(raw):
            if raw.__class__ is str:
                found = words.get(raw)
                if found is None:
                    found = words.get(raw.strip().lower())
                if found is not None:
                    return found
            elif (raw.__class__ is float or raw.__class__ is int) and raw in (0, 1):
                return raw == 1
            return slow(raw)

    elif measure in ("number", "percent", "score"):
        high = 100.0 if measure == "percent" else float("inf")

        def parse(raw):
            if raw.__class__ is float or raw.__class__ is int:
                number = raw * scale
                if 0 <= number <= high:
                    return float(number)
            elif raw.__class__ is str and raw[-1:] == "%" and measure == "percent":
                try:
                    number = float(raw[:-1]) * scale
                except ValueError:
                    return slow(raw)
                if 0 <= number <= high:
                    return number
            elif raw.__class__ is str and raw.isdigit() and raw.isascii():
                # Plain digits, as CSV gives every number: float() reads them as Decimal does.
                number = float(raw) * scale
                if 0 <= number <= high:
                    return number
            return slow(raw)

    elif measure == "level":
        known = frozenset(levels)

        def parse(raw):
            if raw.__class__ is str and raw in known:
                return raw
            return slow(raw)

    else:
        parse = slow
    return parse


_NUMBERS = frozenset({float})
_NUMBERS_OR_TEXT = frozenset({float, str})
_TEXT = frozenset({str})
_is_value = functools.partial(operator.is_not, None)


def _blanks_to_none(col) -> list | None:
    """``col`` as a list with its empty text cells as None; None if it holds other text."""
    vals = list(col)
    blanks = col.count("")
    if blanks != list(map(type, col)).count(str):
        return None
    i = -1
    for _blank in range(blanks):
        i = vals.index("", i + 1)
        vals[i] = None
    return vals


def _percent_texts(col) -> tuple[list, list] | None:
    """Cells that are all "88%" text (or empty): the numbers before the sign, None for the
    empty ones, as the cell parser's short path reads them (``float(text[:-1])``), and the
    distinct numbers (to check). Each distinct text is read once: a column holds few."""
    words = set(col)
    words.discard("")
    # Each text ends with the sign and there are as many signs as texts: one each, at the end.
    if not words or not all(map(str.endswith, words, repeat("%"))):
        return None
    if "".join(words).count("%") != len(words):
        return None
    numbers = dict(zip(words, map(float, map(str.removesuffix, words, repeat("%"))), strict=True))
    return list(map(numbers.get, col)), list(numbers.values())


def make_column_parser(measure: str, levels: list[str], *, scale: float = 1.0):
    """A parser for a whole column of cells at once, for the shapes other systems export
    most: numbers (XLSX), plain digits (CSV) or "88%" (percentages), each column perhaps
    with empty cells; yes/no and level words. It returns the values exactly as
    :func:`make_parser`'s parser gives them cell by cell, with a None where a cell needs
    that parser (an unknown word, an empty cell), or None for the whole column when it is
    of another shape. Its loops run in C (``map``, ``count``, ``min``, ``sum``): one Python
    call per cell was most of the import's time."""
    if measure in ("number", "percent", "score"):
        high = 100.0 if measure == "percent" else float("inf")

        def parse_numbers(col):
            kinds = set(map(type, col))
            present = None  # the values to check: all of them, or the distinct ones
            try:
                if kinds == _NUMBERS:
                    vals = list(col)
                elif kinds == {str} and all(map(str.isdigit, col)) and all(map(str.isascii, col)):
                    vals = list(map(float, col))
                elif kinds == _TEXT and measure == "percent":
                    found = _percent_texts(col)
                    if found is None:
                        return None
                    vals, present = found
                elif kinds == _NUMBERS_OR_TEXT:
                    vals = _blanks_to_none(col)
                else:
                    return None
                if vals is None:
                    return None
                if present is None:
                    present = vals if None not in vals else list(filter(_is_value, vals))
                if scale != 1.0:
                    vals = [None if v is None else v * scale for v in vals]
                    present = [v * scale for v in present]
                total = sum(present)
            except (OverflowError, ValueError):
                return None
            if present and (total != total or min(present) < 0 or max(present) > high):
                return None  # a NaN or a number out of range: the cell parser says which
            return vals

        return parse_numbers
    if measure == "yes_no":
        # 1 and 0 also find 1.0, 0.0, True and False, which the cell parser reads the same.
        words = {**dict.fromkeys(YES, True), **dict.fromkeys(NO, False), 1: True, 0: False}
        return lambda col: list(map(words.get, col))
    if measure == "level":
        known = {level: level for level in levels}
        return lambda col: list(map(known.get, col))
    return lambda col: None


def format_value(measure: str, value, unit: str = "") -> str:
    if value is None:
        return "—"
    if measure == "yes_no":
        return "是" if value else "否"
    if measure in ("number", "percent", "score"):
        number = int(value) if float(value).is_integer() else round(float(value), 2)
        if measure == "score":
            return f"{number}分"
        return f"{number}%" if measure == "percent" else f"{number}{unit}"
    return str(value)
