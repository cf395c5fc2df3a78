"""Malformed programme files: every problem is reported with the line that causes it.

The base file is the complete example of docs/programme-format.md, so the reference's
example is itself checked.
"""

import re
from pathlib import Path

import pytest

from edupilot.programmes import loader

DOC = Path(__file__).resolve().parents[2] / "docs" / "programme-format.md"


@pytest.fixture(scope="module")
def example() -> str:
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return blocks[-1]


def validate(tmp_path, text: str):
    path = tmp_path / "notice.toml"
    path.write_text(text, encoding="utf-8")
    return loader.validate(path)


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def last_line_of(text: str, content: str) -> int:
    lines = text.splitlines()
    return max(i for i, t in enumerate(lines) if t.strip() == content) + 1


def line(text: str, error) -> str:
    assert error.line is not None, error
    return text.splitlines()[error.line - 1].strip()


def test_the_documented_example_is_valid(seeded, tmp_path, example):
    parsed, errors = validate(tmp_path, example)
    assert errors == []
    assert parsed.spec.code == "example-smart-classroom"


def test_toml_syntax_error(tmp_path, example):
    text = replace_once(example, 'title = "衡阳市智慧课堂试点"', "title = ")
    _, errors = validate(tmp_path, text)
    assert len(errors) == 1
    assert line(text, errors[0]) == "title =" and "TOML 语法错误" in errors[0].message


def test_toml_duplicated_key(tmp_path, example):
    text = replace_once(
        example, 'issuer_name = "衡阳市教育局"', 'issuer_name = "衡阳市教育局"\ntitle = "又一个"'
    )
    _, errors = validate(tmp_path, text)
    assert len(errors) == 1
    assert line(text, errors[0]) == 'title = "又一个"'


def test_unknown_field(seeded, tmp_path, example):
    text = replace_once(example, "deadline = 2030-04-10", "deadlne = 2030-04-10")
    _, errors = validate(tmp_path, text)
    typo = next(e for e in errors if "不认识的字段" in e.message)
    assert line(text, typo) == "deadlne = 2030-04-10"
    assert typo.field == "categories[1].flow[1].deadlne"


def test_review_stage_without_deadline(seeded, tmp_path, example):
    text = replace_once(example, "deadline = 2030-04-10\n", "")
    _, errors = validate(tmp_path, text)
    assert len(errors) == 1
    assert errors[0].field == "categories[1].flow[1].deadline"
    assert "须写截止时间" in errors[0].message


def test_wrong_type(tmp_path, example):
    text = replace_once(example, "min_chars = 1000", 'min_chars = "many"')
    _, errors = validate(tmp_path, text)
    assert len(errors) == 1
    assert line(text, errors[0]) == 'min_chars = "many"' and "整数" in errors[0].message


def test_wrong_choice_value(tmp_path, example):
    text = replace_once(example, 'cadence = "quarterly"', 'cadence = "weekly"')
    _, errors = validate(tmp_path, text)
    assert line(text, errors[0]) == 'cadence = "weekly"'
    assert "取值必须是" in errors[0].message


@pytest.mark.parametrize(
    "expr, message",
    [
        ("double(app.data.classrooms) >= ", "语法错误"),  # does not compile
        ("school.classrooms >= 2", "不可用的变量"),  # no such variable
        ("app.data.classroms >= 2", "没有字段"),  # misspelt form field
        ('org.name + "x"', "true/false"),  # not a condition
    ],
)
def test_bad_rule(seeded, tmp_path, example, expr, message):
    text = replace_once(example, 'expr = "double(app.data.classrooms) >= 2.0"', f"expr = '{expr}'")
    _, errors = validate(tmp_path, text)
    assert len(errors) == 1, errors
    assert line(text, errors[0]) == f"expr = '{expr}'"
    assert message in errors[0].message


def test_eligibility_rule_may_not_use_the_form(seeded, tmp_path, example):
    text = replace_once(
        example,
        """expr = '!("example_earlier_pilots" in org.lists)'""",
        "expr = 'app.data.classrooms > 1'",
    )
    _, errors = validate(tmp_path, text)
    assert line(text, errors[0]) == "expr = 'app.data.classrooms > 1'"
    assert "app" in errors[0].message


def test_unknown_org(seeded, tmp_path, example):
    text = replace_once(example, '{ org = "衡阳县", quota = 2 }', '{ org = "衡阳懸", quota = 2 }')
    _, errors = validate(tmp_path, text)
    assert [e.message for e in errors] == ["机构“衡阳懸”不存在（请使用机构代码或准确全称）"]
    assert line(text, errors[0]) == '{ org = "衡阳懸", quota = 2 },'


def test_unknown_issuer(seeded, tmp_path, example):
    text = replace_once(example, 'issuer = "430400"', 'issuer = "439999"')
    _, errors = validate(tmp_path, text)
    assert line(text, errors[0]) == 'issuer = "439999"'


def test_org_twice_in_a_quota_table(seeded, tmp_path, example):
    text = replace_once(example, '{ org = "耒阳市", quota = 1 }', '{ org = "衡阳县", quota = 1 }')
    _, errors = validate(tmp_path, text)
    assert "出现了两次" in errors[0].message
    assert line(text, errors[0]) == '{ org = "衡阳县", quota = 1 },'
    assert errors[0].line > text.splitlines().index('  { org = "衡阳县", quota = 2 },') + 1


def test_duplicated_field_key(tmp_path, example):
    text = replace_once(example, 'key = "classrooms"', 'key = "school_name"')
    _, errors = validate(tmp_path, text)
    assert len(errors) == 1
    assert "字段 key 重复：school_name" in errors[0].message
    # The second occurrence is reported, not the first.
    assert line(text, errors[0]) == 'key = "school_name"'
    assert errors[0].line == last_line_of(text, 'key = "school_name"')


def test_duplicated_rule_id(tmp_path, example):
    text = replace_once(example, 'id = "enough_classrooms"', 'id = "not_earlier_pilot"')
    _, errors = validate(tmp_path, text)
    assert "规则 not_earlier_pilot 重复" in errors[0].message
    assert errors[0].line == last_line_of(text, 'id = "not_earlier_pilot"')


def test_review_levels_out_of_order(tmp_path, example):
    text = replace_once(example, 'tier = "county"\n', 'tier = "TEMP"\n')
    text = replace_once(text, 'tier = "city"\n', 'tier = "county"\n')
    text = replace_once(text, 'tier = "TEMP"\n', 'tier = "city"\n')
    _, errors = validate(tmp_path, text)
    assert len(errors) == 1
    assert "自下而上" in errors[0].message
    assert errors[0].field == "categories[1].flow[2].tier"
    review_lines = [i + 1 for i, t in enumerate(text.splitlines()) if t.startswith("tier = ")]
    assert errors[0].line == review_lines[1]


def test_level_deadline_before_close(tmp_path, example):
    text = replace_once(example, "deadline = 2030-04-10", "deadline = 2030-03-20")
    _, errors = validate(tmp_path, text)
    assert "早于申报截止时间" in errors[0].message
    assert line(text, errors[0]) == "deadline = 2030-03-20"


def test_category_close_outside_period(tmp_path, example):
    text = replace_once(example, 'form = "school"\n', 'form = "school"\ncloses = 2030-05-01\n')
    _, errors = validate(tmp_path, text)
    assert "申报期" in errors[0].message
    assert line(text, errors[0]) == "closes = 2030-05-01"


def test_unknown_prefill(tmp_path, example):
    text = replace_once(example, 'prefill = "org.name"', 'prefill = "org.nmae"')
    _, errors = validate(tmp_path, text)
    assert line(text, errors[0]) == 'prefill = "org.nmae"'
    assert "预填来源" in errors[0].message


def test_opinion_box_for_a_level_that_does_not_exist(tmp_path, example):
    text = replace_once(example, 'by = "county"', 'by = "district"')
    _, errors = validate(tmp_path, text)
    assert "不是审核层级" in errors[0].message
    assert line(text, errors[0]) == 'by = "district"'


def test_summary_table_with_unknown_column(tmp_path, example):
    text = example + (
        '\n[[summary_tables]]\nkey = "t"\ntitle = "汇总表"\nby = "county"\n'
        'columns = [\n  { label = "学校", source = "school_name" },\n'
        '  { label = "电话", source = "phone" },\n]\n'
    )
    _, errors = validate(tmp_path, text)
    assert "不存在的字段 phone" in errors[0].message
    assert line(text, errors[0]) == '{ label = "电话", source = "phone" },'


def test_several_errors_are_reported_together(tmp_path, example):
    text = replace_once(example, "min_chars = 1000", 'min_chars = "many"')
    text = replace_once(text, "max = 200", "max = false")
    text = replace_once(text, 'cadence = "quarterly"', 'cadence = "weekly"')
    _, errors = validate(tmp_path, text)
    assert len(errors) == 3
    assert all(e.line and e.file.endswith("notice.toml") for e in errors)


def test_a_field_above_the_operators_upload_ceiling(tmp_path, example, settings):
    settings.EDUPILOT_MAX_UPLOAD_MB = 10
    text = replace_once(example, 'type = "attachment"', 'type = "attachment"\nmax_mb = 30')
    _, errors = validate(tmp_path, text)
    assert len(errors) == 1
    assert line(text, errors[0]) == "max_mb = 30"
    assert errors[0].field.endswith(".max_mb") and "EDUPILOT_MAX_UPLOAD_MB" in errors[0].message
