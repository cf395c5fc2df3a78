"""Automatic assessment: values × standard → per-indicator outcome and a provisional result.

Pure Python over plain data (no database), compiled once per standard so that 50,000
schools × 80 indicators is a few seconds of arithmetic. Reading raw cells into typed values
is in :mod:`.values`, re-exported here. The rule: veto items, basic items, the score, each
dimension's minimum share, each module, the CEL expression, then the grade.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from edupilot.core import cel
from edupilot.programmes.grading import GradeSpec, grade_for

from .values import (  # noqa: F401 - re-exported: callers read values through the engine
    NO,
    YES,
    ValueError_,
    format_value,
    make_column_parser,
    make_parser,
    parse_value,
)

MET, UNMET, MISSING = "met", "unmet", "missing"
STATUS_LABELS = {MET: "达到", UNMET: "未达到", MISSING: "缺数据"}

PASS, FAIL, INCOMPLETE, PENDING = "pass", "fail", "incomplete", "pending"


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
    veto: bool = False

    def points(self, value, ok: bool, adv: bool) -> float:
        """Points earned: a score item's value (partial credit, at most its weight), any
        other item's weight when met; plus the bonus at the advanced level."""
        if self.measure == "score":
            base = min(float(value), self.weight) if value is not None else 0.0
        else:
            base = self.weight if ok else 0.0
        return base + (self.bonus if adv else 0.0)

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
    # dimension key -> [points, maximum]; module key -> passed; the grade reached.
    dimensions: dict[str, list[float]] = field(default_factory=dict)
    modules: dict[str, bool] = field(default_factory=dict)
    veto_unmet: list[str] = field(default_factory=list)
    graded: bool = False
    grade: str = ""
    grade_name: str = ""
    # Why the school does not pass (Chinese), in the rule's order; empty when it passes.
    reasons: list[str] = field(default_factory=list)

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
            # A list, not a map: PostgreSQL's jsonb does not keep a map's key order.
            "dimensions": [[k, round(a, 2), round(b, 2)] for k, (a, b) in self.dimensions.items()],
            "modules": self.modules,
            "veto_unmet": self.veto_unmet,
            "graded": self.graded,
            "grade": self.grade,
            "grade_name": self.grade_name,
            "reasons": self.reasons,
        }


@dataclass
class _Tally:
    """What the rule reads of one school: points overall and per dimension, unmet items."""

    score: float = 0.0
    unmet: int = 0
    met: dict = field(default_factory=dict)
    dims: dict = field(default_factory=dict)
    veto_unmet: list = field(default_factory=list)
    unmet_by_dim: dict = field(default_factory=dict)


class CompiledStandard:
    """A standard ready to assess. ``indicators`` rows are dicts as stored (Indicator rows);
    ``dimensions`` as stored on the standard (key, name, min_percent)."""

    def __init__(
        self,
        *,
        code: str,
        indicators: list[dict],
        rule: dict,
        applies_to: list[str] | None = None,
        dimensions: list[dict] | None = None,
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
                veto=bool(i.get("veto")),
            )
            for i in indicators
        ]
        self.by_code = {i.code: i for i in self.indicators}
        self.all_basic = bool(rule.get("all_basic", True))
        self.min_score = None if rule.get("min_score") in (None, "") else float(rule["min_score"])
        self.min_percent = _opt_float(rule.get("min_percent"))
        self.expr = (rule.get("expr") or "").strip()
        self.expr_vars = cel.variables(self.expr) if self.expr else frozenset()
        self.max_score = sum(i.weight + i.bonus for i in self.indicators)
        self.basic_total = sum(1 for i in self.indicators if not i.optional)
        self.dim_max: dict[str, float] = {}
        for i in self.indicators:
            self.dim_max[i.dimension] = self.dim_max.get(i.dimension, 0.0) + i.weight + i.bonus
        self.dim_min = {
            d["key"]: (float(d["min_percent"]), d.get("name", d["key"]))
            for d in dimensions or []
            if d.get("min_percent") not in (None, "") and d["key"] in self.dim_max
        }
        self.dim_names = {d["key"]: d.get("name", d["key"]) for d in dimensions or []}
        self.modules = list(rule.get("modules") or [])
        self.grades = [GradeSpec.model_validate(_grade_fields(g)) for g in rule.get("grades") or []]
        self.grade_exprs = {
            g["key"]: (expr, cel.variables(expr))
            for g in rule.get("grades") or []
            if (expr := (g.get("expr") or "").strip())
        }
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
        actual = _Tally()
        dims, met_map, unmet_by_dim = actual.dims, actual.met, actual.unmet_by_dim
        score = 0.0
        basic_met = 0
        unmet_basic: list[str] = []
        missing: list[str] = []
        advanced: list[str] = []
        outcomes: dict[str, IndicatorOutcome] = {}
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
            if ind.measure == "score":
                points = ind.points(value, ok, adv)
            else:
                points = (ind.weight if ok else 0.0) + (ind.bonus if adv else 0.0)
            if status == MISSING:
                missing.append(code)
            score += points
            met_map[code] = ok
            dim = ind.dimension
            dims[dim] = dims.get(dim, 0.0) + points
            if not ind.optional:
                if ok:
                    basic_met += 1
                else:
                    unmet_basic.append(code)
                    unmet_by_dim[dim] = unmet_by_dim.get(dim, 0) + 1
            if ind.veto and not ok:
                actual.veto_unmet.append(code)
            if adv:
                advanced.append(code)
            if detail:
                outcomes[code] = IndicatorOutcome(
                    code, status, value, threshold, adv, points, source
                )
        actual.score, actual.unmet = score, len(unmet_basic)
        extra = {"values": values, "missing": len(missing), "advanced": len(advanced)}
        extra["school"] = school or {"stages": list(stages)}
        reasons, error, grade, modules = self._decide(actual, **extra)
        passed = not reasons and not error
        incomplete = False
        if not passed and missing:
            # Would the school pass if every missing value turned out met? Then it is not a
            # failure yet but a gap in the data.
            h_reasons, h_error, _, _ = self._decide(self._hopeful(actual, missing), **extra)
            incomplete = not h_reasons and not h_error
        return StandardOutcome(
            code=self.code,
            passed=passed,
            incomplete=incomplete,
            score=actual.score,
            max_score=self.max_score,
            basic_total=self.basic_total,
            basic_met=basic_met,
            unmet_basic=unmet_basic,
            missing=missing,
            advanced=advanced,
            rule_error=error,
            indicators=outcomes,
            dimensions={k: [actual.dims.get(k, 0.0), m] for k, m in self.dim_max.items()},
            modules=modules,
            veto_unmet=actual.veto_unmet,
            graded=bool(self.grades),
            grade=grade.key if grade and passed else "",
            grade_name=grade.name if grade and passed else "",
            reasons=reasons,
        )

    def _hopeful(self, actual: _Tally, missing: list[str]) -> _Tally:
        """The tally if every missing value turned out met (at full points)."""
        t = _Tally(
            actual.score,
            actual.unmet,
            dict(actual.met),
            dict(actual.dims),
            list(actual.veto_unmet),
            dict(actual.unmet_by_dim),
        )
        for code in missing:
            ind = self.by_code[code]
            full = ind.weight + ind.bonus
            t.score += full
            t.dims[ind.dimension] = t.dims.get(ind.dimension, 0.0) + full
            t.met[code] = True
            if not ind.optional:
                t.unmet -= 1
                t.unmet_by_dim[ind.dimension] -= 1
            if code in t.veto_unmet:
                t.veto_unmet.remove(code)
        return t

    def _decide(self, t: _Tally, *, values, missing, advanced, school):
        """The rule, in order: veto items, every basic item, the score, each dimension's
        share, each module, the CEL expression, then the grade. Returns (reasons, CEL error,
        grade, modules passed)."""
        reasons: list[str] = []
        if t.veto_unmet:
            reasons.append(f"否决项未达到：{'、'.join(t.veto_unmet)}")
        if self.all_basic and t.unmet:
            reasons.append(f"{t.unmet} 项基本要求未达到")
        if self.min_score is not None and t.score + 1e-9 < self.min_score:
            reasons.append(f"得分 {_fmt(t.score)} 低于 {_fmt(self.min_score)} 分")
        percent = 100.0 * t.score / self.max_score if self.max_score else 0.0
        if self.min_percent is not None and percent + 1e-9 < self.min_percent:
            reasons.append(f"得分率 {_fmt(percent)}% 低于 {_fmt(self.min_percent)}%")
        for key, (least, name) in self.dim_min.items():
            share = 100.0 * t.dims.get(key, 0.0) / self.dim_max[key] if self.dim_max[key] else 0
            if share + 1e-9 < least:
                reasons.append(f"维度“{name}”得分率 {_fmt(share)}% 低于 {_fmt(least)}%")
        modules = {}
        for m in self.modules:
            dims = m["dimensions"]
            top = sum(self.dim_max.get(d, 0.0) for d in dims)
            got = sum(t.dims.get(d, 0.0) for d in dims)
            ok = not (m.get("all_basic") and any(t.unmet_by_dim.get(d) for d in dims))
            least = _opt_float(m.get("min_percent"))
            if least is not None and top and 100.0 * got / top + 1e-9 < least:
                ok = False
            modules[m["key"]] = ok
            if not ok:
                reasons.append(f"模块“{m['name']}”未通过")
        error = ""
        ctx = None
        if self.expr or self.grade_exprs:
            ctx = {
                "score": t.score,
                "max_score": self.max_score,
                "basic_total": self.basic_total,
                "basic_met": self.basic_total - t.unmet,
                "basic_unmet": t.unmet,
                "missing": missing,
                "advanced_met": advanced,
                "met": t.met,
                "value": values,
                "dimension_score": t.dims,
                "school": school,
            }
        if self.expr and not reasons:
            ok, error = cel.decide(self.expr, _context(self.expr_vars, **ctx))
            if not ok and not error:
                reasons.append("不满足认定规则的表达式")
        grade = None
        if self.grades and not reasons and not error:

            def holds(g) -> bool:
                if g.key not in self.grade_exprs:
                    return True
                expr, names = self.grade_exprs[g.key]
                return cel.decide(expr, _context(names, **ctx))[0]

            grade = grade_for(self.grades, percent, mandatory_met=t.unmet == 0, extra=holds)
            if grade is None:
                reasons.append("未达到最低认定等级")
        return reasons, error, grade, modules


def _grade_fields(g: dict) -> dict:
    return {k: v for k, v in g.items() if k != "expr"}


def _opt_float(v) -> float | None:
    return None if v in (None, "") else float(v)


def _fmt(x: float) -> str:
    return f"{int(x)}" if float(x).is_integer() else f"{x:.1f}"


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
    grade: str = ""
    grade_name: str = ""
    # Why the batch's application gate keeps the school out (未提交自评 …); empty: it does not.
    gate: str = ""

    def as_json(self) -> dict:
        out = {"provisional": self.provisional, "standards": self.standards}
        if self.grade:
            out |= {"grade": self.grade, "grade_name": self.grade_name}
        if self.gate:
            out["gate"] = self.gate
        return out


def apply_gate(result: EntryResult, reason: str) -> EntryResult:
    """A school the batch's application gate keeps out (no self-assessment submitted, or one
    below the gate) is not certified in the batch, whatever its data: its result is a fail
    with the gate's reason, and no grade."""
    if not reason:
        return result
    return replace(result, provisional=FAIL, grade="", grade_name="", gate=reason)


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
    # The grade is the main standard's: the most derived one of its chain that declares
    # grades (outcomes come leaf first), and only for a school that passes them all.
    graded = next((o for o in outcomes if o.graded), None)
    grade = graded if graded is not None and provisional == PASS else None
    return EntryResult(
        provisional,
        outcomes[0].score,
        unmet,
        missing,
        [o.summary() for o in outcomes],
        grade.grade if grade else "",
        grade.grade_name if grade else "",
    )
