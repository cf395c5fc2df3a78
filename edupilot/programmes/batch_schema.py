"""``[[batches]]``: the certification rounds of a certification programme, with the school's
self-assessment and its gate (docs/programme-format.md, "Certifications")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field, model_validator

from edupilot.core.numbers import plain

from .schema_base import Key, LocatedValueError, Strict


class Batch(Strict):
    """A certification round: when it is assessed, and the cut-off date of the data it uses."""

    code: Key
    name: str = Field(min_length=1)
    # Categories this batch certifies (empty: all).
    categories: list[Key] = Field(default_factory=list)
    data_cutoff: dt.date = Field(description="数据统计截止时间")
    assess_from: dt.date
    assess_until: dt.date
    # The school's self-assessment (学校自评) with its application to this batch: points per
    # indicator within each item's range. A school that has not submitted one, or whose
    # self-score misses the gate (share of the maximum and/or points), is not certified.
    self_assessment: bool = False
    self_min_percent: Decimal | None = Field(default=None, ge=0, le=100)
    self_min_score: Decimal | None = Field(default=None, ge=0)
    self_closes: dt.date | None = Field(default=None, description="自评截止日期")

    @model_validator(mode="after")
    def _order(self):
        if self.assess_from > self.assess_until:
            raise LocatedValueError("认定开始日期不能晚于结束日期", ("assess_until",))
        if self.data_cutoff > self.assess_until:
            raise LocatedValueError("数据统计截止时间不能晚于认定结束日期", ("data_cutoff",))
        if not self.self_assessment:
            for key in ("self_min_percent", "self_min_score", "self_closes"):
                if getattr(self, key) is not None:
                    raise LocatedValueError(
                        f"批次 {self.code} 未要求学校自评（self_assessment = true），"
                        f"不能设置 {key}",
                        (key,),
                    )
        if self.self_closes is not None and self.self_closes > self.assess_until:
            raise LocatedValueError("自评截止日期不能晚于认定结束日期", ("self_closes",))
        return self

    def self_gate_text(self) -> str:
        """The self-assessment and its gate in words, for ``programme show`` and the pages."""
        if not self.self_assessment:
            return ""
        parts = []
        if self.self_min_percent is not None:
            parts.append(f"自评得分率不低于 {plain(self.self_min_percent)}%")
        if self.self_min_score is not None:
            parts.append(f"自评总分不低于 {plain(self.self_min_score)} 分")
        gate = "，".join(parts) or "提交自评即可"
        closes = f"，{self.self_closes:%Y-%m-%d} 前提交" if self.self_closes else ""
        return f"学校须提交自评{closes}；申报条件：{gate}"
