"""``[pilot]`` and ``[[pilot.stages]]``: what loads, what is refused (with its line and
field), the older form, and ``programme show``'s pilot stages."""

import io
import json

import pytest
from django.core.management import call_command

from edupilot.programmes import loader
from tests.programmes.test_cookbook import EXAMPLE

QUANZHOU_LIKE = """
[[pilot.stages]]
kind = "reports"
key = "monthly"
name = "月度工作进展"
cadence = "monthly"
due_day = 25

[[pilot.stages]]
kind = "acceptance"
key = "acceptance"
name = "验收"
criteria = [{ key = "use", name = "实际使用", max = 100 }]
grades = [
  { key = "excellent", name = "优秀", min_percent = 90 },
  { key = "pass", name = "合格", min_percent = 60 },
  { key = "fail", name = "不合格", result = "fail" },
]

[[pilot.stages]]
kind = "awards"
key = "awards"
name = "以奖代补"
budget = 1000000
by_grade = { excellent = 100000 }
"""


def with_pilot(stages: str, head: str = "") -> str:
    start = EXAMPLE.index("[[pilot.stages]]")
    return EXAMPLE[:start].replace("[pilot]\n", f"[pilot]\n{head}", 1) + stages


def check(tmp_path, text: str):
    path = tmp_path / "notice.toml"
    path.write_text(text, encoding="utf-8")
    try:
        return loader.parse_file(path), []
    except loader.ProgrammeFileInvalid as exc:
        return None, exc.errors


def test_the_stages_load_in_order(tmp_path):
    parsed, errors = check(tmp_path, with_pilot(QUANZHOU_LIKE))
    assert not errors
    pilot = parsed.spec.pilot
    assert [s.kind for s in pilot.pipeline] == ["reports", "acceptance", "awards"]
    acceptance = pilot.stage_of("acceptance")
    assert acceptance.grade_for_percent(95).key == "excellent"
    assert acceptance.grade_for_percent(70).key == "pass"
    assert acceptance.grade_for_percent(10) is None


@pytest.mark.parametrize(
    "old, new, field, message",
    [
        ('key = "awards"', 'key = "monthly"', "pilot.stages[3].key", "key 重复：monthly"),
        ("due_day = 25\n", "", "pilot.stages[1].due_day", "due_day"),
        ("due_day = 25\n", "due_day = 25\ndue_days = 3\n", "pilot.stages[1].due_days", "due_days"),
        ("min_percent = 60", "min_percent = 95", "pilot.stages[2].grades[2].min_percent", "从高到低"),
        ('{ key = "fail", name = "不合格", result = "fail" },\n', "", None, None),
        ("by_grade = { excellent = 100000 }", "by_grade = { best = 100000 }",
         "pilot.stages[3].by_grade.best", "未定义的验收等级：best"),
        ("by_grade = { excellent = 100000 }", "by_rank = [600000, 500000]",
         "pilot.stages[3].by_rank", "超过预算"),
        ('kind = "awards"', 'kind = "acceptance"', "pilot.stages[3]", None),
        ('cadence = "monthly"', 'cadence = "weekly"', "pilot.stages[1].cadence", None),
    ],
)  # fmt: skip
def test_unrunnable_pilot_stages_are_refused_at_their_line(tmp_path, old, new, field, message):
    text = with_pilot(QUANZHOU_LIKE)
    assert text.count(old) == 1
    _, errors = check(tmp_path, text.replace(old, new))
    if field is None:  # a change that is still valid (a fail grade is optional)
        assert not errors
        return
    assert errors, "validated"
    assert errors[0].field.startswith(field), errors[0]
    assert errors[0].line is not None
    if message:
        assert message in errors[0].message


def test_awards_before_the_acceptance_they_depend_on_are_refused(tmp_path):
    reports, rest = QUANZHOU_LIKE.split('[[pilot.stages]]\nkind = "acceptance"')
    acceptance, awards = rest.split('[[pilot.stages]]\nkind = "awards"')
    text = with_pilot(
        reports
        + '[[pilot.stages]]\nkind = "awards"'
        + awards
        + '\n[[pilot.stages]]\nkind = "acceptance"'
        + acceptance
    )
    _, errors = check(tmp_path, text)
    assert errors and "须排在验收" in errors[0].message
    assert errors[0].field.startswith("pilot.stages[2]")  # 1-based, as authors count


def test_the_older_form_loads_and_mixing_it_with_stages_is_refused(tmp_path):
    old = with_pilot("", head='report_cadence = "monthly"\nreport_day = 20\n')
    parsed, errors = check(tmp_path, old)
    assert not errors
    stages = parsed.spec.pilot.pipeline
    assert [(s.kind, s.key) for s in stages] == [("plan", "plan"), ("reports", "monthly")]
    assert stages[1].due_day == 20
    _, errors = check(tmp_path, with_pilot(QUANZHOU_LIKE, head="report_day = 20\n"))
    assert errors and "report_day 是旧写法" in errors[0].message
    assert errors[0].field == "pilot.report_day"


def test_a_supervisor_that_is_not_a_review_stage_is_refused(tmp_path):
    _, errors = check(tmp_path, with_pilot(QUANZHOU_LIKE, head='supervisor = "approval"\n'))
    assert errors and "supervisor = approval" in errors[0].message
    parsed, errors = check(tmp_path, with_pilot(QUANZHOU_LIKE, head='supervisor = "county"\n'))
    assert not errors and parsed.spec.pilot.supervisor == "county"


def show(*args) -> str:
    out = io.StringIO()
    call_command("programme", "show", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_programme_show_prints_the_pilot_stages(programmes):
    out = show("quanzhou-smart-campus-2018")
    assert "试点期：" in out and "每月报告当月 25 日前" in out and "预算 1000000 元" in out
    data = json.loads(
        show("quanzhou-smart-campus-2018", "--applicant", "350521", "--format", "json")
    )
    school = data["categories"][0]
    kinds = [s["kind"] for s in school["pilot_stages"]]
    assert kinds == ["plan", "reports", "inspection", "acceptance", "awards"]
    plan = school["pilot_stages"][0]
    assert set(plan) >= {"key", "name", "kind", "actor_org", "deadline", "quota"}
    assert plan["actor_org"] not in ("泉州市", None)  # the county supervises, the issuer grades
    assert school["pilot_stages"][3]["actor_org"] == "泉州市"
