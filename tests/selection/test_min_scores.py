"""Approval waits for the expert panel (issue 11 §6): with Quanzhou's panel declaring
``min_scores = 5`` (its rubric sends five experts to each application), an application with
two submitted scores is not approved: the refusal names the units short of scores. Its
score is the plain mean of the two, not labelled a trimmed mean."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from edupilot.orgs.models import Role
from edupilot.programmes import loader
from edupilot.programmes.models import Programme
from edupilot.selection import approval, scoring
from edupilot.selection.errors import SelectionError
from edupilot.selection.models import ApprovalDecision
from tests.conftest import make_school, org

from .test_experts_support import expert_panel, recommended, score_by, who

pytestmark = pytest.mark.django_db

# The seed's panel, as the file declares it.
PANEL = "min_scores = 5\ndays_after = 14  # notice silent: two weeks after the city's review\n"


@pytest.fixture
def world(programmes):
    quanzhou = Programme.objects.get(code="quanzhou-smart-campus-2018")
    assert quanzhou.parsed.category("school").stage("experts").min_scores == 5
    admin = who("350500", Role.PROGRAMME_ADMIN)
    short = recommended(quanzhou, "school", make_school(org("晋江市"), "晋江市评分未齐小学"))
    full = recommended(quanzhou, "school", make_school(org("晋江市"), "晋江市评分已齐小学"))
    panel = expert_panel(quanzhou, admin, 5, name="泉州评审")
    score_by(short, panel[:2], admin)
    score_by(full, panel, admin)
    return quanzhou, admin, short, full, panel


def test_approval_waits_for_the_panels_minimum_and_names_who_is_short(world):
    quanzhou, admin, short, full, panel = world
    with pytest.raises(SelectionError) as refused:
        approval.selection_decide(
            applications=[short, full],
            outcome="approve",
            opinion="",
            scope=admin.scope,
            actor=admin.actor,
        )
    message = refused.value.message
    assert "专家评分不足，不能同意立项" in message
    assert "晋江市评分未齐小学（已提交 2 份，需 5 份）" in message
    assert "晋江市评分已齐小学" not in message
    assert not ApprovalDecision.objects.exists()
    # The complete one alone goes through; a rejection does not wait for scores.
    approval.selection_approve(application=full, scope=admin.scope, actor=admin.actor)
    approval.selection_reject(
        application=short, reason="材料不全", scope=admin.scope, actor=admin.actor
    )
    assert ApprovalDecision.objects.filter(is_active=True).count() == 2


def test_a_short_panel_is_not_labelled_a_trimmed_mean(client, world):
    quanzhou, admin, short, full, panel = world
    short_line = scoring.score_line(short, quanzhou.parsed.rubric)
    full_line = scoring.score_line(full, quanzhou.parsed.rubric)
    assert (short_line.submitted, short_line.needed) == (2, 5) and short_line.short
    assert not short_line.trimmed and full_line.trimmed and not full_line.short
    # The plain mean of the two totals, not a "trimmed" mean of two.
    assert short_line.score == sum(short_line.totals) / 2
    client.force_login(admin.user)
    html = client.get(reverse("selection:selection_application", args=[short.pk])).content
    html = html.decode()
    assert "去掉最高、最低" not in html and "平均分" in html
    assert "评分未齐：已提交 2 份，需 5 份，尚不能同意立项" in html
    html = client.get(reverse("selection:selection_application", args=[full.pk])).content
    assert "去掉最高、最低各 1 个后的平均分" in html.decode()
    # Through the board's form: refused with the reason, nothing decided.
    resp = client.post(
        reverse("selection:selection_decide", args=[quanzhou.pk]),
        {"application": [short.pk], "outcome": "approve", "opinion": ""},
        follow=True,
    )
    assert "晋江市评分未齐小学（已提交 2 份，需 5 份）" in resp.content.decode()
    assert not ApprovalDecision.objects.exists()


def test_min_scores_needs_a_deadline_and_no_more_than_the_experts(tmp_path):
    path = Path(settings.EDUPILOT_PROGRAMMES_DIR) / "quanzhou-smart-campus-2018.toml"
    text = path.read_text(encoding="utf-8")
    assert text.count(PANEL) == 1
    text = text.replace(PANEL, "min_scores = 6\n")
    with pytest.raises(loader.ProgrammeFileInvalid) as bad:
        loader.parse_text(text, path.name)
    assert "须写截止时间" in str(bad.value)
    text = path.read_text(encoding="utf-8").replace(PANEL, "min_scores = 6\ndays_after = 14\n")
    with pytest.raises(loader.ProgrammeFileInvalid) as bad:
        loader.parse_text(text, path.name)
    assert "min_scores（6）大于每份申报的专家人数（5）" in str(bad.value)


def test_the_dashboard_counts_the_bids_the_panel_still_owes(world):
    """Issue 11 §3: Quanzhou's panel comes after the reviews; its 待办 on the dashboard are the
    bids awaiting approval short of the five scores (not "—")."""
    from edupilot.applications.models import Application
    from edupilot.dashboards import selectors as dashboards
    from edupilot.dashboards.queues import short_of_scores

    quanzhou, admin, short, full, panel = world
    apps = Application.objects.filter(programme=quanzhou)
    assert short_of_scores(apps, "school", 5) == 1  # the one with two scores
    assert short_of_scores(apps, "school", 2) == 0
    page = dashboards.dashboard(admin.scope, admin.org, {"programme": quanzhou.pk})
    rows = {r[0]: r[3] for r in page.table("deadlines").rows}
    if "试点学校：专家评审" in rows:  # listed while its deadline is ahead
        assert rows["试点学校：专家评审"] == 1
