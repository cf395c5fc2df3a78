"""The assessment engine on plain data: reading cells, thresholds, rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edupilot.certification import engine
from edupilot.certification.engine import ValueError_, parse_value


@pytest.mark.parametrize(
    ("measure", "raw", "expected"),
    [
        ("yes_no", "是", True),
        ("yes_no", "无", False),
        ("yes_no", 1.0, True),
        ("yes_no", "√", True),
        ("number", "1,000Mbps", 1000.0),
        ("number", 12.5, 12.5),
        ("percent", "95%", 95.0),
        ("percent", "９５％", 95.0),  # full-width digits and sign, common in Chinese sheets
        ("level", "良好", "良好"),
        ("number", "", None),
        ("number", "—", None),
    ],
)
def test_parse_value(measure, raw, expected):
    levels = ["不达标", "达标", "良好", "优秀"]
    if expected is None and raw not in ("", "—"):
        with pytest.raises(ValueError_):
            parse_value(measure, levels, raw)
    else:
        assert parse_value(measure, levels, raw) == expected


def test_parse_errors_are_chinese_and_name_the_cell():
    with pytest.raises(ValueError_, match="“百兆”不是数字"):
        parse_value("number", [], "百兆")
    with pytest.raises(ValueError_, match="0–100"):
        parse_value("percent", [], 120)
    with pytest.raises(ValueError_, match="不是可用的等级"):
        parse_value("level", ["A", "B"], "C")
    assert parse_value("percent", [], 0.95, scale=100) == pytest.approx(95)


def standard(rule=None, **extra):
    rows = [
        {"code": "NET", "measure": "yes_no", "basic": True, "weight": 10},
        {
            "code": "BW",
            "measure": "number",
            "basic": 100,
            "advanced": 1000,
            "weight": 10,
            "bonus": 5,
        },
        {
            "code": "RATIO",
            "measure": "number",
            "direction": "at_most",
            "basic": 8,
            "basic_by_stage": {"senior": 6},
            "weight": 10,
        },
        {
            "code": "LVL",
            "measure": "level",
            "levels": ["D", "C", "B", "A"],
            "basic": "C",
            "weight": 10,
        },
        {"code": "OPT", "measure": "yes_no", "optional": True, "advanced": True, "weight": 5},
    ]
    return engine.CompiledStandard(
        code="s", indicators=rows, rule=rule or {"all_basic": True}, **extra
    )


GOOD = {"NET": True, "BW": 1000.0, "RATIO": 6.0, "LVL": "B"}


def test_thresholds_directions_and_stages():
    s = standard()
    out = s.assess(GOOD, ["primary"], detail=True)
    assert out.passed and out.unmet_basic == [] and out.advanced == ["BW"]
    assert out.score == 45  # 4 × 10 + 5 bonus; the optional item has no data
    assert out.indicators["OPT"].status == engine.MISSING
    # Fewer students per computer is better; a senior school needs ≤6.
    assert not s.assess({**GOOD, "RATIO": 7.0}, ["senior"]).passed
    assert s.assess({**GOOD, "RATIO": 7.0}, ["junior"]).passed
    # A complete secondary school (junior + senior) meets the stricter of its stages.
    assert not s.assess({**GOOD, "RATIO": 7.0}, ["junior", "senior"]).passed
    assert not s.assess({**GOOD, "LVL": "D"}, ["primary"]).passed


def test_missing_data_is_incomplete_not_failed():
    s = standard()
    out = s.assess({"NET": True, "BW": 1000.0}, ["primary"])
    assert not out.passed and out.incomplete
    assert out.missing == ["RATIO", "LVL", "OPT"]
    # A value that fails is a failure even if other data is missing.
    out = s.assess({"NET": False, "BW": 1000.0}, ["primary"])
    assert not out.passed and not out.incomplete
    result = engine.combine([out])
    assert result.provisional == engine.FAIL


def test_min_score_and_cel_rules():
    s = standard({"all_basic": True, "min_score": 48})
    assert not s.assess(GOOD, ["primary"]).passed
    assert s.assess({**GOOD, "OPT": True}, ["primary"]).passed
    cel = standard({"all_basic": False, "expr": "basic_unmet <= 1 && met['NET']"})
    assert cel.assess({**GOOD, "LVL": "D"}, ["primary"]).passed
    assert not cel.assess({**GOOD, "NET": False}, ["primary"]).passed


def test_findings_override_the_data():
    s = standard()
    out = s.assess(GOOD, ["primary"], findings={"NET": False}, detail=True)
    assert not out.passed and out.indicators["NET"].source == "finding"
    out = s.assess({**GOOD, "LVL": "D"}, ["primary"], findings={"LVL": True})
    assert out.passed


def test_additional_standard_applies_by_stage():
    vc = standard(applies_to=["vocational"])
    assert vc.applies(["vocational"]) and not vc.applies(["primary"])
    main = standard()
    result = engine.combine(
        [main.assess(GOOD, ["vocational"]), vc.assess({"NET": False}, ["vocational"])]
    )
    assert result.provisional == engine.FAIL


def _outcome(parse, raw):
    try:
        return ("value", parse(raw))
    except ValueError_ as exc:
        return ("error", str(exc))


_CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2000),
    st.floats(-5, 2000, allow_nan=False),
    st.from_regex(r"\A[ 0-9.,%％-]{0,6}\Z"),
    st.sampled_from(["是", "否", "有", "1", "0", "深度融合", "常态应用", "百兆", "12台", " 300 "]),
)


@given(
    measure=st.sampled_from(["yes_no", "number", "percent", "level"]),
    scale=st.sampled_from([1.0, 100.0, 0.01]),
    raw=_CELLS,
)
def test_column_parsers_read_every_cell_as_parse_value_does(measure, scale, raw):
    """The per-column parsers' short paths (numbers, plain digits from CSV, "85%", known
    words and levels) give the same values and the same messages as :func:`parse_value`."""
    levels = ["未开展", "初步应用", "常态应用", "深度融合"]
    fast = engine.make_parser(measure, levels, scale=scale)
    assert _outcome(fast, raw) == _outcome(
        lambda r: parse_value(measure, levels, r, scale=scale), raw
    )
