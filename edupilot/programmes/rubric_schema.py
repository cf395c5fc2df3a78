"""``[rubric]``: the expert review's criteria, how scores combine, and the graded outcome.

A criterion may be mandatory (``mandatory_min``: the panel's score on it must reach this many
points, else the application reaches no grade that asks for every mandatory item); criteria
may be grouped (``group``) with a minimum share of the group's points (``[[rubric.groups]]``),
shown as subtotals. ``[[rubric.grades]]`` grade the application by its total (a share of 100)
and the gates (:mod:`.grading`)::

    [rubric]
    criteria = [
      { key = "plan", name = "建设方案", max = 40, group = "design", mandatory_min = 24 },
      { key = "basis", name = "工作基础", max = 60, group = "basis" },
    ]
    groups = [{ key = "design", name = "方案设计", min_percent = 50 }, { key = "basis", name = "基础" }]
    grades = [
      { key = "demo", name = "示范", min_percent = 85, all_mandatory = true },
      { key = "pass", name = "合格", min_percent = 60 },
    ]
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from .grading import GradeSpec, check_grades, check_mandatory_mins
from .schema_base import Key, LocatedValueError, Strict, check_unique


class Criterion(Strict):
    key: Key
    name: str = Field(min_length=1)
    max: Decimal = Field(gt=0)
    weight: Decimal = Field(default=Decimal(1), gt=0)
    description: str = ""
    # A mandatory (veto) criterion: the panel's score on it must reach this many points.
    mandatory_min: Decimal | None = Field(default=None, ge=0)
    # The group (dimension) whose subtotal this criterion counts toward.
    group: Key | None = None
    # The application form's number field where the applicant scores itself on this
    # criterion (self-assessment, shown beside the experts' scores).
    self_field: Key | None = None


class CriterionGroup(Strict):
    key: Key
    name: str = Field(min_length=1, max_length=100)
    # The group's subtotal must reach this share of its points (else no grade is reached).
    min_percent: Decimal | None = Field(default=None, ge=0, le=100)


class Rubric(Strict):
    criteria: list[Criterion] = Field(min_length=1)
    aggregate: Literal["mean", "trimmed_mean"] = "mean"
    trim: int = Field(default=1, ge=0, description="trimmed_mean: 去掉最高分和最低分各几个")
    experts_per_application: int = Field(default=3, ge=1, le=20)
    disagreement_threshold: Decimal = Field(
        default=Decimal(15), ge=0, description="极差超过该值即标记分歧"
    )
    groups: list[CriterionGroup] = Field(default_factory=list, max_length=20)
    grades: list[GradeSpec] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _unique(self):
        check_unique(self.criteria, "key", "评分项", ("criteria",))
        check_unique(self.groups, "key", "评分维度", ("groups",))
        check_mandatory_mins(self.criteria, "评分项")
        groups = {g.key for g in self.groups}
        for i, c in enumerate(self.criteria):
            if c.group is not None and c.group not in groups:
                raise LocatedValueError(
                    f"评分项 {c.key} 的 group = {c.group} 未在 groups 中定义",
                    ("criteria", i, "group"),
                )
        check_grades(
            self.grades,
            ("grades",),
            scored=True,
            has_mandatory=any(c.mandatory_min is not None for c in self.criteria)
            or any(g.min_percent is not None for g in self.groups),
            what="评审等级",
        )
        if any(g.result == "rectify" for g in self.grades):
            i = next(i for i, g in enumerate(self.grades) if g.result == "rectify")
            raise LocatedValueError(
                '评审等级不能是“整改”（result = "rectify" 只用于验收）', ("grades", i, "result")
            )
        return self

    def group_of(self, key: str) -> CriterionGroup | None:
        return next((g for g in self.groups if g.key == key), None)

    def as_json(self) -> dict:
        """What ``programme show`` prints of the rubric: criteria, groups, grades."""
        return {
            "aggregate": self.aggregate,
            "criteria": [
                {
                    "key": c.key,
                    "name": c.name,
                    "max": str(c.max),
                    "weight": str(c.weight),
                    "group": c.group,
                    "mandatory_min": None if c.mandatory_min is None else str(c.mandatory_min),
                    "self_field": c.self_field,
                }
                for c in self.criteria
            ],
            "groups": [
                {
                    "key": g.key,
                    "name": g.name,
                    "min_percent": None if g.min_percent is None else str(g.min_percent),
                }
                for g in self.groups
            ],
            "grades": [
                {
                    "key": g.key,
                    "name": g.name,
                    "min_percent": None if g.min_percent is None else str(g.min_percent),
                    "all_mandatory": g.all_mandatory,
                    "result": g.result,
                    "conditions": g.describe(),
                }
                for g in self.grades
            ],
        }

    def lines(self) -> list[str]:
        """The same in words, one line each."""
        out = []
        for c in self.criteria:
            extra = f"，必达 {c.mandatory_min} 分" if c.mandatory_min is not None else ""
            extra += f"，自评字段 {c.self_field}" if c.self_field else ""
            group = self.group_of(c.group).name if c.group else ""
            out.append(
                f"  {c.name}（{c.key}）：满分 {c.max}，权重 {c.weight}"
                + (f"，维度 {group}" if group else "")
                + extra
            )
        for g in self.groups:
            least = f"，得分率不低于 {g.min_percent}%" if g.min_percent is not None else ""
            out.append(f"  维度 {g.name}（{g.key}）{least}")
        for g in self.grades:
            out.append(f"  等级 {g.name}（{g.key}）：{g.describe()}")
        return out


def check_self_fields(rubric: Rubric | None, forms: dict) -> None:
    """Each ``self_field`` must be a number field of one of the programme's forms, with a
    maximum no higher than the criterion's."""
    if rubric is None:
        return
    for i, c in enumerate(rubric.criteria):
        if c.self_field is None:
            continue
        found = [
            f
            for form in forms.values()
            for f in form.all_fields()
            if f.key == c.self_field and f.type == "number"
        ]
        if not found:
            raise LocatedValueError(
                f'评分项 {c.key} 的自评字段 {c.self_field} 不是任何表单中的数字字段（type = "number"）',
                ("rubric", "criteria", i, "self_field"),
            )
        if any(f.max is None or f.max > c.max for f in found):
            raise LocatedValueError(
                f"评分项 {c.key} 的自评字段 {c.self_field} 须设 max，且不超过该项满分 {c.max}",
                ("rubric", "criteria", i, "self_field"),
            )
