"""edupilot.core.cel: the one CEL wrapper (compile once, check on load, decide fail closed)."""

import pytest

from edupilot.core import cel

SAMPLE = {"org": {"kind": "school", "stages": ["primary"]}, "met": {}}


def test_variables_leave_out_comprehension_variables():
    assert cel.variables('org.stages.exists(s, s == "primary")') == {"org"}


def test_check_accepts_a_good_rule_and_names_what_is_wrong_otherwise():
    cel.check('org.kind == "school"', allowed={"org"}, sample=SAMPLE)
    with pytest.raises(cel.ExprError, match="语法错误"):
        cel.check("org.kind ==", allowed={"org"}, sample=SAMPLE)
    with pytest.raises(cel.ExprError, match="不可用的变量：app"):
        cel.check("app.x == 1", allowed={"org"}, sample=SAMPLE)
    with pytest.raises(cel.ExprError, match="没有字段"):
        cel.check("org.kinds == 1", allowed={"org"}, sample=SAMPLE)
    with pytest.raises(cel.ExprError, match="true/false"):
        cel.check("org.kind", allowed={"org"}, sample=SAMPLE)


def test_check_lets_the_caller_excuse_gaps_of_its_sample():
    expr = 'met["A1"]'
    with pytest.raises(cel.ExprError):
        cel.check(expr, allowed={"met"}, sample=SAMPLE)
    cel.check(expr, allowed={"met"}, sample=SAMPLE, sample_gap=lambda e: isinstance(e, KeyError))


def test_decide_is_fail_closed():
    assert cel.decide('org.kind == "school"', SAMPLE) == (True, "")
    assert cel.decide('org.kind == "county"', SAMPLE) == (False, "")
    ok, error = cel.decide("org.nothing == 1", SAMPLE)
    assert ok is False and error
    assert cel.decide("1", SAMPLE) == (False, "")  # not a bool: not met
