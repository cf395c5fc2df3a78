"""Standard files as XLSX: sheets 标准 (fields), 维度, 指标 and 调整 (a derived standard's
overrides), read into the same dict as a TOML file and validated the same way; errors name
the sheet and row."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from typing import Any

from edupilot.programmes.loader import FileError

from .spec import STAGE_LABELS, ParsedStandard, StandardFileInvalid, _validate

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
    "否决项": "veto",
    "权重": "weight",
    "加分": "bonus",
    "核实状态": "verification",
    "来源": "source",
    "备注": "note",
}
OVERRIDE_COLUMNS = {k: v for k, v in INDICATOR_COLUMNS.items() if v not in ("name", "dimension")}
DIMENSION_COLUMNS = {
    "代码": "key",
    "维度代码": "key",
    "名称": "name",
    "说明": "description",
    "最低得分率": "min_percent",
}
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
    "规则.最低得分率": "rule.min_percent",
    "规则.表达式": "rule.expr",
    "规则.说明": "rule.description",
}
MEASURE_ALIASES = {"是/否": "yes_no", "是否": "yes_no", "数值": "number", "百分比": "percent"}
MEASURE_ALIASES["等级"] = "level"
MEASURE_ALIASES["得分"] = "score"
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


def _standard_fields(wb, index: XlsxIndex) -> dict[str, Any]:
    """The 标准 sheet: one field per row (label, value)."""
    data: dict[str, Any] = {}
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
    return data


def _table_value(key: str, value, problems: list, where: tuple):
    if key in ("basic", "advanced"):
        return _xlsx_threshold(value)
    if key == "levels":
        return _split(value)
    if key == "basic_by_stage":
        return _by_stage(value, problems, where)
    if key in ("optional", "veto"):
        return value in TRUE_WORDS if isinstance(value, str) else bool(value)
    if key == "measure":
        return MEASURE_ALIASES.get(value, value)
    if key == "direction":
        return DIRECTION_ALIASES.get(value, value)
    if key in ("code", "name", "dimension", "unit", "description", "source"):
        return str(value)
    return value


def _table(wb, sheet: str, columns: dict[str, str], rows_out: list[int], problems: list):
    """A sheet with a header row: one dict per non-empty row; its row numbers to ``rows_out``."""
    if sheet not in wb.sheet_names:
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
            item[key] = _table_value(key, value, problems, (sheet, rowno))
        out.append(item)
        rows_out.append(rowno)
    return out


def _name_dimensions(data: dict) -> None:
    """Dimensions named only in the indicator sheet: create them from the names used."""
    names: dict[str, str] = {}
    for item in data["indicators"]:
        dim = item.get("dimension")
        if dim and not re.match(r"^[a-z][a-z0-9_]*$", dim):
            key = names.setdefault(dim, f"d{len(names) + 1}")
            item["dimension"] = key
    data["dimensions"] = [{"key": k, "name": n} for n, k in names.items()]


def parse_xlsx_bytes(content: bytes, name: str) -> ParsedStandard:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(_BytesReader(content))
    except Exception as exc:  # calamine raises several kinds for a file that is not XLSX
        raise StandardFileInvalid(
            [FileError(name, None, "", f"无法读取 XLSX 文件：{exc}")]
        ) from exc
    sheets = set(wb.sheet_names)
    if "标准" not in sheets or "指标" not in sheets and "调整" not in sheets:
        raise StandardFileInvalid(
            [
                FileError(
                    name, None, "", "XLSX 标准文件须有工作表“标准”和“指标”（派生标准可用“调整”）"
                )
            ]
        )
    index = XlsxIndex(name)
    data = _standard_fields(wb, index)
    problems: list[tuple[tuple, str]] = []
    for key, sheet, columns, rows_out in (
        ("dimensions", "维度", DIMENSION_COLUMNS, index.dimension_rows),
        ("indicators", "指标", INDICATOR_COLUMNS, index.indicator_rows),
        ("overrides", "调整", OVERRIDE_COLUMNS, index.override_rows),
    ):
        items = _table(wb, sheet, columns, rows_out, problems)
        if items:
            data[key] = items
    if problems:
        raise StandardFileInvalid(
            [
                FileError(f"{name}[{where[0]}]", where[1] if len(where) > 1 else None, "", msg)
                for where, msg in problems
            ]
        )
    if "dimensions" not in data and "indicators" in data:
        _name_dimensions(data)
    sha = hashlib.sha256(content).hexdigest()
    return _validate(data, name, sha, "", index)


class _BytesReader:
    """A minimal file-like object over bytes (calamine wants read/seek)."""

    def __init__(self, content: bytes):
        self._io = io.BytesIO(content)

    def read(self, *a):
        return self._io.read(*a)

    def seek(self, *a):
        return self._io.seek(*a)

    def tell(self):
        return self._io.tell()
