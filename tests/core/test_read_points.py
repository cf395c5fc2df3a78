"""The one score-sheet reader the expert, acceptance and self-assessment sheets share."""

from decimal import Decimal

from edupilot.certification.services.selfassess import SELF_WORDS
from edupilot.core.inputs import read_points
from edupilot.pilots.acceptance import SCORE_WORDS as ACCEPTANCE_WORDS
from edupilot.selection.scoring import SCORE_WORDS as EXPERT_WORDS

ITEMS = [("a", "办学理念", Decimal("10.0"))]


def read(raw, words, places="0.01", complete=True):
    return read_points(ITEMS, raw, words=words, places=Decimal(places), complete=complete)


def test_expert_sheet_refuses_a_second_decimal_and_keeps_its_messages():
    assert read({"a": "8.5"}, EXPERT_WORDS, "0.1") == ({"a": Decimal("8.5")}, {})
    assert read({"a": "8.55"}, EXPERT_WORDS, "0.1")[1] == {
        "a": ["“办学理念”的分数最多保留一位小数"]
    }
    assert read({"a": "11"}, EXPERT_WORDS, "0.1")[1] == {
        "a": ["“办学理念”的分数应在 0 到 10.0 之间"]
    }
    assert read({"a": "x"}, EXPERT_WORDS, "0.1")[1] == {"a": ["“办学理念”的分数应为数字"]}
    assert read({"a": " "}, EXPERT_WORDS, "0.1")[1] == {"a": ["请为“办学理念”打分（0–10.0 分）"]}
    assert read({"a": ""}, EXPERT_WORDS, "0.1", complete=False) == ({}, {})


def test_acceptance_sheet_rounds_extra_decimals_and_needs_every_item():
    assert read({"a": "8.555"}, ACCEPTANCE_WORDS) == ({"a": Decimal("8.56")}, {})
    assert read({}, ACCEPTANCE_WORDS)[1] == {"a": ["请为“办学理念”打分（0–10.0 分）"]}
    assert read({"a": "NaN"}, ACCEPTANCE_WORDS)[1] == {"a": ["请为“办学理念”打分（0–10.0 分）"]}


def test_self_assessment_sheet_reads_a_full_width_point_and_refuses_nul():
    items = [("a", "办学理念", Decimal("10.00").normalize())]
    values, errors = read_points(
        items, {"a": "８．5"}, words=SELF_WORDS, places=Decimal("0.01"), complete=True
    )
    assert (values, errors) == ({"a": Decimal("8.50")}, {})
    errors = read_points(
        items, {"a": "12，5"}, words=SELF_WORDS, places=Decimal("0.01"), complete=True
    )[1]
    assert errors == {"a": ["“办学理念”的自评分应在 0 到 10 之间，不能为 12.5"]}
    errors = read_points(
        items, {"a": "1\x00"}, words=SELF_WORDS, places=Decimal("0.01"), complete=True
    )[1]
    assert errors == {"a": ["“办学理念”含有不可见的控制字符（如 NUL），请删除后再提交"]}
    errors = read_points(
        items, {"a": "1" * 21}, words=SELF_WORDS, places=Decimal("0.01"), complete=True
    )[1]
    assert errors == {"a": ["“办学理念”的自评分应为数字（0–10 分）"]}
