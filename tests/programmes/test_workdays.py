"""Periods declared in working days (工作日) on China's calendar: the calendar itself across
National Day 2026 (Oct 1–7 off, Saturday Oct 10 a make-up working day), a stage's
``days_after`` and the 公示's ``objection_days`` in working days, their errors at the file's
line, and ``edupilot programme show`` resolving the deadline to a date."""

import datetime as dt
import re

import pytest

from edupilot.core import workdays
from edupilot.programmes.schema import SHANGHAI

from .test_flow import DOC, line, parse, replace_once, show, validate


@pytest.fixture(scope="module")
def example() -> str:
    return re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)[-1]


D = dt.date


def test_the_calendar_skips_national_day_and_counts_the_make_up_saturday():
    # Published Wed 2026-09-30: Oct 1–7 are the holiday, Sat Oct 10 is worked (调休).
    assert workdays.add_workdays(D(2026, 9, 30), 5) == (D(2026, 10, 13), False)
    assert workdays.add_workdays(D(2026, 9, 30), 3) == (D(2026, 10, 10), False)
    assert workdays.is_workday(D(2026, 10, 10)) == (True, False)
    assert workdays.next_workday(D(2026, 10, 1)) == (D(2026, 10, 8), False)
    assert workdays.add_days(D(2026, 9, 30), 5, working=False) == D(2026, 10, 5)
    # A year the package does not know yet: Monday–Friday, marked estimated.
    assert workdays.add_workdays(D(2035, 1, 5), 5) == (D(2035, 1, 12), True)
    assert workdays.days_text(5, working=True) == "5 个工作日"


def in_2026(text: str, city: str) -> str:
    """The reference example moved to 2026: the county closes on 2026-09-30, the city ``city``."""
    text = replace_once(text, "opens = 2030-03-01", "opens = 2026-08-01")
    text = replace_once(text, "closes = 2030-03-31", "closes = 2026-09-20")
    text = replace_once(text, "deadline = 2030-04-10", "deadline = 2026-09-30")
    return replace_once(text, "deadline = 2030-04-30", city)


@pytest.mark.parametrize(
    "city, closes",
    [
        ("days_after = 5\nworking_days = true", D(2026, 10, 13)),
        ('days_after = "5 个工作日"', D(2026, 10, 13)),
        ('days_after = "5 working days"', D(2026, 10, 13)),
        ("days_after = 5", D(2026, 10, 5)),
        ('days_after = "5 天"', D(2026, 10, 5)),
    ],
)
def test_days_after_in_working_days_skips_the_holiday(tmp_path, example, city, closes):
    (category,) = parse(tmp_path, in_2026(example, city)).spec.categories
    stage = category.stage("city")
    assert stage.deadline_at == dt.datetime.combine(closes, dt.time(23, 59, 59), tzinfo=SHANGHAI)
    assert stage.working_days == (closes == D(2026, 10, 13))


def test_the_objection_period_in_working_days(tmp_path, example):
    text = in_2026(example, "days_after = 5")
    spec = parse(tmp_path, text).spec
    assert spec.objection_period(spec.categories[0]) == (5, False)
    staged = replace_once(
        text,
        'key = "publicity"\nname = "公示"\n',
        'key = "publicity"\nname = "公示"\nobjection_days = "5 个工作日"\n',
    )
    spec = parse(tmp_path, staged).spec
    assert spec.objection_period(spec.categories[0]) == (5, True)
    programme_wide = text + "\n[announcement]\nobjection_days = 7\nworking_days = true\n"
    spec = parse(tmp_path, programme_wide).spec
    assert spec.objection_period(spec.categories[0]) == (7, True)


@pytest.mark.parametrize(
    "old, new, field, bad_line, message",
    [
        (
            "deadline = 2030-04-30",
            'days_after = "five days"',
            "categories[1].flow[2].days_after",
            'days_after = "five days"',
            "5 个工作日",
        ),
        (
            "deadline = 2030-04-30",
            "deadline = 2030-04-30\nworking_days = true",
            "categories[1].flow[2].working_days",
            "working_days = true",
            "没有 days_after",
        ),
        (
            'key = "publicity"\nname = "公示"\n',
            'key = "publicity"\nname = "公示"\nobjection_days = "5 周"\n',
            "categories[1].flow[5].objection_days",
            'objection_days = "5 周"',
            "应为天数",
        ),
        (
            "deadline = 2030-04-30",
            'days_after = "3 个工作日"\nworking_days = false',
            "categories[1].flow[2].working_days",
            "working_days = false",
            "只用一种写法",
        ),
    ],
)
def test_bad_periods_are_refused_at_their_line(
    tmp_path, example, old, new, field, bad_line, message
):
    text = replace_once(example, old, new)
    _, errors = validate(tmp_path, text)
    assert errors, "validated"
    assert errors[0].field == field, errors
    assert line(text, errors[0]) == bad_line
    assert message in errors[0].message


def test_a_bad_programme_wide_period_names_its_table(tmp_path, example):
    text = example + '\n[announcement]\nobjection_days = "a week"\n'
    _, errors = validate(tmp_path, text)
    assert errors[0].field == "announcement.objection_days"
    assert line(text, errors[0]) == 'objection_days = "a week"'


def test_programme_show_resolves_working_days_to_a_date(seeded, tmp_path, example):
    from django.core.management import call_command

    text = in_2026(example, 'days_after = "5 个工作日"')
    text = replace_once(
        text,
        'key = "publicity"\nname = "公示"\n',
        'key = "publicity"\nname = "公示"\nobjection_days = "5 个工作日"\n',
    )
    path = tmp_path / "workdays.toml"
    path.write_text(text, encoding="utf-8")
    call_command("programme", "load", str(path))
    out = show("example-smart-classroom")
    assert "截止：2026-10-13 23:59（上一阶段截止后 5 个工作日）" in out
    assert "公示期 5 个工作日，自发布次日起算" in out


def test_a_pilot_titles_publicity_in_working_days():
    from edupilot.core.workdays import add_days
    from edupilot.programmes.pilot_schema import AppraisalStage, due_rule

    stage = AppraisalStage.model_validate(
        {
            "kind": "appraisal",
            "key": "titles",
            "name": "示范学校评选",
            "titles": [{"key": "demo", "name": "示范学校", "grades": ["excellent"]}],
            "objection_days": "5 个工作日",
        }
    )
    assert (stage.objection_days, stage.working_days) == (5, True)
    assert due_rule(stage).endswith("公示 5 个工作日")
    # honours_announce counts the same way: announced 2026-09-30, until 2026-10-13.
    assert add_days(D(2026, 9, 30), 5, working=stage.working_days) == D(2026, 10, 13)
