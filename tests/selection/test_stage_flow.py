"""A category whose stages are not only org tiers, run end to end by the one engine:

district review within its quota → expert scoring (3 experts, at least 2 scores) → a centre's
re-review → the city's final decision → 公示. Each stage acts in turn: the centre cannot act
before the experts finish, the city cannot decide before the centre, and the paper form shows
the four opinion boxes in the order of the flow.
"""

import io
import re
from pathlib import Path

import pytest

from edupilot.applications.models import AppState
from edupilot.audit.services import Actor
from edupilot.documents import forms as form_docs
from edupilot.orgs.models import Locality, Org, OrgKind, Role
from edupilot.programmes import loader
from edupilot.programmes.services import open_now_shift, programme_load
from edupilot.review import services as review
from edupilot.review.services import ReviewDenied, ReviewError
from edupilot.selection import announcements, approval, experts, scoring
from edupilot.selection.errors import SelectionError
from edupilot.selection.models import ExpertAssignment
from tests.applications.conftest import Who
from tests.conftest import make_school, org
from tests.documents.test_notice_support import label_column_text, pdf_text, squeeze
from tests.review.conftest import submit_as

DOC = Path(__file__).resolve().parents[2] / "docs" / "programme-format.md"

FLOW = """
[[categories.flow]]
kind = "expert_scoring"
key = "panel"
name = "市级专家评审"
min_scores = 2
experts = 3
days_after = 7

[[categories.flow]]
kind = "org_review"
key = "centre"
name = "市电教馆复核"
org = "430400-djg"
days_after = 3
opinion_title = "市电教馆复核意见"

[[categories.flow]]
kind = "approval"
key = "decision"
name = "市教育局审定"

[[categories.flow]]
kind = "announcement"
key = "publicity"
name = "公示"

[[categories.quotas]]"""

OPINIONS = """
[[forms.school.opinions]]
key = "panel"
title = "专家组意见"
by = "experts"

[[forms.school.opinions]]
key = "centre"
title = "市电教馆复核意见"
by = "centre"

[[forms.school.opinions]]
key = "decision"
title = "市教育局审定意见"
by = "decision"

[[categories]]"""

RUBRIC = """
[rubric]
experts_per_application = 3

[[rubric.criteria]]
key = "basis"
name = "工作基础"
max = 40

[[rubric.criteria]]
key = "plan"
name = "实施方案"
max = 60
"""


def programme_text() -> str:
    example = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)[-1]
    head, _, rest = example.partition('[[categories.flow]]\nkind = "tier_review"\nkey = "city"')
    _, _, quotas = rest.partition("[[categories.quotas]]")
    text = head.rstrip() + "\n" + FLOW + quotas
    text = text.replace("\n[[categories]]", OPINIONS, 1)
    return text.replace('code = "example-smart-classroom"', 'code = "example-staged"') + RUBRIC


@pytest.fixture
def staged(seeded):
    centre = Org.objects.create(
        code="430400-djg", name="衡阳市电化教育馆", kind=OrgKind.UNIT, parent=org("430400")
    )
    parsed = loader.parse_text(programme_text(), "example-staged.toml")
    errors = loader.check_against_database(parsed)
    assert errors == []
    programme = programme_load(
        parsed=parsed, actor=Actor.system(), time_shift_days=open_now_shift(parsed)
    ).programme
    return programme, centre


def test_a_flow_with_a_panel_and_a_centre_runs_stage_by_stage(staged):
    programme, centre = staged
    city, county = org("430400"), org("衡阳县")
    school = Who(
        make_school(county, "衡阳县阶段测试小学", stages=",primary,", locality=Locality.URBAN)
    )
    county_rev = Who(county, Role.REVIEWER)
    centre_rev = Who(centre, Role.REVIEWER)
    city_admin = Who(city, Role.PROGRAMME_ADMIN)
    # Experts from another city: none of them is in conflict with a 衡阳 school.
    panel = [Who(org("350500"), Role.EXPERT, username=f"panel{i}") for i in range(3)]

    app = submit_as(school, programme, "school", classrooms="3")
    assert [(s["kind"], s["org_name"]) for s in app.chain] == [
        ("tier_review", "衡阳县"),
        ("expert_scoring", "衡阳市"),
        ("org_review", "衡阳市电化教育馆"),
        ("approval", "衡阳市"),
    ]

    # The centre cannot act before the district and the experts.
    with pytest.raises(ReviewDenied):
        review.review_recommend(
            application=app, scope=centre_rev.scope, actor=centre_rev.actor, opinion="同意"
        )

    # District review, within its quota (衡阳县: 2 places).
    review.review_recommend(
        application=app, scope=county_rev.scope, actor=county_rev.actor, opinion="同意推荐"
    )
    app.refresh_from_db()
    assert (app.state, app.current_step, app.current_org_id) == (AppState.SUBMITTED, 1, city.pk)
    assert review.level_recommendations(review._level_key(app, 0)).get().quota_holder == county

    # At the panel: neither the centre nor the issuer's own reviewers can review.
    with pytest.raises(ReviewDenied):
        review.review_recommend(
            application=app, scope=centre_rev.scope, actor=centre_rev.actor, opinion="同意"
        )
    with pytest.raises(ReviewError, match="专家评分达到要求后自动进入下一阶段"):
        review.review_recommend(
            application=app, scope=city_admin.scope, actor=city_admin.actor, opinion="同意"
        )
    # … and the city cannot decide yet.
    with pytest.raises(SelectionError):
        approval.selection_approve(application=app, scope=city_admin.scope, actor=city_admin.actor)

    # The issuer staffs the panel: 3 experts, the file's number.
    for e in panel:
        experts.expert_pool_add(
            programme=programme,
            membership=e.membership,
            scope=city_admin.scope,
            actor=city_admin.actor,
        )
    result = experts.experts_auto_assign(
        programme=programme, scope=city_admin.scope, actor=city_admin.actor
    )
    assert result.per_app == 3 and len(result.created) == 3

    def score(expert: Who, basis: str, plan: str):
        a = ExpertAssignment.objects.get(application=app, expert=expert.user, is_active=True)
        scoring.expert_scores_save(
            assignment=a,
            scores={"basis": basis, "plan": plan},
            comment="基础较好，方案可行。",
            submit=True,
            scope=expert.scope,
            actor=expert.actor,
        )
        app.refresh_from_db()

    score(panel[0], "30", "50")
    assert app.current_step == 1, "one score is not enough"
    with pytest.raises(ReviewDenied):
        review.review_recommend(
            application=app, scope=centre_rev.scope, actor=centre_rev.actor, opinion="同意"
        )
    score(panel[1], "34", "46")
    assert (app.state, app.current_step, app.current_org_id) == (
        AppState.SUBMITTED,
        2,
        centre.pk,
    ), "two scores move it to the centre"
    # The third expert's task closed with the panel's step.
    third = ExpertAssignment.objects.get(application=app, expert=panel[2].user)
    assert not third.is_active and third.submitted_at is None
    panel_decision = review.level_recommendations(review._level_key(app, 1)).get()
    assert "2 份评分" in panel_decision.opinion and "80" in panel_decision.opinion
    scoring.expert_group_opinion_record(
        application=app,
        text="专家组同意推荐。",
        signed_by="张三、李四",
        scope=city_admin.scope,
        actor=city_admin.actor,
    )

    # The city still cannot decide: the centre has not re-reviewed.
    with pytest.raises(SelectionError):
        approval.selection_approve(application=app, scope=city_admin.scope, actor=city_admin.actor)
    review.review_recommend(
        application=app, scope=centre_rev.scope, actor=centre_rev.actor, opinion="复核通过"
    )
    app.refresh_from_db()
    assert (app.state, app.current_step, app.current_org_id) == (
        AppState.RECOMMENDED,
        3,
        city.pk,
    )

    # The city's final decision, then the announcement.
    approval.selection_approve(
        application=app, opinion="同意立项", scope=city_admin.scope, actor=city_admin.actor
    )
    ann = announcements.announcement_publish(
        programme=programme, scope=city_admin.scope, actor=city_admin.actor
    )
    app.refresh_from_db()
    assert app.state == AppState.APPROVED and ann.entries.get().application_id == app.pk

    # The paper form: the flow's opinion boxes, in order, each filled by its stage.
    doc = form_docs.form_document(city_admin.scope, app)
    assert [b.title for b in doc.opinions] == [
        "学校意见",
        "县（市、区）教育局意见",
        "专家组意见",
        "市电教馆复核意见",
        "市教育局审定意见",
    ]
    filled = {b.title: b.text for b in doc.opinions}
    assert filled["县（市、区）教育局意见"] == "同意推荐"
    assert filled["专家组意见"] == "专家组同意推荐。"
    assert filled["市电教馆复核意见"] == "复核通过"
    assert filled["市教育局审定意见"] == "同意立项"

    pdf = form_docs.render_form(doc)
    labels, text = label_column_text(pdf), squeeze(pdf_text(pdf))
    titles = ("县（市、区）教育局意见", "专家组意见", "市电教馆复核意见", "市教育局审定意见")
    positions = [labels.find(title) for title in titles]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), (positions, labels)
    for said in ("同意推荐", "专家组同意推荐。", "复核通过", "同意立项"):
        assert said in text


def test_programme_show_resolves_the_staged_flow_for_a_school(staged):
    import json

    from django.core.management import call_command

    school = make_school(org("衡阳县"), "衡阳县展示小学", stages=",primary,")
    out = io.StringIO()
    call_command(
        "programme", "show", "example-staged", "--applicant", school.code, "--format", "json",
        stdout=out,
    )  # fmt: skip
    (category,) = json.loads(out.getvalue())["categories"]
    assert [(s["key"], s["actor_org"]) for s in category["stages"]] == [
        ("county", "衡阳县"),
        ("panel", "衡阳市"),
        ("centre", "衡阳市电化教育馆"),
        ("decision", "衡阳市"),
        ("publicity", "衡阳市"),
    ]
    assert category["stages"][0]["quota"] == "衡阳县：2 个"
