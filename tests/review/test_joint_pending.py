"""What a joint review stage still waits for: each org that has not given its opinion.

Two bureaus decide the stage together (tests/review/test_joint.py). Once one of them has
spoken, the deadline reminders go only to the other, with its own count, and the region's
dashboard shows each org's pending work beside the stage, which stays pending until the
file's completion rule holds (all agree here; any one agreement under ``"any"``).
"""

from __future__ import annotations

import datetime as dt

from edupilot.core.notifications import SHANGHAI
from edupilot.dashboards import selectors as dashboards
from edupilot.orgs.models import Role
from edupilot.selection import reminders
from tests.applications.conftest import Who
from tests.review import test_joint as joint_case

bureaus = joint_case.bureaus  # the fixture: the city and its finance bureau


def due_at_the_joint_stage(programme):
    """The reminders due the day before the joint stage's deadline, by org."""
    deadline = programme.level_deadline("school", "joint")
    today = deadline.astimezone(SHANGHAI).date() - dt.timedelta(days=1)
    assert 1 in reminders.lead_days(programme)
    return {
        r.orgs[0]: r.body
        for r in reminders.level_reminders(programme, today)
        if r.event == "review.deadline_reminder" and ":joint:" in r.key
    }


def test_reminders_skip_the_orgs_that_have_spoken(bureaus):
    city, finance, _other = bureaus
    programme = joint_case.load()
    first, _school, _county = joint_case.at_joint_step(programme)
    second, _school, _county = joint_case.at_joint_step(programme)
    assert due_at_the_joint_stage(programme) == {
        city.pk: "还有 2 份申报等待本级处理，截止时间 "
        + reminders.fmt_time(programme.level_deadline("school", "joint"))
        + "（北京时间）。",
        finance.pk: "还有 2 份申报等待本级处理，截止时间 "
        + reminders.fmt_time(programme.level_deadline("school", "joint"))
        + "（北京时间）。",
    }
    # The finance bureau agrees on the first: it now owes one, the city still two.
    joint_case.say(first, Who(finance, Role.REVIEWER), "recommend", "资金安排可行")
    due = due_at_the_joint_stage(programme)
    assert "还有 2 份" in due[city.pk] and "还有 1 份" in due[finance.pk]
    # And on the second: the finance bureau is owed nothing and is not reminded at all.
    joint_case.say(second, Who(finance, Role.REVIEWER), "recommend", "同意")
    assert set(due_at_the_joint_stage(programme)) == {city.pk}


def joint_rows(programme, city):
    admin = Who(city, Role.PROGRAMME_ADMIN)
    page = dashboards.dashboard(admin.scope, city, {"programme": programme.pk}, only="deadlines")
    return {r[0]: r[3] for r in page.table("deadlines").rows if "联合审核" in r[0]}


def test_the_dashboard_shows_each_orgs_pending_opinions(bureaus):
    city, finance, _other = bureaus
    programme = joint_case.load()
    first, _school, _county = joint_case.at_joint_step(programme)
    joint_case.at_joint_step(programme)
    stage = "试点学校：市教育局、市财政局联合审核"
    assert joint_rows(programme, city) == {
        stage: 2,
        f"{stage}：衡阳市待发表意见": 2,
        f"{stage}：衡阳市财政局待发表意见": 2,
    }
    # One org agreeing does not complete the stage under "all": still two at the stage.
    joint_case.say(first, Who(finance, Role.REVIEWER), "recommend", "同意")
    assert joint_rows(programme, city) == {
        stage: 2,
        f"{stage}：衡阳市待发表意见": 2,
        f"{stage}：衡阳市财政局待发表意见": 1,
    }
    # The city agrees too: the rule holds, the application has left the stage.
    joint_case.say(first, Who(city, Role.REVIEWER), "recommend", "同意")
    assert joint_rows(programme, city) == {
        stage: 1,
        f"{stage}：衡阳市待发表意见": 1,
        f"{stage}：衡阳市财政局待发表意见": 1,
    }


def test_under_any_the_first_agreement_completes_the_stage(bureaus):
    city, finance, _other = bureaus
    programme = joint_case.load('"any"')
    app, _school, _county = joint_case.at_joint_step(programme)
    stage = "试点学校：市教育局、市财政局联合审核"
    assert joint_rows(programme, city)[stage] == 1
    joint_case.say(app, Who(finance, Role.REVIEWER), "recommend", "同意")
    assert joint_rows(programme, city) == {
        stage: 0,
        f"{stage}：衡阳市待发表意见": 0,
        f"{stage}：衡阳市财政局待发表意见": 0,
    }
