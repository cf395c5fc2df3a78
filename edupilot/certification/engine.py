"""Automatic assessment: values × standard → per-indicator outcome and a provisional result.

Pure Python over plain data (no database), compiled once per standard so that 50,000
schools × 80 indicators is a few seconds of arithmetic. Parsing the raw cells that other
systems export (是/否, "95%", "良好") into typed values lives here too, so the importer,
the correction form and the site-verification form all read values the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from edupilot.core import cel

MET, UNMET, MISSING = "met", "unmet", "missing"
STATUS_LABELS = {MET: "达到", UNMET: "未达到", MISSING: "缺数据"}

PASS, FAIL, INCOMPLETE, PENDING = "pass", "fail", "incomplete", "pending"

YES = {"是", "有", "y", "yes", "true", "t", "1", "√", "✓", "达到", "符合", "已建", "已完成"}
NO = {"否", "无", "n", "no", "false", "f", "0", "×", "✗", "未达到", "不符合", "未建", "未完成"}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class ValueError_(ValueError):
    """A cell that cannot be read as this indicator's measure (message in Chinese)."""


def parse_value(measure: str, levels: list[str], raw: Any, *, scale: float = 1.0):
    """The typed value of ``raw`` for a measure, None for an empty cell.

    Raises ValueError_ with a Chinese message when the cell cannot be read.
    """
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "" or raw in ("-", "—", "/", "－"):
            return None
    if measure == "yes_no":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int | float):
            if raw in (0, 1):
                return bool(raw)
            raise ValueError_(f"“{raw}”不是“是/否”")
        word = str(raw).strip().lower()
        if word in YES:
            return True
        if word in NO:
            return False
        raise ValueError_(f"“{raw}”不是“是/否”（可写 是/否、有/无、1/0）")
    if measure in ("number", "percent"):
        if isinstance(raw, bool):
            raise ValueError_(f"“{raw}”不是数字")
        if isinstance(raw, int | float):
            number = float(raw)
        else:
            text = str(raw).replace(",", "").replace("，", "").replace(" ", "")
            if measure == "percent" and text.endswith(("%", "％")):
                text = text[:-1]
            elif measure == "number":
                # Tolerate a trailing unit the other system appends ("1000Mbps", "12台").
                m = re.match(r"^([+-]?[\d.]+)\s*[A-Za-z\u4e00-\u9fff/]*$", text)
                text = m.group(1) if m else text
            if not _NUMBER.match(text):
                raise ValueError_(f"“{raw}”不是数字")
            try:
                number = float(Decimal(text))
            except InvalidOperation as exc:
                raise ValueError_(f"“{raw}”不是数字") from exc
        number *= scale
        if measure == "percent" and not 0 <= number <= 100:
            raise ValueError_(f"百分比 {number:g} 不在 0–100 之间")
        if number < 0:
            raise ValueError_(f"数值 {number:g} 不能为负")
        return number
    if measure == "level":
        text = str(int(raw) if isinstance(raw, float) and raw.is_integer() else raw).strip()
        if text in levels:
            return text
        raise ValueError_(f"“{raw}”不是可用的等级（{'、'.join(levels)}）")
    raise ValueError_(f"未知的计量方式 {measure}")


def make_parser(measure: str, levels: list[str], *, scale: float = 1.0):
    """A parser for one column: the cell types other systems export most often take a
    short path; anything else goes through :func:`parse_value` (same results, same errors)."""

    def slow(raw):
        return parse_value(measure, levels, raw, scale=scale)

    if measure == "yes_no":
        words = {**dict.fromkeys(YES, True), **dict.fromkeys(NO, False)}

        def parse(raw):
            if raw.__class__ is str:
                found = words.get(raw)
                if found is None:
                    found = words.get(raw.strip().lower())
                if found is not None:
                    return found
            elif (raw.__class__ is float or raw.__class__ is int) and raw in (0, 1):
                return raw == 1
            return slow(raw)

    elif measure in ("number", "percent"):
        high = 100.0 if measure == "percent" else float("inf")

        def parse(raw):
            if raw.__class__ is float or raw.__class__ is int:
                number = raw * scale
                if 0 <= number <= high:
                    return float(number)
            elif raw.__class__ is str and raw[-1:] == "%" and measure == "percent":
                try:
                    number = float(raw[:-1]) * scale
                except ValueError:
                    return slow(raw)
                if 0 <= number <= high:
                    return number
            elif raw.__class__ is str and raw.isdigit() and raw.isascii():
                # Plain digits, as CSV gives every number: float() reads them as Decimal does.
                number = float(raw) * scale
                if 0 <= number <= high:
                    return number
            return slow(raw)

    elif measure == "level":
        known = frozenset(levels)

        def parse(raw):
            if raw.__class__ is str and raw in known:
                return raw
            return slow(raw)

    else:
        parse = slow
    return parse


def _meets_fn(ind, threshold):
    """``value -> bool`` for one indicator and threshold, decided once per standard and stages."""
    if threshold is None:
        return lambda value: False
    if ind.measure == "yes_no":
        if threshold is True:
            return lambda value: value is True
        return lambda value: True
    if ind.measure == "level":
        rank, needed = ind.rank, ind.rank[threshold]
        return lambda value: rank.get(value, -1) >= needed
    if ind.direction == "at_most":
        return lambda value: value <= threshold
    return lambda value: value >= threshold


def format_value(measure: str, value, unit: str = "") -> str:
    if value is None:
        return "—"
    if measure == "yes_no":
        return "是" if value else "否"
    if measure in ("number", "percent"):
        number = int(value) if float(value).is_integer() else round(float(value), 2)
        return f"{number}%" if measure == "percent" else f"{number}{unit}"
    return str(value)


# --- compiled standards ---------------------------------------------------------------------


@dataclass
class CompiledIndicator:
    code: str
    name: str
    dimension: str
    measure: str
    direction: str
    levels: list[str]
    rank: dict[str, int]
    basic: Any
    advanced: Any
    by_stage: dict[str, Any]
    optional: bool
    weight: float
    bonus: float
    unit: str = ""

    def requirement(self, stages) -> Any:
        """The basic threshold for a school with these stages: the strictest that applies."""
        if not self.by_stage:
            return self.basic
        found = [self.by_stage[s] for s in stages if s in self.by_stage]
        if not found:
            return self.basic
        if self.measure == "level":
            return max(found, key=lambda v: self.rank[v])
        if self.measure == "yes_no":
            return True if True in found else found[0]
        return min(found) if self.direction == "at_most" else max(found)

    def meets(self, value, threshold) -> bool:
        if threshold is None:
            return False
        if self.measure == "yes_no":
            return value is True or threshold is not True
        if self.measure == "level":
            return self.rank.get(value, -1) >= self.rank[threshold]
        if self.direction == "at_most":
            return value <= threshold
        return value >= threshold


@dataclass
class IndicatorOutcome:
    code: str
    status: str
    value: Any
    threshold: Any
    advanced: bool
    points: float
    source: str = ""  # "data" / "correction" / "finding"


@dataclass
class StandardOutcome:
    code: str
    passed: bool
    incomplete: bool
    score: float
    max_score: float
    basic_total: int
    basic_met: int
    unmet_basic: list[str]
    missing: list[str]
    advanced: list[str]
    rule_error: str = ""
    indicators: dict[str, IndicatorOutcome] = field(default_factory=dict)

    def summary(self) -> dict:
        return {
            "code": self.code,
            "passed": self.passed,
            "incomplete": self.incomplete,
            "score": round(self.score, 2),
            "max_score": round(self.max_score, 2),
            "basic_total": self.basic_total,
            "basic_met": self.basic_met,
            "unmet_basic": self.unmet_basic,
            "missing": self.missing,
            "advanced": self.advanced,
            "rule_error": self.rule_error,
        }


class CompiledStandard:
    """A standard ready to assess. ``indicators`` rows are dicts as stored (Indicator rows)."""

    def __init__(
        self,
        *,
        code: str,
        indicators: list[dict],
        rule: dict,
        applies_to: list[str] | None = None,
    ):
        self.code = code
        self.applies_to = set(applies_to or [])
        self.indicators = [
            CompiledIndicator(
                code=i["code"],
                name=i.get("name", i["code"]),
                dimension=i.get("dimension", ""),
                measure=i["measure"],
                direction=i.get("direction", "at_least"),
                levels=list(i.get("levels") or []),
                rank={v: n for n, v in enumerate(i.get("levels") or [])},
                basic=_num(i.get("basic")),
                advanced=_num(i.get("advanced")),
                by_stage={k: _num(v) for k, v in (i.get("basic_by_stage") or {}).items()},
                optional=bool(i.get("optional")),
                weight=float(i.get("weight") or 0),
                bonus=float(i.get("bonus") or 0),
                unit=i.get("unit", ""),
            )
            for i in indicators
        ]
        self.by_code = {i.code: i for i in self.indicators}
        self.all_basic = bool(rule.get("all_basic", True))
        self.min_score = None if rule.get("min_score") in (None, "") else float(rule["min_score"])
        self.expr = (rule.get("expr") or "").strip()
        self.expr_vars = cel.variables(self.expr) if self.expr else frozenset()
        self.max_score = sum(i.weight + i.bonus for i in self.indicators)
        self.basic_total = sum(1 for i in self.indicators if not i.optional)
        self.wants_dimensions = "dimension_score" in self.expr_vars
        self._plans: dict[tuple, list] = {}

    def plan(self, stages) -> list:
        """Per indicator: (indicator, threshold, meets, meets_advanced) for these stages.
        Schools come in a handful of stage combinations, so this is built a few times."""
        key = tuple(sorted(stages))
        plan = self._plans.get(key)
        if plan is None:
            plan = []
            for ind in self.indicators:
                threshold = ind.advanced if ind.optional else ind.requirement(key)
                advanced = None if ind.advanced is None else _meets_fn(ind, ind.advanced)
                plan.append((ind, threshold, _meets_fn(ind, threshold), advanced))
            self._plans[key] = plan
        return plan

    def applies(self, stages) -> bool:
        return not self.applies_to or bool(self.applies_to.intersection(stages))

    def assess(
        self,
        values: dict[str, Any],
        stages,
        *,
        findings: dict[str, bool] | None = None,
        school: dict | None = None,
        detail: bool = False,
    ) -> StandardOutcome:
        """Assess one school. ``values``: code → typed value (absent: missing);
        ``findings``: code → met, from site verification, which overrides the data."""
        findings = findings or {}
        score = 0.0
        basic_met = 0
        unmet_basic: list[str] = []
        missing: list[str] = []
        advanced: list[str] = []
        met_map: dict[str, bool] = {}
        dim_score: dict[str, float] = {}
        outcomes: dict[str, IndicatorOutcome] = {}
        missing_points = 0.0
        wants_dimensions = self.wants_dimensions
        for ind, threshold, meets, meets_advanced in self.plan(stages):
            code = ind.code
            value = values.get(code)
            source = "data"
            if findings and code in findings:
                ok = findings[code]
                status = MET if ok else UNMET
                adv = (
                    ok
                    and meets_advanced is not None
                    and value is not None
                    and meets_advanced(value)
                )
                source = "finding"
            elif value is None:
                status, ok, adv = MISSING, False, False
            else:
                ok = meets(value)
                status = MET if ok else UNMET
                adv = meets_advanced is not None and meets_advanced(value)
            points = (ind.weight if ok else 0.0) + (ind.bonus if adv else 0.0)
            score += points
            if status == MISSING:
                missing.append(code)
                missing_points += ind.weight + ind.bonus
            if not ind.optional:
                if ok:
                    basic_met += 1
                else:
                    unmet_basic.append(code)
            if adv:
                advanced.append(code)
            met_map[code] = ok
            if wants_dimensions:
                dim_score[ind.dimension] = dim_score.get(ind.dimension, 0.0) + points
            if detail:
                outcomes[code] = IndicatorOutcome(
                    code, status, value, threshold, adv, points, source
                )

        def decide(score_: float, unmet_: int, met_: dict) -> tuple[bool, str]:
            return self._decide(
                score_,
                unmet_,
                met_,
                values=values,
                missing=len(missing),
                advanced=len(advanced),
                dim_score=dim_score,
                school=school or {"stages": list(stages)},
            )

        passed, error = decide(score, len(unmet_basic), met_map)
        incomplete = False
        if not passed and missing:
            # Would the school pass if every missing value turned out met? Then it is not a
            # failure yet but a gap in the data.
            missing_basic = sum(1 for c in missing if not self.by_code[c].optional)
            optimistic = {**met_map, **dict.fromkeys(missing, True)}
            incomplete, _ = decide(
                score + missing_points, len(unmet_basic) - missing_basic, optimistic
            )
        return StandardOutcome(
            code=self.code,
            passed=passed,
            incomplete=incomplete,
            score=score,
            max_score=self.max_score,
            basic_total=self.basic_total,
            basic_met=basic_met,
            unmet_basic=unmet_basic,
            missing=missing,
            advanced=advanced,
            rule_error=error,
            indicators=outcomes,
        )

    def _decide(
        self, score: float, unmet: int, met: dict, *, values, missing, advanced, dim_score, school
    ) -> tuple[bool, str]:
        """The rule: every basic indicator met, a minimum score, then the CEL expression."""
        if self.all_basic and unmet:
            return False, ""
        if self.min_score is not None and score + 1e-9 < self.min_score:
            return False, ""
        if self.expr:
            ctx = _context(
                self.expr_vars,
                score=score,
                max_score=self.max_score,
                basic_total=self.basic_total,
                basic_met=self.basic_total - unmet,
                basic_unmet=unmet,
                missing=missing,
                advanced_met=advanced,
                met=met,
                value=values,
                dimension_score=dim_score,
                school=school,
            )
            return cel.decide(self.expr, ctx)
        return True, ""


def _num(v):
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return v


def _context(names: frozenset[str], **available) -> dict:
    return {k: available[k] for k in names if k in available}


@dataclass
class EntryResult:
    """The result of a school across the standards that apply to it."""

    provisional: str
    score: float | None
    unmet_basic: list[str]
    missing: list[str]
    standards: list[dict]

    def as_json(self) -> dict:
        return {
            "provisional": self.provisional,
            "standards": self.standards,
        }


def combine(outcomes: list[StandardOutcome]) -> EntryResult:
    """Every applicable standard must pass; a fail that missing data could turn is incomplete."""
    if not outcomes:
        return EntryResult(PENDING, None, [], [], [])
    if all(o.passed for o in outcomes):
        provisional = PASS
    elif all(o.passed or o.incomplete for o in outcomes):
        provisional = INCOMPLETE
    else:
        provisional = FAIL
    unmet: list[str] = []
    missing: list[str] = []
    for o in outcomes:
        unmet += [c for c in o.unmet_basic if c not in unmet and c not in o.missing]
        missing += [c for c in o.missing if c not in missing]
    return EntryResult(
        provisional, outcomes[0].score, unmet, missing, [o.summary() for o in outcomes]
    )
