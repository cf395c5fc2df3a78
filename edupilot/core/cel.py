"""CEL (Common Expression Language): the one place expressions are compiled and run.

CEL is side-effect free and always terminates, so the files bureaus write (a programme's
eligibility and submission rules, a certification standard's rule) can carry expressions
without being able to run code on the server. Each user names its variables and a complete
sample context; this module compiles once (cached), checks an expression against them when the
file is loaded, and evaluates fail closed::

    check(expr, allowed=ELIGIBILITY_VARS, sample=sample_context("eligibility"))   # on load
    ok, error = decide(expr, context)                                            # per org

Errors carry a Chinese message; CEL's own text (which names the column) follows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

import cel  # the `common-expression-language` package (absolute import: not this module)

# A comprehension macro binds its own variable (`xs.exists(x, x > 1)` names x): not a context
# variable, so not "unknown".
_COMPREHENSION_VAR = re.compile(
    r"\.\s*(?:exists_one|exists|all|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,"
)


class ExprError(ValueError):
    """An expression that does not compile, names unknown variables, or gives no bool."""


@lru_cache(maxsize=4096)
def compile_expr(expr: str):
    try:
        return cel.compile(expr)
    except ValueError as exc:
        raise ExprError(f"规则表达式有语法错误：{exc}") from exc


def variables(expr: str) -> frozenset[str]:
    """The context variables ``expr`` names (comprehension variables left out)."""
    named = set(compile_expr(expr).variables())
    return frozenset(named - set(_COMPREHENSION_VAR.findall(expr)))


def check(
    expr: str,
    *,
    allowed: Iterable[str],
    sample: dict,
    unknown_label: str = "不可用的变量",
    sample_gap: Callable[[Exception], bool] | None = None,
) -> None:
    """Raise ExprError unless ``expr`` compiles, names only ``allowed`` variables, and gives a
    bool on ``sample`` (which catches field typos).

    ``sample_gap(exc)`` says when an error evaluating the sample is the sample's fault (a map
    key it cannot know), not the expression's: the check then passes.
    """
    program = compile_expr(expr)
    allowed = frozenset(allowed)
    unknown = variables(expr) - allowed
    if unknown:
        raise ExprError(
            f"规则使用了{unknown_label}：{', '.join(sorted(unknown))}"
            f"（可用：{', '.join(sorted(allowed))}）"
        )
    try:
        result = program.execute(sample)
    except Exception as exc:  # CEL raises several kinds; all mean the rule is broken.
        if sample_gap is not None and sample_gap(exc):
            return
        if isinstance(exc, KeyError):
            raise ExprError(f"规则无法求值：没有字段 {exc}") from exc
        raise ExprError(f"规则无法求值：{exc}") from exc
    if not isinstance(result, bool):
        raise ExprError(f"规则的结果必须是 true/false，实际为 {type(result).__name__}")


def decide(expr: str, context: dict) -> tuple[bool, str]:
    """(met, error). Only ``true`` is met; an expression that cannot be decided is not (fail
    closed), and ``error`` says why."""
    try:
        value = compile_expr(expr).execute(context)
    except Exception as exc:
        return False, str(exc)
    return value is True, ""
