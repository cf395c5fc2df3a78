"""first_refusal: who acts is asked first, then the first state that refuses, in order."""

from edupilot.core.errors import first_refusal


def test_who_is_refused_first_whatever_the_state():
    assert first_refusal((False, "只有管理员"), (True, "已处理")) == (False, "只有管理员")


def test_the_first_refusal_that_holds_is_the_reason():
    got = first_refusal((True, ""), (False, "未提交"), (True, "已撤回"), (True, "已处理"))
    assert got == (False, "已撤回")


def test_none_holds_is_allowed():
    assert first_refusal((True, ""), (False, "已撤回")) == (True, "")
    assert first_refusal((True, "")) == (True, "")
