"""Errors in what a round inherits point at the parent's file, line and field.

A city round (``parent``) takes the province's forms, topics, rules… unless it writes its
own. When its own text and the inherited text disagree, the problem is in the parent's
lines (the round's file has none for it): ``edupilot programme validate`` names the
parent's file, line and field, and says which part of the round inherits it; a problem in
the round's own text keeps the round's line.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from tests.selection.test_cascade import ROUND, load_text, province_text

OWN_TOPICS = """
[[topics]]
code = "ai"
name = "人工智能教育"
"""

OWN_FORM = """
[forms.school]
title = "衡阳市智慧课堂市级评选申报表"

[[forms.school.sections]]
key = "basic"
title = "学校基本情况"

[[forms.school.sections.fields]]
key = "topic"
type = "topic"
label = "试点选题"
required = true
"""


@pytest.fixture
def province(seeded):
    return load_text(province_text(), "province.toml")


def validate(tmp_path, text: str) -> list[str]:
    """``edupilot programme validate`` on ``text``: its error lines."""
    path = tmp_path / "round.toml"
    path.write_text(text, encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("programme", "validate", str(path), stderr=err, stdout=io.StringIO())
    return err.getvalue().strip().splitlines()


def line_of(text: str, needle: str, after: str = "") -> int:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def with_own(block: str) -> str:
    round_text = ROUND.format(cap="")
    return round_text.replace("\n[period]", block + "\n[period]", 1)


def test_an_inherited_category_part_is_named_at_the_parents_line(province, tmp_path):
    # The round writes its own topics: the province's category, inherited, names another.
    text = with_own(OWN_TOPICS)
    (error,) = validate(tmp_path, text)
    parent_line = line_of(province.source_text, 'topics = ["classroom"]')
    round_line = line_of(text, 'code = "school"') - 1  # its [[categories]]
    assert error.startswith(f"province.toml:{parent_line}: categories[1].topics: ")
    assert "未定义的选题：classroom" in error
    assert (
        f"{tmp_path / 'round.toml'} 第 {round_line} 行的类别未写 topics，"
        "沿用上级项目 example-province-call 的" in error
    )


def test_an_inherited_rule_is_named_at_the_parents_line(province, tmp_path):
    # The round writes its own form without the field the province's (inherited) rule reads.
    text = with_own(OWN_FORM)
    errors = validate(tmp_path, text)
    parent_line = line_of(province.source_text, "expr = ", after='id = "enough_classrooms"')
    assert any(
        e.startswith(f"province.toml:{parent_line}: categories[1].rules[2].expr: ")
        and "未写 rules，沿用上级项目 example-province-call 的" in e
        for e in errors
    ), errors


def test_the_rounds_own_mistakes_keep_the_rounds_line(province, tmp_path):
    text = ROUND.format(cap="").replace('kind = "approval"', 'kind = "aproval"', 1)
    (error,) = validate(tmp_path, text)
    flow = line_of(text, "aproval") - 1  # its [[categories.flow]]
    assert error.startswith(f"{tmp_path / 'round.toml'}:{flow}: categories[1].flow[2]: ")
    assert "上级项目" not in error


def test_content_a_round_inherits_through_its_parent_is_named_in_the_grandparents_file(
    province, tmp_path
):
    # A county round under the city round under the province: the topics its category
    # inherits came to the city round from the province, whose file holds them.
    load_text(ROUND.format(cap=""), "city.toml")
    text = (
        with_own(OWN_TOPICS)
        .replace('code = "example-city-round"', 'code = "example-county-round"')
        .replace('parent = "example-province-call"', 'parent = "example-city-round"')
    )
    (error,) = validate(tmp_path, text)
    parent_line = line_of(province.source_text, 'topics = ["classroom"]')
    assert error.startswith(f"province.toml:{parent_line}: categories[1].topics: "), error
    assert "沿用上级项目 example-city-round 的（其内容来自上级项目 example-province-call）" in error


def test_what_the_parent_wrote_itself_is_named_in_the_parents_file(province, tmp_path):
    # The city round writes its category's topics itself; the county round, with topics of
    # its own, inherits that category part from the city: the city's file holds it.
    city_text = with_own(OWN_TOPICS.replace('"ai"', '"classroom"')).replace(
        'code = "school"', 'code = "school"\ntopics = ["classroom"]', 1
    )
    load_text(city_text, "city.toml")
    text = (
        with_own(OWN_TOPICS)
        .replace('code = "example-city-round"', 'code = "example-county-round"')
        .replace('parent = "example-province-call"', 'parent = "example-city-round"')
    )
    (error,) = validate(tmp_path, text)
    city_line = line_of(city_text, 'topics = ["classroom"]')
    assert error.startswith(f"city.toml:{city_line}: "), error
    assert "沿用上级项目 example-city-round 的；" in error
