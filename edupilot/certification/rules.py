"""The CEL part of a standard's certification rule.

Variables an expression may use (all computed per school by the assessment):

- ``score`` (double): points of the indicators met (weights, plus bonuses at advanced level);
- ``max_score`` (double): the most points the standard gives;
- ``basic_total``, ``basic_met``, ``basic_unmet``, ``missing``, ``advanced_met`` (int);
- ``met`` (map code → bool): each indicator met at its requirement (missing data: false);
- ``value`` (map code → value): the data used, only for indicators that have data;
- ``dimension_score`` (map dimension key → double);
- ``school``: {stages (list), kind, locality}.

Only the variables an expression names are computed for it, so a simple rule costs little
at 50,000 schools.
"""

from __future__ import annotations

from functools import lru_cache

import cel

RULE_VARS = frozenset(
    {
        "score",
        "max_score",
        "basic_total",
        "basic_met",
        "basic_unmet",
        "missing",
        "advanced_met",
        "met",
        "value",
        "dimension_score",
        "school",
    }
)

SAMPLE_CONTEXT = {
    "score": 80.0,
    "max_score": 100.0,
    "basic_total": 10,
    "basic_met": 9,
    "basic_unmet": 1,
    "missing": 0,
    "advanced_met": 2,
    "met": {},
    "value": {},
    "dimension_score": {},
    "school": {"stages": ["primary"], "kind": "school", "locality": "urban"},
}


class RuleCompileError(ValueError):
    pass


@lru_cache(maxsize=256)
def compile_expr(expr: str):
    try:
        return cel.compile(expr)
    except ValueError as exc:
        raise RuleCompileError(f"规则表达式无法编译：{exc}") from exc


def variables(expr: str) -> frozenset[str]:
    return frozenset(compile_expr(expr).variables())


def check_rule_expr(expr: str) -> None:
    """Raise RuleCompileError unless ``expr`` compiles, uses known variables, and gives a bool."""
    program = compile_expr(expr)
    unknown = set(program.variables()) - RULE_VARS
    if unknown:
        raise RuleCompileError(
            f"规则使用了未知的变量：{', '.join(sorted(unknown))}"
            f"（可用：{', '.join(sorted(RULE_VARS))}）"
        )
    try:
        result = program.execute(SAMPLE_CONTEXT)
    except Exception as exc:
        # Map lookups of indicator codes fail on the empty sample; that is not an error.
        if "met" in str(exc) or "value" in str(exc) or "dimension_score" in str(exc):
            return
        if isinstance(exc, KeyError):
            return
        raise RuleCompileError(f"规则无法求值：{exc}") from exc
    if not isinstance(result, bool):
        raise RuleCompileError(f"规则的结果必须是 true/false，实际为 {type(result).__name__}")


def evaluate(expr: str, context: dict) -> tuple[bool, str]:
    """(result, error). A rule that cannot be decided is not met (fail closed)."""
    try:
        value = compile_expr(expr).execute(context)
    except Exception as exc:
        return False, str(exc)
    return value is True, ""
