"""Approval waits for the expert panel (issue 11 §6): with Quanzhou's panel declaring
``min_scores = 5`` (its rubric sends five experts to each application), an application with
two submitted scores is not approved: the refusal names the units short of scores. Its
score is the plain mean of the two, not labelled a trimmed mean."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from edupilot.audit.services import Actor
from edupilot.orgs.models import Role
from edupilot.programmes import loader
from edupilot.programmes.services import open_now_shift, programme_load
from edupilot.selection import approval, experts, scoring
from edupilot.selection.errors import SelectionError
from edupilot.selection.models import ApprovalDecision, ExpertAssignment
from tests.conftest import make_school, org

from .test_experts_support import recommended, unit, who

pytestmark = pytest.mark.django_db

PANEL = 'key = "experts"\nname = "专家评审"\n'


def load_quanzhou_needing(n: int):
    path = Path(settings.EDUPILOT_PROGRAMMES_DIR) / "quanzhou-smart-campus-2018.toml"
    text = path.read_text(encoding="utf-8")
    assert text.count(PANEL) == 1
    text = text.replace(PANEL, PANEL + f"min_scores = {n}\ndeadline = 2019-01-18\n")
    parsed = loader.parse_text(text, path.name)
    shift = open_now_shift(parsed)
    return programme_load(parsed=parsed, actor=Actor.system(), time_shift_days=shift).programme


@pytest.fixture
def world(programmes):
    quanzhou = load_quanzhou_needing(5)
    admin = who("350500", Role.PROGRAMME_ADMIN)
    short = recommended(quanzhou, "school", make_school(org("晋江市"), "晋江市评分未齐小学"))
    full = recommended(quanzhou, "school", make_school(org("晋江市"), "晋江市评分已齐小学"))
    panel = [who(unit("410000", f"泉州评审大学{i}"), Role.EXPERT) for i in range(5)]
    for w in panel:
        member = experts.expert_pool_add(
            programme=quanzhou,
            membership=w.user.memberships.get(role=Role.EXPERT),
            scope=admin.scope,
            actor=admin.actor,
        )
        for app in (short, full):
            experts.expert_assign(
                application=app, member=member, scope=admin.scope, actor=admin.actor
            )
    rubric = quanzhou.parsed.rubric
    marks = [0.6, 0.7, 0.8, 0.9, 1.0]
    for app, scorers in ((short, panel[:2]), (full, panel)):
        for w, m in zip(scorers, marks, strict=False):
            scoring.expert_scores_save(
                assignment=ExpertAssignment.objects.get(application=app, expert=w.user),
                scores={c.key: str(round(float(c.max) * m)) for c in rubric.criteria},
                comment="方案可行。",
                submit=True,
                scope=w.scope,
                actor=w.actor,
            )
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
    text = path.read_text(encoding="utf-8").replace(PANEL, PANEL + "min_scores = 6\n")
    with pytest.raises(loader.ProgrammeFileInvalid) as bad:
        loader.parse_text(text, path.name)
    assert "须写截止时间" in str(bad.value)
