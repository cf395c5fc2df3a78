"""The programme file's rules over a set of units: classes of orgs, composition and ratios.

``OrgMatch`` says which orgs a quota class or a composition rule means (by attribute, by
participant list, or by name); ``SetRule`` is one ``[[categories.set_rules]]``: a rule
over the set of units one org recommends (or the issuer approves from it), checked when a
reviewer recommends and when the issuer approves (``edupilot/programmes/sets.py``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from edupilot.core.numbers import plain

from .schema_base import Key, LocatedValueError, OrgKindName, StageName, Strict, TierName

LOCALITY_LABEL = {"urban": "城区", "town": "镇区", "rural": "乡村"}
OWNERSHIP_LABEL = {"public": "公办", "private": "民办"}
KIND_LABEL = {
    "province": "省级", "city": "设区市", "county": "县（市、区）", "zone": "功能区",
    "school": "学校", "university": "高等学校", "unit": "直属单位",
}  # fmt: skip
STAGE_LABEL = {
    "kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "senior": "高中",
    "vocational": "中职", "teaching_point": "教学点",
}  # fmt: skip
_LISTY = ("orgs", "lists", "kind", "locality", "ownership", "stages")


class OrgMatch(Strict):
    """Which orgs are meant: every key given must hold (a key's values: any of them).

    ``orgs``: codes or exact names; ``lists``: on one of these participant lists
    (``[[lists]]``); ``kind``, ``locality``, ``ownership``: the org's attribute is one of
    these; ``stages``: the school has one of these stages; ``extra``: the org's other
    attributes (``Org.extra``, e.g. ``{ zone = "central" }``). A single value may be written
    without brackets.
    """

    orgs: list[str] = Field(default_factory=list)
    lists: list[Key] = Field(default_factory=list)
    kind: list[OrgKindName] = Field(default_factory=list)
    locality: list[Literal["urban", "town", "rural"]] = Field(default_factory=list)
    ownership: list[Literal["public", "private"]] = Field(default_factory=list)
    stages: list[StageName] = Field(default_factory=list)
    extra: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _single_values(cls, data):
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in _LISTY:
            if isinstance(data.get(key), str):
                data[key] = [data[key]]
        if isinstance(data.get("extra"), dict):
            data["extra"] = {
                k: [v] if isinstance(v, str | int) else v for k, v in data["extra"].items()
            }
            data["extra"] = {k: [str(x) for x in v] for k, v in data["extra"].items()}
        return data

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, k) for k in (*_LISTY, "extra"))

    def describe(self) -> str:
        """The condition in words: 城乡类别为乡村、在名单 x 上 …"""
        parts = []
        if self.orgs:
            parts.append("为" + "、".join(self.orgs))
        if self.lists:
            parts.append("列入名单 " + "、".join(self.lists))
        if self.kind:
            parts.append("类型为" + "或".join(KIND_LABEL[k] for k in self.kind))
        if self.locality:
            parts.append("城乡类别为" + "或".join(LOCALITY_LABEL[v] for v in self.locality))
        if self.ownership:
            parts.append("办学性质为" + "或".join(OWNERSHIP_LABEL[v] for v in self.ownership))
        if self.stages:
            parts.append("有" + "或".join(STAGE_LABEL[s] for s in self.stages) + "学段")
        for k, values in self.extra.items():
            parts.append(f"{k} 为" + "或".join(values))
        return "，且".join(parts)


class QuotaClass(OrgMatch):
    """One row of an ``each`` quota's ``classes``: the places each holder of the class gets."""

    name: str = Field(min_length=1, max_length=60)
    quota: int = Field(ge=0)

    @model_validator(mode="after")
    def _not_empty(self):
        if self.is_empty:
            raise LocatedValueError(
                f"名额类别“{self.name}”须说明哪些单位属于它："
                "orgs、lists、kind、locality、ownership、stages 或 extra",
                ("name",),
            )
        return self


SET_RULE_KINDS = {
    "covers": "覆盖每个选题、每个单位",
    "at_least": "至少若干个符合条件",
    "at_most_per_group": "同一组至多若干个",
    "confirm_ratio": "按比例确认",
}
GROUP_LABEL = {"group": "教育集团", "parent": "上级单位"}


class SetRule(Strict):
    """``[[categories.set_rules]]``: a rule over the units one org of tier ``level`` recommends.

    - ``at_least``: at least ``min`` of them match ``where`` ("at least one rural school among
      a county's recommendations"); a recommendation is refused when, after it, the places
      left in the org's quota could no longer bring the set up to ``min``;
    - ``at_most_per_group``: at most ``max`` of them share a group, ``per``: "group" (the
      school group, 教育集团), "parent" (the org they hang under), "extra.KEY" (an attribute);
    - ``confirm_ratio``: the issuer approves at most ⌊n / ``ratio``⌋ of the n the org
      recommended ("recommend 3, confirm 2": ``ratio = 1.5``); checked at approval only.

    ``when`` says at which moments ``at_least`` and ``at_most_per_group`` are checked: on the
    set the org recommends ("recommend") and on the set the issuer approves from it
    ("approve").
    """

    id: Key
    kind: Literal["at_least", "at_most_per_group", "confirm_ratio", "covers"]
    level: TierName
    message: str = Field(min_length=1, max_length=300)
    min: int | None = Field(default=None, ge=1)
    where: OrgMatch | None = None
    max: int | None = Field(default=None, ge=1)
    per: str | None = Field(default=None, pattern=r"^(group|parent|extra\.[A-Za-z0-9_]+)$")
    ratio: Decimal | None = Field(default=None, ge=1, le=100)
    when: list[Literal["recommend", "approve"]] = Field(default_factory=list)
    # covers: every topic of the category ("topic"), or every direction ("direction": a
    # sub-direction counts for its parent), crossed with every org of tier ``each_org_at``
    # under the set's holder, has at least ``min`` units in the set.
    each_topic: Literal["topic", "direction"] | None = None
    each_org_at: Literal["city", "county"] | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self):
        needs = {
            "at_least": ("min", "where"),
            "at_most_per_group": ("max", "per"),
            "confirm_ratio": ("ratio",),
            "covers": ("min",),
        }
        for key in needs[self.kind]:
            if getattr(self, key) is None:
                raise LocatedValueError(f"{self.kind} 规则须写 {key}", ("kind",))
        if self.kind == "covers" and self.each_topic is None and self.each_org_at is None:
            raise LocatedValueError("covers 规则须写 each_topic 或 each_org_at", ("kind",))
        if self.kind != "covers":
            for key in ("each_topic", "each_org_at"):
                if getattr(self, key) is not None:
                    raise LocatedValueError(f"{self.kind} 规则不用 {key}，请删去", (key,))
        for key in ("min", "where", "max", "per", "ratio"):
            if key not in needs[self.kind] and getattr(self, key) is not None:
                raise LocatedValueError(f"{self.kind} 规则不用 {key}，请删去", (key,))
        if self.where is not None and self.where.is_empty:
            raise LocatedValueError("where 须至少写一个条件", ("where",))
        if self.kind == "confirm_ratio" and "recommend" in self.when:
            raise LocatedValueError("confirm_ratio 只在审定时检查，when 只能是 approve", ("when",))
        return self

    @property
    def moments(self) -> tuple[str, ...]:
        if self.kind == "confirm_ratio":
            return ("approve",)
        if self.kind == "covers":
            return tuple(self.when) or ("recommend",)
        return tuple(self.when) or ("recommend", "approve")

    def describe(self) -> str:
        """The rule in words, for ``programme show`` and the programme page."""
        if self.kind == "at_least":
            what = f"至少 {self.min} 个{self.where.describe()}"
        elif self.kind == "covers":
            cells = []
            if self.each_topic:
                cells.append("每个选题" if self.each_topic == "topic" else "每个方向")
            if self.each_org_at:
                cells.append(f"每个{TIER_NAME[self.each_org_at]}单位")
            what = f"{'、'.join(cells)}至少 {self.min} 个"
        elif self.kind == "at_most_per_group":
            label = GROUP_LABEL.get(self.per, self.per)
            what = f"同一{label}至多 {self.max} 个"
        else:
            what = f"审定单位至多确认推荐数的 1/{plain(self.ratio)}（向下取整）"
        moments = "、".join({"recommend": "推荐时", "approve": "审定时"}[m] for m in self.moments)
        return f"每个{TIER_NAME.get(self.level, self.level)}单位推荐的申报中{what}（{moments}检查）"


TIER_NAME = {"province": "省级", "city": "市级", "county": "县级"}


class Title(Strict):
    """``[[categories.titles]]``: units on a participant list hold a title (省级示范校 …).

    ``admit = "outside_quota"``: the unit is admitted outside the quota, its recommendations
    spend no place of any tier's quota; ``"inside_quota"``: it is admitted within the quota
    (it spends a place like any other; said so that reviewers see it). ``priority = true``:
    a recommendation of the unit is ranked ahead of units without a priority title (after
    those with one), unless the reviewer gives a rank. Reviewers see the title.
    """

    list: Key
    name: str = Field(min_length=1, max_length=60)
    admit: Literal["outside_quota", "inside_quota"] | None = None
    priority: bool = False

    @model_validator(mode="after")
    def _says_something(self):
        if self.admit is None and not self.priority:
            raise LocatedValueError(
                f"称号“{self.name}”须写 admit（outside_quota 或 inside_quota）或 priority = true",
                ("name",),
            )
        return self

    def describe(self) -> str:
        effects = []
        if self.admit == "outside_quota":
            effects.append("直接入选，不占名额")
        elif self.admit == "inside_quota":
            effects.append("直接入选，占用名额")
        if self.priority:
            effects.append("推荐排序优先")
        return f"{self.name}（名单 {self.list}）：{'，'.join(effects)}"
