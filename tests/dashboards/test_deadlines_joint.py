"""The dashboard's 近期截止 list and a joint review without a deadline: it waits until its
completion rule holds, so it is listed as open (无截止日期), with each org's share, not
dropped for lacking a date.

A file's review stages must give a deadline today (stages.check_flow), so the stage loses
its date here by ``Programme.level_deadline`` answering None for it, as it does for any
stage without one."""

from __future__ import annotations

import pytest

from edupilot.dashboards import selectors
from edupilot.orgs.models import Role
from edupilot.programmes.models import Programme
from tests.applications.conftest import Who
from tests.programme_files import load_text
from tests.review.test_joint import at_joint_step, bureaus, programme_text  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_joint_review_without_a_deadline_is_listed_as_open(bureaus, monkeypatch):  # noqa: F811
    city, finance, _other = bureaus
    programme = load_text(programme_text(), "joint.toml")
    stage = programme.parsed.category("school").stage("joint")
    dated = Programme.level_deadline
    monkeypatch.setattr(
        Programme,
        "level_deadline",
        lambda self, category, key: None if key == stage.key else dated(self, category, key),
    )
    at_joint_step(programme)

    scope = Who(city, Role.REVIEWER).scope
    page = selectors.dashboard(scope, city, {"programme": programme.pk})
    table = page.table("deadlines")
    rows = {r[0]: r[1:] for r in table.rows}
    name = programme.parsed.category("school").name
    assert rows[f"{name}：{stage.name}"] == ["无截止日期（进行中）", None, 1]
    assert rows[f"{name}：{stage.name}：{finance.name}待发表意见"] == [
        "无截止日期（进行中）",
        None,
        1,
    ]
    # Dated rows first, in order; the open ones after them.
    whens = [r[1] for r in table.rows if not isinstance(r[1], str)]
    assert whens and whens == sorted(whens)
    assert all(isinstance(r[1], str) for r in table.rows[len(whens) :])
    shown = {d["label"]: d["cells"] for d in table.display}
    assert shown[f"{name}：{stage.name}"] == ["无截止日期（进行中）", "—", "1"]
