"""The standard file's schema (pydantic, unknown keys are errors), thresholds, the resolved
form, and reading TOML; see the package docstring for the format."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from edupilot.programmes.grading import GradeSpec, check_grades
from edupilot.programmes.loader import (
    FileError,
    FileInvalid,
    field_label,
    load_toml,
    pydantic_message,
)
from edupilot.programmes.schema_base import check_unique
from edupilot.programmes.toml_lines import LineIndex

from .. import rules

SCHEMA_VERSION = 1

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
IndicatorCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=32)]
StageName = Literal["kindergarten", "primary", "junior", "senior", "vocational", "teaching_point"]
# score: the value is the points the item earns, 0 up to its weight (partial credit).
MeasureName = Literal["yes_no", "number", "percent", "level", "score"]
DirectionName = Literal["at_least", "at_most"]
VerificationName = Literal["official", "verified_excerpt", "structure_verified", "unverified"]
Threshold = StrictBool | StrictInt | StrictFloat | StrictStr


def _compiles(v: str) -> str:
    """A CEL expression that compiles (empty: none)."""
    if v.strip():
        try:
            rules.check_rule_expr(v)
        except rules.RuleCompileError as exc:
            raise ValueError(str(exc)) from exc
    return v


CelExpr = Annotated[str, AfterValidator(_compiles)]

STAGE_LABELS = {
    "kindergarten": "幼儿园",
    "primary": "小学",
    "junior": "初中",
    "senior": "高中",
    "vocational": "中职",
    "teaching_point": "教学点",
}
MEASURE_LABELS = {
    "yes_no": "是/否",
    "number": "数值",
    "percent": "百分比",
    "level": "等级",
    "score": "得分",
}
VERIFICATION_LABELS = {
    "official": "正式文本",
    "verified_excerpt": "已核实(摘录)",
    "structure_verified": "结构已核实",
    "unverified": "未核实(占位)",
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_threshold(measure: str, levels: list[str], value: Any, what: str) -> None:
    """Raise ValueError if ``value`` is not a threshold of this measure."""
    if value is None:
        return
    if measure == "yes_no":
        if value is not True:
            raise ValueError(f"{what}：是/否指标的要求只能写 true（要求“是”）")
    elif measure in ("number", "percent", "score"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{what}：应为数字，实际为 {value!r}")
        if measure == "percent" and not 0 <= value <= 100:
            raise ValueError(f"{what}：百分比应在 0 到 100 之间，实际为 {value}")
    elif measure == "level" and (not isinstance(value, str) or value not in levels):
        raise ValueError(f"{what}：应为等级 {'、'.join(levels)} 之一，实际为 {value!r}")


class DimensionSpec(Strict):
    key: Key
    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    # The dimension's points must reach this share of its maximum (else the school fails).
    min_percent: Decimal | None = Field(default=None, ge=0, le=100)


class ModuleSpec(Strict):
    """A module (模块): some dimensions that must pass on their own, besides the whole."""

    key: Key
    name: str = Field(min_length=1, max_length=100)
    dimensions: list[Key] = Field(min_length=1)
    min_percent: Decimal | None = Field(default=None, ge=0, le=100)
    # Every basic indicator of the module met.
    all_basic: bool = False


class IndicatorSpec(Strict):
    code: IndicatorCode
    name: str = Field(min_length=1, max_length=200)
    dimension: Key
    description: str = ""
    measure: MeasureName
    unit: str = ""
    # at_least: a value meets the threshold when >= it (bandwidth); at_most: when <= it
    # (students per computer).
    direction: DirectionName = "at_least"
    # Levels in ascending order, for measure = "level".
    levels: list[StrictStr] = Field(default_factory=list)
    basic: Threshold | None = None
    advanced: Threshold | None = None
    basic_by_stage: dict[StageName, Threshold] = Field(default_factory=dict)
    # Optional ("O") items are not basic requirements; they earn points at the advanced level.
    optional: bool = False
    # A veto (mandatory, 一票否决) item: not met, the school fails whatever its score.
    veto: bool = False
    weight: Decimal = Field(default=Decimal(1), ge=0)
    bonus: Decimal = Field(default=Decimal(0), ge=0)
    verification: VerificationName = "official"
    source: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _check(self):
        if self.measure == "level":
            if len(self.levels) < 2:
                raise ValueError("等级指标须在 levels 中按从低到高列出至少两个等级")
            if len(set(self.levels)) != len(self.levels):
                raise ValueError("levels 中有重复的等级")
        elif self.levels:
            raise ValueError('只有等级指标（measure = "level"）可以有 levels')
        if self.measure == "yes_no" and self.direction != "at_least":
            raise ValueError("是/否指标不能设置 direction")
        if self.measure == "score":
            if self.direction != "at_least":
                raise ValueError("得分指标不能设置 direction")
            if self.weight <= 0:
                raise ValueError("得分指标须设 weight（满分）大于 0")
            for name in ("basic", "advanced"):
                value = getattr(self, name)
                if value is not None and value > self.weight:
                    raise ValueError(f"{name} {value} 超过该项满分 weight = {self.weight}")
        if self.veto and self.optional:
            raise ValueError("可选指标不能是否决项（veto）")
        _check_threshold(self.measure, self.levels, self.basic, "basic")
        _check_threshold(self.measure, self.levels, self.advanced, "advanced")
        for stage, value in self.basic_by_stage.items():
            _check_threshold(self.measure, self.levels, value, f"basic_by_stage.{stage}")
        if self.optional:
            if self.basic is not None or self.basic_by_stage:
                raise ValueError("可选指标（optional = true）不设基本要求，只设 advanced")
            if self.advanced is None:
                raise ValueError("可选指标须设 advanced（达到即得分）")
        elif self.basic is None:
            raise ValueError("基本指标须设 basic（基本要求）；可选指标请写 optional = true")
        if (
            self.basic is not None
            and self.advanced is not None
            and not at_least_as_strict(self, self.advanced, self.basic)
        ):
            raise ValueError(
                f"发展要求 {fmt_threshold(self, self.advanced)} 不能低于基本要求 "
                f"{fmt_threshold(self, self.basic)}"
            )
        return self


class IndicatorOverride(Strict):
    """Changes a derived standard makes to an inherited indicator (only stricter)."""

    code: IndicatorCode
    basic: Threshold | None = None
    advanced: Threshold | None = None
    basic_by_stage: dict[StageName, Threshold] = Field(default_factory=dict)
    # A derived standard may turn an optional item into a basic requirement, never back.
    optional: bool | None = None
    # A derived standard may make an item a veto item, never undo one.
    veto: bool | None = None
    weight: Decimal | None = Field(default=None, ge=0)
    bonus: Decimal | None = Field(default=None, ge=0)
    verification: VerificationName | None = None
    source: str | None = None
    note: str | None = None


class StandardGrade(GradeSpec):
    """A grade of a standard: the shared grade plus an optional CEL condition (the rule's
    variables, e.g. ``advanced_met >= 5``)."""

    expr: CelExpr = ""

    @field_validator("result")
    @classmethod
    def _passing(cls, v):
        if v != "pass":
            raise ValueError("认定等级都是通过的等级；未达到最低等级即不予认定，不必写 result")
        return v


class RuleSpec(Strict):
    """What certifies a school. Every switch given must hold; ``expr`` is extra CEL."""

    all_basic: bool = True
    min_score: Decimal | None = Field(default=None, ge=0)
    # The same as a share of the maximum score.
    min_percent: Decimal | None = Field(default=None, ge=0, le=100)
    expr: CelExpr = ""
    description: str = ""
    # Modules that must each pass, and the grades a passing school is given (highest first;
    # with grades, a school that reaches none does not pass).
    modules: list[ModuleSpec] = Field(default_factory=list, max_length=20)
    grades: list[StandardGrade] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _parts(self):
        check_unique(self.modules, "key", "模块", ("modules",))
        # Mandatory items are the basic (non-optional) indicators: a standard has some.
        check_grades(self.grades, ("grades",), scored=True, has_mandatory=True, what="认定等级")
        return self


class StandardSpec(Strict):
    schema_version: Literal[1] = 1
    code: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    title: str = Field(min_length=1, max_length=300)
    short_title: str = ""
    issuer: str = Field(default="", description="发布机构的代码或全称（可空）")
    issuer_name: str = ""
    doc_no: str = ""
    published: dt.date | None = None
    source: str = ""
    verification: VerificationName = "official"
    note: str = ""
    # main: the standard a school is certified against; additional: assessed on top of the
    # main one for the stages in applies_to (the Ministry's vocational specification).
    role: Literal["main", "additional"] = "main"
    applies_to: list[StageName] = Field(default_factory=list)
    extends: str | None = None
    rule: RuleSpec = Field(default_factory=RuleSpec)
    dimensions: list[DimensionSpec] = Field(default_factory=list)
    indicators: list[IndicatorSpec] = Field(default_factory=list)
    overrides: list[IndicatorOverride] = Field(default_factory=list)

    @field_validator("applies_to")
    @classmethod
    def _no_kindergarten(cls, v):
        if "kindergarten" in v:
            raise ValueError("幼儿园不参加智慧校园认定，applies_to 不能包含 kindergarten")
        return v

    @model_validator(mode="after")
    def _cross(self):
        if not self.extends:
            if self.overrides:
                raise ValueError("只有派生标准（extends）可以写 overrides")
            if not self.indicators:
                raise ValueError("标准至少需要一个指标（indicators）")
        elif self.extends == self.code:
            raise ValueError("标准不能 extends 自己")
        check_unique(self.dimensions, "key", "维度")
        check_unique(self.indicators, "code", "指标")
        check_unique(self.overrides, "code", "调整项")
        return self


# --- thresholds -----------------------------------------------------------------------------


def level_rank(levels: list[str], value: str) -> int:
    return levels.index(value)


def at_least_as_strict(ind, a, b) -> bool:
    """Is threshold ``a`` at least as demanding as threshold ``b`` for indicator ``ind``?"""
    if b is None:
        return True
    if a is None:
        return False
    if ind.measure == "yes_no":
        return a is True or b is not True
    if ind.measure == "level":
        return level_rank(ind.levels, a) >= level_rank(ind.levels, b)
    if ind.direction == "at_most":
        return a <= b
    return a >= b


def fmt_threshold(ind, value) -> str:
    if value is None:
        return "（无）"
    if ind.measure == "yes_no":
        return "是" if value is True else "否"
    if ind.measure == "level":
        return str(value)
    sign = "≤" if ind.direction == "at_most" else "≥"
    number = int(value) if float(value).is_integer() else value
    unit = "%" if ind.measure == "percent" else (ind.unit or "")
    return f"{sign}{number}{unit}"


# --- resolved standards ----------------------------------------------------------------------


@dataclass
class ResolvedIndicator:
    code: str
    name: str
    dimension: str
    dimension_name: str
    description: str
    measure: str
    unit: str
    direction: str
    levels: list[str]
    basic: Any
    advanced: Any
    basic_by_stage: dict[str, Any]
    optional: bool
    weight: Decimal
    bonus: Decimal
    verification: str
    source: str
    note: str
    order: int
    inherited_from: str = ""
    overridden: bool = False
    veto: bool = False

    def to_row(self) -> dict:
        """Every field, as the keyword arguments of an ``Indicator`` row."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class ResolvedStandard:
    spec: StandardSpec
    dimensions: list[DimensionSpec]
    indicators: list[ResolvedIndicator]
    base_code: str | None = None

    def indicator(self, code: str) -> ResolvedIndicator | None:
        return next((i for i in self.indicators if i.code == code), None)


class StandardFileInvalid(FileInvalid):
    pass


@dataclass
class ParsedStandard:
    name: str
    sha256: str
    text: str
    spec: StandardSpec
    index: Any  # LineIndex or XlsxIndex: .line_for(loc) and .file_for(loc)
    errors: list[FileError] = field(default_factory=list)

    def error(self, loc: tuple, message: str) -> FileError:
        return _located(self.index, self.name, loc, message)


def _located(index, name: str, loc: tuple, message: str) -> FileError:
    """The error at ``loc``: in the sheet of the workbook it came from, or in the file."""
    file = index.file_for(loc) if hasattr(index, "file_for") else name
    return FileError(file, index.line_for(loc), field_label(loc), message)


def _message(err: dict) -> str:
    # A union of strict types failed: say what a threshold may be.
    if err["type"] in ("bool_type", "int_type", "float_type", "string_type") and any(
        part in ("basic", "advanced") for part in err["loc"] if isinstance(part, str)
    ):
        return "门槛值应为 true、数字或等级名称"
    return pydantic_message(err)


_UNION_PARTS = {"bool", "int", "float", "str", "function-after", "function-before"}


def _clean_loc(loc: tuple) -> tuple:
    return tuple(
        p
        for p in loc
        if not (isinstance(p, str) and (p in _UNION_PARTS or p.startswith("function-")))
    )


def _validate(data: dict, name: str, sha: str, text: str, index) -> ParsedStandard:
    try:
        spec = StandardSpec.model_validate(data)
    except ValidationError as exc:
        errors, seen = [], set()
        for err in exc.errors():
            loc = _clean_loc(err["loc"])
            # Cross-field checks say where below the model the problem is.
            inner = getattr((err.get("ctx") or {}).get("error"), "loc", None)
            if inner:
                loc = (*loc, *inner)
            message = _message(err)
            if (loc, message) in seen:
                continue  # a strict union reports the same problem once per member
            seen.add((loc, message))
            errors.append(_located(index, name, loc, message))
        raise StandardFileInvalid(errors) from exc
    return ParsedStandard(name, sha, text, spec, index)


def parse_toml_text(text: str, name: str) -> ParsedStandard:
    data = load_toml(text, name, StandardFileInvalid)
    sha = hashlib.sha256(text.encode()).hexdigest()
    return _validate(data, name, sha, text, LineIndex(text))
