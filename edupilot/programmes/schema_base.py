"""Types shared by the programme file's models (``schema``) and its stages (``stages``)."""

from __future__ import annotations

import datetime as dt
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


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
