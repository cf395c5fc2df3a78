"""Reading the raw cells other systems export (是/否, "95%", "良好") into typed values, and
writing them back as text. The importer, the correction form and the site-verification form
all read values the same way; :mod:`.engine` re-exports these names."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

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
            raise ValueError_(f"“{raw}”不是“是/否”")
        word = str(raw).strip().lower()
        if word in YES:
            return True
        if word in NO:
            return False
        raise ValueError_(f"“{raw}”不是“是/否”（可写 是/否、有/无、1/0）")
    if measure in ("number", "percent", "score"):
        if isinstance(raw, bool):
            raise ValueError_(f"“{raw}”不是数字")
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
                raise ValueError_(f"“{raw}”不是数字")
            try:
                number = float(Decimal(text))
            except InvalidOperation as exc:
                raise ValueError_(f"“{raw}”不是数字") from exc
        number *= scale
        if measure == "percent" and not 0 <= number <= 100:
            raise ValueError_(f"百分比 {number:g} 不在 0–100 之间")
        if number < 0:
            raise ValueError_(f"数值 {number:g} 不能为负")
        return number
    if measure == "level":
        text = str(int(raw) if isinstance(raw, float) and raw.is_integer() else raw).strip()
        if text in levels:
            return text
        raise ValueError_(f"“{raw}”不是可用的等级（{'、'.join(levels)}）")
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
