"""Graded outcomes of a selection (issue 10 §3): ``[rubric] grades`` by score band with a gate
(every mandatory criterion and group minimum met), fixed on the issuer's decision, shown on
the board, the application page, the 公示 and its public page; an application that reaches
no passing grade is not approved. And the file's mistakes, each with file, line and field."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from edupilot.audit.services import Actor
from edupilot.documents.announcements import announcement_context
from edupilot.orgs.models import Role
from edupilot.programmes import loader
from edupilot.programmes.services import open_now_shift, programme_load
from edupilot.selection import announcements, approval, experts, scoring
from edupilot.selection.errors import SelectionError
from edupilot.selection.models import AnnouncementEntry, ApprovalDecision, ExpertAssignment
from edupilot.selection.selectors import public_announcement
from tests.conftest import make_school, org

from .test_experts_support import recommended, unit, who

pytestmark = pytest.mark.django_db

PATH = Path(settings.EDUPILOT_PROGRAMMES_DIR) / "quanzhou-smart-campus-2018.toml"
THRESHOLD = "disagreement_threshold = 20\n"
GRADES = (
    THRESHOLD
    + """groups = [{ key = "plan", name = "方案设计", min_percent = 60 }]
grades = [
  { key = "demo", name = "示范", min_percent = 85, all_mandatory = true },
  { key = "ok", name = "合格", min_percent = 60 },
  { key = "low", name = "不合格", result = "fail" },
]
"""
)
TASKS = 'max = 25\ndescription = "实施方案要点4"\n'
POSITIONING = 'max = 15\ndescription = "实施方案要点1"\n'


SECTION = 'key = "basic"\ntitle = "学校基本情况"\n'
SELF_FIELD = """
[[forms.school.sections.fields]]
key = "self_tasks"
type = "number"
label = "自评：重点任务和进度安排"
min = 0
max = 25
"""


def graded_text() -> str:
    text = PATH.read_text(encoding="utf-8")
    for old in (THRESHOLD, TASKS, POSITIONING, SECTION):
        assert text.count(old) == 1
    return (
        text.replace(THRESHOLD, GRADES)
        .replace(TASKS, TASKS + 'mandatory_min = 15\ngroup = "plan"\nself_field = "self_tasks"\n')
        .replace(POSITIONING, POSITIONING + 'group = "plan"\n')
        .replace(SECTION, SECTION + SELF_FIELD)
    )


def load(text: str):
    parsed = loader.parse_text(text, PATH.name)
    shift = open_now_shift(parsed)
    return programme_load(parsed=parsed, actor=Actor.system(), time_shift_days=shift).programme


@pytest.fixture
def world(programmes):
    quanzhou = load(graded_text())
    admin = who("350500", Role.PROGRAMME_ADMIN)
    apps = {
        name: recommended(
            quanzhou,
            "school",
            make_school(org("晋江市"), f"晋江市{name}小学"),
            data={"self_tasks": 20},
        )
        for name in ("优秀", "短板", "薄弱")
    }
    panel = [who(unit("410000", f"泉州等级评审大学{i}"), Role.EXPERT) for i in range(5)]
    rubric = quanzhou.parsed.rubric
    # Marks as a share of each criterion's maximum: 90 % throughout (91 points); 90 % but
    # 12 of 25 on the mandatory "tasks" (81 points); 50 % throughout (51 points).
    marks = {"优秀": {}, "短板": {"tasks": 12}, "薄弱": None}
    for w in panel:
        member = experts.expert_pool_add(
            programme=quanzhou,
            membership=w.user.memberships.get(role=Role.EXPERT),
            scope=admin.scope,
            actor=admin.actor,
        )
        for name, app in apps.items():
            experts.expert_assign(
                application=app, member=member, scope=admin.scope, actor=admin.actor
            )
            share = 0.5 if marks[name] is None else 0.9
            scores = {c.key: str(round(float(c.max) * share)) for c in rubric.criteria}
            scores.update({k: str(v) for k, v in (marks[name] or {}).items()})
            scoring.expert_scores_save(
                assignment=ExpertAssignment.objects.get(application=app, expert=w.user),
                scores=scores,
                comment="意见。",
                submit=True,
                scope=w.scope,
                actor=w.actor,
            )
    return quanzhou, admin, apps


def test_grades_by_band_and_gate(world):
    quanzhou, admin, apps = world
    rubric = quanzhou.parsed.rubric
    lines = {n: scoring.score_line(a, rubric) for n, a in apps.items()}
    assert lines["优秀"].score == 91 and lines["优秀"].grade.name == "示范"
    assert lines["优秀"].groups["plan"] == 90
    # 81 points, and the mandatory criterion short: the gate keeps it from 示范.
    assert lines["短板"].score == 81 and lines["短板"].grade.name == "合格"
    assert lines["短板"].mandatory_unmet == ["重点任务和进度安排"]
    assert lines["薄弱"].grade.name == "不合格"


def test_approval_fixes_the_grade_and_refuses_a_failing_one(client, world):
    quanzhou, admin, apps = world
    with pytest.raises(SelectionError) as refused:
        approval.selection_decide(
            applications=list(apps.values()),
            outcome="approve",
            opinion="",
            scope=admin.scope,
            actor=admin.actor,
        )
    assert "晋江市薄弱小学（评为“不合格”" in refused.value.message
    assert "晋江市优秀小学" not in refused.value.message
    assert not ApprovalDecision.objects.exists()
    for name in ("优秀", "短板"):
        approval.selection_approve(application=apps[name], scope=admin.scope, actor=admin.actor)
    grades = dict(
        ApprovalDecision.objects.values_list("application__applicant_org__name", "grade_name")
    )
    assert grades == {"晋江市优秀小学": "示范", "晋江市短板小学": "合格"}
    # A rejection needs no grade.
    approval.selection_reject(
        application=apps["薄弱"], reason="得分不足", scope=admin.scope, actor=admin.actor
    )
    client.force_login(admin.user)
    board = client.get(reverse("selection:selection", args=[quanzhou.pk])).content.decode()
    assert "示范" in board and "合格" in board and "不合格" in board
    page = client.get(reverse("selection:selection_application", args=[apps["短板"].pk]))
    body = page.content.decode()
    assert 'id="grade">合格<' in body and "未达必达项：重点任务和进度安排" in body
    # The applicant's own score beside the experts' (12 each on "tasks").
    assert 'id="self-scores"' in body and "申报单位自评" in body

    ann = announcements.announcement_publish(
        programme=quanzhou, scope=admin.scope, actor=admin.actor
    )
    listed = dict(AnnouncementEntry.objects.values_list("unit_name", "grade_name"))
    assert listed == {"晋江市优秀小学": "示范", "晋江市短板小学": "合格"}
    context = announcement_context(public_announcement(ann.pk))
    assert context["show_grade"]
    client.logout()
    public = client.get(reverse("selection_public:detail", args=[ann.pk])).content.decode()
    assert "评审等级" in public and "示范" in public


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            '{ key = "ok", name = "合格", min_percent = 60 }',
            '{ key = "ok", name = "合格", min_percent = 90 }',
            "rubric.grades[2].min_percent",
            "从高到低",
        ),
        ('group = "plan"\n', 'group = "planning"\n', "rubric.criteria[1].group", "planning"),
        (
            "mandatory_min = 15",
            "mandatory_min = 30",
            "rubric.criteria[4].mandatory_min",
            "超过满分",
        ),
        (
            'self_field = "self_tasks"',
            'self_field = "self_task"',
            "rubric.criteria[4].self_field",
            "不是任何表单中的数字字段",
        ),
        (
            'label = "自评：重点任务和进度安排"\nmin = 0\nmax = 25',
            'label = "自评：重点任务和进度安排"\nmin = 0\nmax = 30',
            "rubric.criteria[4].self_field",
            "不超过该项满分 25",
        ),
        (
            '{ key = "low", name = "不合格", result = "fail" }',
            '{ key = "low", name = "不合格", result = "rectify" }',
            "rubric.grades[3].result",
            "只用于验收",
        ),
    ],
)
def test_rubric_mistakes_name_file_line_and_field(old, new, field, message):
    text = graded_text()
    assert old in text
    bad = text.replace(old, new, 1)
    with pytest.raises(loader.ProgrammeFileInvalid) as exc:
        loader.parse_text(bad, "graded.toml")
    error = exc.value.errors[0]
    assert (error.file, error.field) == ("graded.toml", field)
    assert message in error.message
    if field.endswith("self_field"):
        assert 'self_field = "' in bad.splitlines()[error.line - 1]
    else:
        assert new.split("\n")[0] in bad.splitlines()[error.line - 1]


def test_a_gate_with_nothing_mandatory_is_refused():
    text = PATH.read_text(encoding="utf-8").replace(
        THRESHOLD,
        THRESHOLD
        + 'grades = [{ key = "a", name = "示范", min_percent = 85, all_mandatory = true }]\n',
    )
    with pytest.raises(loader.ProgrammeFileInvalid) as exc:
        loader.parse_text(text, "g.toml")
    error = exc.value.errors[0]
    assert error.field == "rubric.grades[1].all_mandatory"
    assert "没有任何必达项" in error.message
    assert "all_mandatory = true" in text.splitlines()[error.line - 1]


def test_programme_show_prints_the_rubric_grades(world):
    import json

    from django.core.management import call_command

    quanzhou, admin, apps = world
    out = io.StringIO()
    call_command("programme", "show", quanzhou.code, stdout=out)
    text = out.getvalue()
    assert "等级 示范（demo）：得分率 ≥ 85%，必达项全部达标" in text
    assert "重点任务和进度安排（tasks）：满分 25，权重 1，维度 方案设计，必达 15 分" in text
    assert "维度 方案设计（plan），得分率不低于 60%" in text
    out = io.StringIO()
    call_command("programme", "show", quanzhou.code, "--format", "json", stdout=out)
    rubric = json.loads(out.getvalue())["rubric"]
    assert [g["key"] for g in rubric["grades"]] == ["demo", "ok", "low"]
    assert rubric["grades"][2]["result"] == "fail"


def test_a_self_score_gate_is_a_submission_rule_on_the_self_fields(programmes):
    from edupilot.applications.selectors import rule_context
    from edupilot.programmes import rules

    gate = (
        '[[categories.rules]]\nid = "self_gate"\nphase = "submission"\n'
        'expr = "double(app.data.self_tasks) >= 15.0"\nmessage = "自评低于申报条件，不能申报。"\n\n'
    )
    text = graded_text()
    first_flow = text.index("[[categories.flow]]")
    quanzhou = load(text[:first_flow] + gate + text[first_flow:])
    school = make_school(org("晋江市"), "晋江市自评小学")
    category = quanzhou.parsed.category("school")
    for value, ok in ((20, True), (15, True), (12, False), ("", False)):
        app = recommended(quanzhou, "school", school, data={"self_tasks": value})
        results = rules.evaluate_all(
            category.rules, rule_context(quanzhou, school, app), "submission"
        )
        gate_result = next(r for r in results if r.rule_id == "self_gate")
        assert gate_result.ok is ok, (value, gate_result)
        app.delete()
