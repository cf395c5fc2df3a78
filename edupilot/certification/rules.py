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

from edupilot.core import cel

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


RuleCompileError = cel.ExprError


def _sample_gap(exc: Exception) -> bool:
    """Map lookups of indicator codes fail on the empty sample maps; that is not an error."""
    return isinstance(exc, KeyError) or any(
        k in str(exc) for k in ("met", "value", "dimension_score")
    )


def check_rule_expr(expr: str) -> None:
    """Raise RuleCompileError unless ``expr`` compiles, uses known variables, and gives a bool."""
    cel.check(
        expr,
        allowed=RULE_VARS,
        sample=SAMPLE_CONTEXT,
        unknown_label="未知的变量",
        sample_gap=_sample_gap,
    )
