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

``spec``: the schema, thresholds and TOML; ``xlsx``: the XLSX reader; ``resolving``:
``extends`` and the "never weaker" check.
"""

from __future__ import annotations

from pathlib import Path

from edupilot.programmes.loader import FileError

from .resolving import ALL_STAGES, resolve, threshold_for_stage, weaker_than
from .spec import (
    MEASURE_LABELS,
    SCHEMA_VERSION,
    STAGE_LABELS,
    VERIFICATION_LABELS,
    DimensionSpec,
    IndicatorOverride,
    IndicatorSpec,
    ParsedStandard,
    ResolvedIndicator,
    ResolvedStandard,
    RuleSpec,
    StandardFileInvalid,
    StandardSpec,
    at_least_as_strict,
    fmt_threshold,
    level_rank,
    parse_toml_text,
)
from .xlsx import parse_xlsx_bytes

__all__ = [
    "ALL_STAGES",
    "MEASURE_LABELS",
    "SCHEMA_VERSION",
    "STAGE_LABELS",
    "VERIFICATION_LABELS",
    "DimensionSpec",
    "IndicatorOverride",
    "IndicatorSpec",
    "ParsedStandard",
    "ResolvedIndicator",
    "ResolvedStandard",
    "RuleSpec",
    "StandardFileInvalid",
    "StandardSpec",
    "at_least_as_strict",
    "fmt_threshold",
    "level_rank",
    "parse_bytes",
    "parse_file",
    "parse_toml_text",
    "parse_xlsx_bytes",
    "resolve",
    "threshold_for_stage",
    "weaker_than",
]


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
