"""Types shared by the programme file's models (``schema``) and its stages (``stages``)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCHEMA_VERSION = 1

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
OrgKindName = Literal["province", "city", "county", "zone", "school", "university", "unit"]
TierName = Literal["province", "city", "county"]
StageName = Literal["kindergarten", "primary", "junior", "senior", "vocational", "teaching_point"]


def to_deadline(value: dt.date | dt.datetime) -> dt.datetime:
    """A date means the end of that day; naive datetimes are Asia/Shanghai."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    return dt.datetime.combine(value, dt.time(23, 59, 59), tzinfo=SHANGHAI)


def to_start(value: dt.date | dt.datetime) -> dt.datetime:
    """A date means the start of that day; naive datetimes are Asia/Shanghai."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    return dt.datetime.combine(value, dt.time(0, 0, 0), tzinfo=SHANGHAI)


class LocatedValueError(ValueError):
    """A validation error that knows where, below the model that raised it, the problem is.

    Cross-field checks run on a whole model; ``loc`` lets the loader point at the offending
    element's line (the second of two duplicated keys, the level that is out of order)
    instead of at the start of the enclosing table.
    """

    def __init__(self, message: str, loc: tuple):
        super().__init__(message)
        self.loc = loc


def check_unique(items, attr: str, where: str, loc: tuple | None = None) -> None:
    """Refuse the first item whose ``attr`` repeats an earlier one's ("指标 A1 重复"), at that
    item below ``loc``; with no ``loc``, at the model that checks."""
    seen = set()
    for i, item in enumerate(items):
        value = getattr(item, attr)
        if value in seen:
            if loc is None:
                raise ValueError(f"{where} {value} 重复")
            raise LocatedValueError(f"{where} {value} 重复", (*loc, i, attr))
        seen.add(value)


def check_known(codes, known, problem: str, loc: tuple) -> None:
    """Refuse at ``loc`` the ``codes`` not among ``known``, after ``problem`` ("归口 x 引用了
    未定义的类别：a, b")."""
    unknown = [x for x in codes if x not in known]
    if unknown:
        raise LocatedValueError(f"{problem}：{', '.join(unknown)}", loc)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- periods in days: calendar days or working days ---------------------------------------

_DAYS = re.compile(
    r"^\s*(\d{1,3})\s*(?:(?P<working>个?\s*工作日|working\s+days?)|(?:天|日|个?自然日|(?:calendar\s+)?days?))\s*$",
    re.IGNORECASE,
)
DAYS_HINT = '应为天数：5、"5 天"（自然日）或 "5 个工作日"（"5 working days"，按国家法定节假日和调休安排计算）'


def read_days(data, key: str, flag: str = "working_days"):
    """Accept ``key = "5 个工作日"`` / ``"5 working days"`` (the number, and ``flag`` set) or
    ``"5 天"`` / ``"5 days"`` (calendar days) besides a plain number; for a model's
    ``mode="before"`` validator. A string that is neither is refused at ``key``."""
    if not isinstance(data, dict) or not isinstance(data.get(key), str):
        return data
    m = _DAYS.match(data[key])
    if m is None:
        raise LocatedValueError(f"{key} = {data[key]!r}：{DAYS_HINT}", (key,))
    working = m.group("working") is not None
    if working and data.get(flag) is False:
        raise LocatedValueError(f"{key} 写的是工作日，{flag} 却写了 false；请只用一种写法", (flag,))
    data = {**data, key: int(m.group(1))}
    if working:
        data[flag] = True
    return data
