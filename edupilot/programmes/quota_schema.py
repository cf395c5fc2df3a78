"""The programme file's quotas: ``[[categories.quotas]]`` and its policies (quotas.py computes
them)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from .schema_base import LocatedValueError, StageName, Strict, TierName
from .set_schema import QuotaClass

# --- quotas ----------------------------------------------------------------------------------


class QuotaEntry(Strict):
    """One row of a quota table. ``org`` is a code or an exact name in the org tree."""

    org: str = Field(min_length=1)
    quota: int = Field(ge=0)
    # The bucket of applicants directly under ``org`` that have no org at the quota's tier
    # (市直学校: schools directly under a city when quotas are per county).
    direct: bool = False
    label: str = ""
    # The count the notice's authors used for this org, where it differs from today's tree
    # (Zhejiang 2019: 温州市 had 11 county units before 龙港市 was carved out).
    basis: int | None = Field(default=None, ge=0)
    note: str = ""


class CountSpec(Strict):
    """What a formula counts in each quota holder's subtree."""

    what: Literal["counties", "schools"]
    stages: list[StageName] = Field(default_factory=list)


class QuotaBase(Strict):
    # The tier of the org that holds (and spends) the quota when it recommends.
    level: TierName
    # What an org not in the table gets: zero places, or no limit.
    unlisted: Literal["zero", "unlimited"] = "zero"
    declared_total: int | None = Field(default=None, ge=0)
    note: str = ""
    # Earlier rounds (or years) of the same series, by programme code: the places a holder
    # used there (its active recommendations at this level, in the category of the same
    # code) count against this quota, so that the quota is a total over the rounds.
    earlier_rounds: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]] = Field(
        default_factory=list, max_length=20
    )


class TableQuota(QuotaBase):
    policy: Literal["table"]
    entries: list[QuotaEntry] = Field(min_length=1)


class PercentQuota(QuotaBase):
    """``percent`` of a count per holder, rounded, at least ``minimum`` (Zhejiang: 20 % of counties)."""

    policy: Literal["percent"]
    count: CountSpec
    percent: Decimal = Field(gt=0, le=100)
    rounding: Literal["half_up", "ceil", "floor"] = "half_up"
    minimum: int = Field(default=0, ge=0)
    declared: list[QuotaEntry] = Field(default_factory=list)
    authority: Literal["declared", "computed"] = "declared"


class ApportionQuota(QuotaBase):
    """A total split across holders in proportion to a count, by the largest-remainder method."""

    policy: Literal["apportion"]
    count: CountSpec
    total: int = Field(ge=0)
    minimum: int = Field(default=0, ge=0)
    declared: list[QuotaEntry] = Field(default_factory=list)
    authority: Literal["declared", "computed"] = "declared"


class EachQuota(QuotaBase):
    """``quota`` places for every holder at the tier ("3 per county"), or by class of holder
    (``classes``: the first class a holder matches gives its number; a holder in no class
    gets ``quota``, else what ``unlisted`` says); ``entries`` name single holders (or a
    ``direct`` bucket) that differ."""

    policy: Literal["each"]
    quota: int | None = Field(default=None, ge=0)
    classes: list[QuotaClass] = Field(default_factory=list)
    entries: list[QuotaEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self):
        if self.quota is None and not self.classes:
            raise LocatedValueError("each 名额须写 quota（每个单位的名额）或 classes", ("quota",))
        names = [c.name for c in self.classes]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise LocatedValueError(f"名额类别 {name} 重复", ("classes", i, "name"))
        return self


QuotaPolicy = Annotated[
    TableQuota | PercentQuota | ApportionQuota | EachQuota, Field(discriminator="policy")
]
