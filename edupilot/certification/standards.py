"""The standard file format: an indicator system as data.

A standard is dimensions → indicators. Each indicator has a measure (yes/no, number,
percent, level), a basic threshold (the requirement every school must meet) unless it is
optional (the Zhejiang guide's items marked "O"), an advanced threshold where the source
gives one, a weight (points when met) and an optional bonus (points when the advanced
threshold is met). The ``[rule]`` decides certification: typed switches (every basic
indicator met, a minimum score) and, for anything else, a CEL expression.

A standard may ``extends`` another (a district standard derived from the provincial
guide). It inherits every indicator and may only make thresholds stricter, add
indicators and add its own rule; the base's rule still has to hold. A file that lowers a
threshold is refused with the indicator and both values named.

Files are TOML or XLSX; both become the same dict and go through the same validation, so
errors name the file, the line (or sheet row) and the field, in Chinese.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
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

from edupilot.programmes.loader import PYDANTIC_MESSAGES, FileError, field_label
from edupilot.programmes.toml_lines import LineIndex

from . import rules

SCHEMA_VERSION = 1

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
IndicatorCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=32)]
StageName = Literal["kindergarten", "primary", "junior", "senior", "vocational", "teaching_point"]
MeasureName = Literal["yes_no", "number", "percent", "level"]
DirectionName = Literal["at_least", "at_most"]
VerificationName = Literal["official", "verified_excerpt", "structure_verified", "unverified"]
Threshold = StrictBool | StrictInt | StrictFloat | StrictStr

STAGE_LABELS = {
    "kindergarten": "幼儿园",
    "primary": "小学",
    "junior": "初中",
    "senior": "高中",
    "vocational": "中职",
    "teaching_point": "教学点",
}
MEASURE_LABELS = {"yes_no": "是/否", "number": "数值", "percent": "百分比", "level": "等级"}
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
    elif measure in ("number", "percent"):
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
    weight: Decimal | None = Field(default=None, ge=0)
    bonus: Decimal | None = Field(default=None, ge=0)
    verification: VerificationName | None = None
    source: str | None = None
    note: str | None = None


class RuleSpec(Strict):
    """What certifies a school. Every switch given must hold; ``expr`` is extra CEL."""

    all_basic: bool = True
    min_score: Decimal | None = Field(default=None, ge=0)
    expr: str = ""
    description: str = ""

    @field_validator("expr")
    @classmethod
    def _compiles(cls, v):
        if v.strip():
            try:
                rules.check_rule_expr(v)
            except rules.RuleCompileError as exc:
                raise ValueError(str(exc)) from exc
        return v


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
        _unique(self.dimensions, "key", "维度")
        _unique(self.indicators, "code", "指标")
        _unique(self.overrides, "code", "调整项")
        return self


def _unique(items, attr: str, where: str) -> None:
    seen = set()
    for item in items:
        value = getattr(item, attr)
        if value in seen:
            raise ValueError(f"{where} {value} 重复")
        seen.add(value)


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

    def to_row(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "dimension": self.dimension,
            "dimension_name": self.dimension_name,
            "description": self.description,
            "measure": self.measure,
            "unit": self.unit,
            "direction": self.direction,
            "levels": self.levels,
            "basic": self.basic,
            "advanced": self.advanced,
            "basic_by_stage": self.basic_by_stage,
            "optional": self.optional,
            "weight": self.weight,
            "bonus": self.bonus,
            "verification": self.verification,
            "source": self.source,
            "note": self.note,
            "order": self.order,
            "inherited_from": self.inherited_from,
            "overridden": self.overridden,
        }


@dataclass
class ResolvedStandard:
    spec: StandardSpec
    dimensions: list[DimensionSpec]
    indicators: list[ResolvedIndicator]
    base_code: str | None = None

    def indicator(self, code: str) -> ResolvedIndicator | None:
        return next((i for i in self.indicators if i.code == code), None)


class StandardFileInvalid(Exception):
    def __init__(self, errors: list[FileError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass
class ParsedStandard:
    name: str
    sha256: str
    text: str
    spec: StandardSpec
    index: Any  # LineIndex or XlsxIndex: .line_for(loc) and .file_for(loc)
    errors: list[FileError] = field(default_factory=list)

    def error(self, loc: tuple, message: str) -> FileError:
        return FileError(
            self.index.file_for(loc) if hasattr(self.index, "file_for") else self.name,
            self.index.line_for(loc),
            field_label(loc),
            message,
        )


def _message(err: dict) -> str:
    if err["type"] == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    template = PYDANTIC_MESSAGES.get(err["type"])
    # A union of strict types failed: say what a threshold may be.
    if err["type"] in ("bool_type", "int_type", "float_type", "string_type") and any(
        part in ("basic", "advanced") for part in err["loc"] if isinstance(part, str)
    ):
        return "门槛值应为 true、数字或等级名称"
    if template is None:
        return err["msg"]
    try:
        return template.format(**(err.get("ctx") or {}))
    except (KeyError, IndexError):
        return err["msg"]


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
            message = _message(err)
            if (loc, message) in seen:
                continue  # a strict union reports the same problem once per member
            seen.add((loc, message))
            file = index.file_for(loc) if hasattr(index, "file_for") else name
            errors.append(FileError(file, index.line_for(loc), field_label(loc), message))
        raise StandardFileInvalid(errors) from exc
    return ParsedStandard(name, sha, text, spec, index)


def parse_toml_text(text: str, name: str) -> ParsedStandard:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise StandardFileInvalid(
            [FileError(name, int(m.group(1)) if m else None, "", f"TOML 语法错误：{exc}")]
        ) from exc
    sha = hashlib.sha256(text.encode()).hexdigest()
    return _validate(data, name, sha, text, LineIndex(text))


# --- XLSX ---------------------------------------------------------------------------------------

# Column headers an XLSX standard may use (Chinese as a bureau would write them, or the keys).
INDICATOR_COLUMNS = {
    "代码": "code",
    "指标代码": "code",
    "名称": "name",
    "指标名称": "name",
    "维度": "dimension",
    "说明": "description",
    "计量方式": "measure",
    "单位": "unit",
    "方向": "direction",
    "等级": "levels",
    "基本要求": "basic",
    "发展要求": "advanced",
    "分学段基本要求": "basic_by_stage",
    "可选": "optional",
    "权重": "weight",
    "加分": "bonus",
    "核实状态": "verification",
    "来源": "source",
    "备注": "note",
}
OVERRIDE_COLUMNS = {k: v for k, v in INDICATOR_COLUMNS.items() if v not in ("name", "dimension")}
DIMENSION_COLUMNS = {"代码": "key", "维度代码": "key", "名称": "name", "说明": "description"}
STANDARD_FIELDS = {
    "代码": "code",
    "标准代码": "code",
    "名称": "title",
    "标准名称": "title",
    "简称": "short_title",
    "发布机构": "issuer",
    "发布机构名称": "issuer_name",
    "文号": "doc_no",
    "来源": "source",
    "核实状态": "verification",
    "说明": "note",
    "角色": "role",
    "适用学段": "applies_to",
    "依据标准": "extends",
    "规则.全部基本要求": "rule.all_basic",
    "规则.最低分": "rule.min_score",
    "规则.表达式": "rule.expr",
    "规则.说明": "rule.description",
}
MEASURE_ALIASES = {"是/否": "yes_no", "是否": "yes_no", "数值": "number", "百分比": "percent"}
MEASURE_ALIASES["等级"] = "level"
DIRECTION_ALIASES = {"不低于": "at_least", "不高于": "at_most", "≥": "at_least", "≤": "at_most"}
STAGE_ALIASES = {v: k for k, v in STAGE_LABELS.items()}
TRUE_WORDS = {"是", "true", "TRUE", "True", "有", "Y", "y", "yes", "√", "1"}
FALSE_WORDS = {"否", "false", "FALSE", "False", "无", "N", "n", "no", "×", "0", ""}


@dataclass
class XlsxIndex:
    """Maps a validation location to the sheet and row it came from."""

    name: str
    standard_rows: dict[str, int] = field(default_factory=dict)
    dimension_rows: list[int] = field(default_factory=list)
    indicator_rows: list[int] = field(default_factory=list)
    override_rows: list[int] = field(default_factory=list)

    def _where(self, loc: tuple) -> tuple[str, int | None]:
        if not loc:
            return "标准", None
        head = loc[0]
        i = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
        for key, sheet, rows in (
            ("dimensions", "维度", self.dimension_rows),
            ("indicators", "指标", self.indicator_rows),
            ("overrides", "调整", self.override_rows),
        ):
            if head == key:
                return sheet, rows[i] if i is not None and i < len(rows) else None
        dotted = ".".join(str(p) for p in loc[:2])
        return "标准", self.standard_rows.get(dotted) or self.standard_rows.get(str(head))

    def line_for(self, loc: tuple) -> int | None:
        return self._where(tuple(loc))[1]

    def file_for(self, loc: tuple) -> str:
        return f"{self.name}[{self._where(tuple(loc))[0]}]"


def _cell(value) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _xlsx_threshold(value):
    value = _cell(value)
    if isinstance(value, str):
        if value in ("是", "true", "TRUE", "True"):
            return True
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return value
    return value


def _split(value) -> list[str]:
    return [p.strip() for p in re.split(r"[、,，;；\s]+", str(value or "")) if p.strip()]


def _by_stage(value, errors_to: list, where) -> dict:
    out = {}
    for part in re.split(r"[;；,，]+", str(value or "")):
        if not part.strip():
            continue
        if "=" not in part:
            errors_to.append((where, f"分学段基本要求应写成“高中=6；初中=8”，无法理解“{part}”"))
            continue
        stage, _, thr = part.partition("=")
        stage = STAGE_ALIASES.get(stage.strip(), stage.strip())
        out[stage] = _xlsx_threshold(thr.strip())
    return out


def parse_xlsx_bytes(content: bytes, name: str) -> ParsedStandard:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(_BytesReader(content))
    except Exception as exc:  # calamine raises several kinds for a file that is not XLSX
        raise StandardFileInvalid(
            [FileError(name, None, "", f"无法读取 XLSX 文件：{exc}")]
        ) from exc
    sheets = set(wb.sheet_names)
    index = XlsxIndex(name)
    data: dict[str, Any] = {}
    problems: list[tuple[tuple, str]] = []
    if "标准" not in sheets or "指标" not in sheets and "调整" not in sheets:
        raise StandardFileInvalid(
            [
                FileError(
                    name, None, "", "XLSX 标准文件须有工作表“标准”和“指标”（派生标准可用“调整”）"
                )
            ]
        )
    for rowno, row in enumerate(wb.get_sheet_by_name("标准").to_python(), start=1):
        if len(row) < 2 or not str(row[0]).strip():
            continue
        label, value = str(row[0]).strip(), _cell(row[1])
        key = STANDARD_FIELDS.get(label, label)
        if rowno == 1 and label in ("字段", "项目"):
            continue
        index.standard_rows[key] = rowno
        if value in ("", None):
            continue
        if key == "applies_to":
            value = [STAGE_ALIASES.get(s, s) for s in _split(value)]
        elif key == "rule.all_basic":
            value = value in TRUE_WORDS if isinstance(value, str) else bool(value)
        if key.startswith("rule."):
            data.setdefault("rule", {})[key.split(".", 1)[1]] = value
        else:
            data[key] = value

    def table(sheet: str, columns: dict[str, str], rows_out: list[int]) -> list[dict]:
        if sheet not in sheets:
            return []
        rows = wb.get_sheet_by_name(sheet).to_python()
        if not rows:
            return []
        header = [str(h).strip() for h in rows[0]]
        keys = [columns.get(h, h if h in columns.values() else None) for h in header]
        unknown = [h for h, k in zip(header, keys, strict=True) if h and k is None]
        for h in unknown:
            problems.append(((sheet,), f"工作表“{sheet}”有不认识的列“{h}”"))
        out = []
        for rowno, row in enumerate(rows[1:], start=2):
            if not any(str(c).strip() for c in row):
                continue
            item: dict[str, Any] = {}
            for key, cell in zip(keys, row, strict=False):
                if key is None:
                    continue
                value = _cell(cell)
                if value in ("", None):
                    continue
                if key in ("basic", "advanced"):
                    value = _xlsx_threshold(value)
                elif key == "levels":
                    value = _split(value)
                elif key == "basic_by_stage":
                    value = _by_stage(value, problems, (sheet, rowno))
                elif key == "optional":
                    value = value in TRUE_WORDS if isinstance(value, str) else bool(value)
                elif key == "measure":
                    value = MEASURE_ALIASES.get(value, value)
                elif key == "direction":
                    value = DIRECTION_ALIASES.get(value, value)
                elif key in ("code", "name", "dimension", "unit", "description", "source"):
                    value = str(value)
                item[key] = value
            out.append(item)
            rows_out.append(rowno)
        return out

    dims = table("维度", DIMENSION_COLUMNS, index.dimension_rows)
    if dims:
        data["dimensions"] = dims
    inds = table("指标", INDICATOR_COLUMNS, index.indicator_rows)
    if inds:
        data["indicators"] = inds
    ovs = table("调整", OVERRIDE_COLUMNS, index.override_rows)
    if ovs:
        data["overrides"] = ovs
    if problems:
        raise StandardFileInvalid(
            [
                FileError(f"{name}[{where[0]}]", where[1] if len(where) > 1 else None, "", msg)
                for where, msg in problems
            ]
        )
    # Dimensions named only in the indicator sheet: create them from the names used.
    if "dimensions" not in data and "indicators" in data:
        names: dict[str, str] = {}
        for item in data["indicators"]:
            dim = item.get("dimension")
            if dim and not re.match(r"^[a-z][a-z0-9_]*$", dim):
                key = names.setdefault(dim, f"d{len(names) + 1}")
                item["dimension"] = key
        data["dimensions"] = [{"key": k, "name": n} for n, k in names.items()]
    sha = hashlib.sha256(content).hexdigest()
    return _validate(data, name, sha, "", index)


class _BytesReader:
    """A minimal file-like object over bytes (calamine wants read/seek)."""

    def __init__(self, content: bytes):
        import io

        self._io = io.BytesIO(content)

    def read(self, *a):
        return self._io.read(*a)

    def seek(self, *a):
        return self._io.seek(*a)

    def tell(self):
        return self._io.tell()


def parse_bytes(content: bytes, name: str) -> ParsedStandard:
    if name.lower().endswith((".xlsx", ".xlsm")) or content[:2] == b"PK":
        return parse_xlsx_bytes(content, name)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StandardFileInvalid([FileError(name, None, "", "文件不是 UTF-8 编码")]) from exc
    return parse_toml_text(text, name)


def parse_file(path: str | Path) -> ParsedStandard:
    path = Path(path)
    try:
        content = path.read_bytes()
    except FileNotFoundError as exc:
        raise StandardFileInvalid([FileError(str(path), None, "", "文件不存在")]) from exc
    return parse_bytes(content, str(path))


# --- resolving against a base ----------------------------------------------------------------


def resolve(parsed: ParsedStandard, base: ResolvedStandard | None) -> ResolvedStandard:
    """Apply ``extends``: inherit the base's indicators and check nothing gets weaker.

    Raises StandardFileInvalid listing every problem (each names the indicator and both values).
    """
    spec = parsed.spec
    errors: list[FileError] = []

    def err(loc: tuple, message: str) -> None:
        errors.append(parsed.error(loc, message))

    if spec.extends and base is None:
        err(("extends",), f"所依据的标准 {spec.extends} 尚未载入，请先载入它")
        raise StandardFileInvalid(errors)
    if base is not None and base.spec.role != spec.role:
        err(("role",), f"派生标准的 role 须与所依据标准 {base.spec.code} 相同（{base.spec.role}）")

    dimensions = list(base.dimensions) if base else []
    dim_keys = {d.key for d in dimensions}
    for d in spec.dimensions:
        if d.key in dim_keys:
            # Renaming an inherited dimension is allowed (a local wording).
            dimensions = [d if x.key == d.key else x for x in dimensions]
        else:
            dimensions.append(d)
            dim_keys.add(d.key)
    dim_names = {d.key: d.name for d in dimensions}

    out: list[ResolvedIndicator] = []
    if base is not None:
        for b in base.indicators:
            out.append(
                ResolvedIndicator(
                    **{
                        **b.to_row(),
                        "inherited_from": b.inherited_from or base.spec.code,
                        "overridden": False,
                    }
                )
            )
    by_code = {i.code: i for i in out}
    base_label = f"所依据标准 {base.spec.code}" if base else ""

    for oi, ov in enumerate(spec.overrides):
        target = by_code.get(ov.code)
        loc = ("overrides", oi)
        if target is None:
            err((*loc, "code"), f"所依据标准 {spec.extends} 中没有指标 {ov.code}")
            continue
        original = ResolvedIndicator(**target.to_row())
        try:
            for name in ("basic", "advanced"):
                _check_threshold(target.measure, target.levels, getattr(ov, name), name)
            for stage, value in ov.basic_by_stage.items():
                _check_threshold(target.measure, target.levels, value, f"basic_by_stage.{stage}")
        except ValueError as exc:
            err(loc, f"指标 {ov.code}（{target.name}）：{exc}")
            continue
        if ov.optional is not None:
            if ov.optional and not target.optional:
                err(
                    (*loc, "optional"),
                    f"指标 {ov.code}（{target.name}）在{base_label}中是基本要求，不能改为可选",
                )
            target.optional = ov.optional
        if ov.basic is not None:
            target.basic = ov.basic
        if ov.advanced is not None:
            target.advanced = ov.advanced
        if ov.basic_by_stage:
            target.basic_by_stage = {**target.basic_by_stage, **ov.basic_by_stage}
        for name in ("weight", "bonus", "verification", "source", "note"):
            if getattr(ov, name) is not None:
                setattr(target, name, getattr(ov, name))
        target.overridden = True
        if not target.optional and target.basic is None:
            err(loc, f"指标 {ov.code}（{target.name}）改为基本要求时须给出 basic")
        for field_name, problem in weaker_than(original, target):
            err((*loc, field_name), problem)

    for ii, ind in enumerate(spec.indicators):
        loc = ("indicators", ii)
        if ind.code in by_code:
            err(
                (*loc, "code"),
                f"指标 {ind.code} 已在{base_label}中定义；要调整它请写在 overrides 中",
            )
            continue
        if ind.dimension not in dim_names:
            err((*loc, "dimension"), f"维度 {ind.dimension} 未在 dimensions 中定义")
            continue
        row = ind.model_dump()
        resolved = ResolvedIndicator(
            **row, dimension_name=dim_names[ind.dimension], order=len(out) + 1
        )
        out.append(resolved)
        by_code[ind.code] = resolved

    if errors:
        raise StandardFileInvalid(errors)
    for n, ind in enumerate(
        sorted(out, key=lambda i: ([d.key for d in dimensions].index(i.dimension), i.order)),
        start=1,
    ):
        ind.order = n
    out.sort(key=lambda i: i.order)
    return ResolvedStandard(spec, dimensions, out, base.spec.code if base else None)


ALL_STAGES = ["primary", "junior", "senior", "vocational", "teaching_point"]


def threshold_for_stage(ind, stage: str | None):
    if stage and stage in ind.basic_by_stage:
        return ind.basic_by_stage[stage]
    return ind.basic


def weaker_than(base: ResolvedIndicator, child: ResolvedIndicator) -> list[tuple[str, str]]:
    """Every way ``child`` asks less than ``base``: (field, message naming both values)."""
    problems = []
    label = f"指标 {child.code}（{child.name}）"
    if not base.optional:
        for stage in [None, *ALL_STAGES]:
            if (
                stage is not None
                and stage not in base.basic_by_stage
                and stage not in child.basic_by_stage
            ):
                continue
            b = threshold_for_stage(base, stage)
            c = threshold_for_stage(child, stage)
            if not at_least_as_strict(child, c, b):
                where = f"（{STAGE_LABELS[stage]}）" if stage else ""
                field_ = "basic_by_stage" if stage and stage in child.basic_by_stage else "basic"
                problems.append(
                    (
                        field_,
                        f"{label}的基本要求{where} {fmt_threshold(child, c)} 低于所依据标准的 "
                        f"{fmt_threshold(base, b)}，派生标准不得低于所依据标准",
                    )
                )
    if base.advanced is not None and not at_least_as_strict(child, child.advanced, base.advanced):
        problems.append(
            (
                "advanced",
                f"{label}的发展要求 {fmt_threshold(child, child.advanced)} 低于所依据标准的 "
                f"{fmt_threshold(base, base.advanced)}，派生标准不得低于所依据标准",
            )
        )
    return problems
