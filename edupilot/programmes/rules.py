"""Eligibility and submission rules: CEL expressions, compiled once, evaluated safely.

CEL (Common Expression Language) is side-effect free and always terminates, so a bureau's
programme file can carry its own rules without being able to run code on the server. The CEL
itself (compiling, checking, fail-closed evaluation) is ``edupilot.core.cel``; this module
names the variables and the sample context.

Variables a rule may use:

- ``org``: the applicant org: code, name, kind, tier, parent_tier (the tier of the org it
  hangs under: "county" for a county's school, "city" for a 市直 school, "" for a root),
  stages (list), ownership, locality, bandwidth_mbps, teacher_count, student_count,
  computer_count (0 when unknown), school_count (schools in its subtree), lists (codes of
  participant lists it is on), list_status (map list code → status), extra (map of free
  attributes);
- ``applicant``: its other applications in this programme: ``applications`` (as applicant)
  and ``member_of`` (named as a member of another's bid), each a list of
  {category, state};
- ``programme``: {code};
- ``app`` (submission rules only): {category, topic, data (map of form values),
  members (list of {code, name, kind, locality, stages, lists, applied_categories})}.
"""

from __future__ import annotations

from dataclasses import dataclass

from edupilot.core import cel

ELIGIBILITY_VARS = frozenset({"org", "applicant", "programme"})
SUBMISSION_VARS = ELIGIBILITY_VARS | {"app"}

SAMPLE_ORG = {
    "code": "000000",
    "name": "示例",
    "kind": "school",
    "tier": "unit",
    "parent_tier": "county",
    "stages": ["primary", "junior"],
    "ownership": "public",
    "locality": "urban",
    "bandwidth_mbps": 100,
    "teacher_count": 50,
    "student_count": 800,
    "computer_count": 120,
    "school_count": 10,
    "lists": ["sample"],
    "list_status": {"sample": "completed"},
    "extra": {},
}
SAMPLE_MEMBER = {
    "code": "000001",
    "name": "成员",
    "kind": "school",
    "locality": "rural",
    "stages": ["primary"],
    "applied_categories": ["school"],
    "lists": ["sample"],
}


# The name loader.py catches; every CEL error is one.
RuleCompileError = cel.ExprError


def sample_context(phase: str, data: dict | None = None) -> dict:
    ctx = {
        "org": SAMPLE_ORG,
        "applicant": {"applications": [{"category": "x", "state": "draft"}], "member_of": []},
        "programme": {"code": "sample"},
    }
    if phase == "submission":
        ctx["app"] = {"category": "x", "topic": "", "data": data or {}, "members": [SAMPLE_MEMBER]}
    return ctx


def check_rule(expr: str, phase: str, sample_data: dict | None = None) -> None:
    """Raise RuleCompileError if the rule does not compile, uses unknown variables, or fails
    to evaluate to a boolean against a complete sample context (catches field typos)."""
    cel.check(
        expr,
        allowed=SUBMISSION_VARS if phase == "submission" else ELIGIBILITY_VARS,
        sample=sample_context(phase, sample_data),
        unknown_label="此阶段不可用的变量",
    )


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    ok: bool
    message: str
    severity: str = "block"
    error: str = ""


def evaluate(rule, context: dict) -> RuleResult:
    """Evaluate one rule; a rule that cannot be decided counts as failed (fail closed)."""
    ok, error = cel.decide(rule.expr, context)
    return RuleResult(rule.id, ok, rule.message, rule.severity, error=error)


def evaluate_all(rules, context: dict, phase: str) -> list[RuleResult]:
    return [evaluate(r, context) for r in rules if r.phase == phase]
