"""Every recipe of docs/programme-cookbook.md, loaded and broken (issue 10 §8).

``BREAKS`` has an entry for each recipe heading: a function here that splices the recipe
into the reference's complete example (tests/programme_files.py), loads it, and acts through
the real services until the recipe's rule refuses; or the tests elsewhere that already do
that for the recipe's construct (run with their own files). A recipe with no entry fails
:func:`test_every_recipe_has_a_break`: a new recipe brings its break with it. ``PENDING``
names recipes whose break a parallel branch brings; it is emptied when they are merged.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from edupilot.applications import services as app_services
from edupilot.applications.models import AppState
from edupilot.applications.services import ApplicationError
from edupilot.orgs.models import Role
from edupilot.programmes import loader
from edupilot.programmes.models import ParticipantEntry, ParticipantList, QuotaAllocation
from edupilot.review import services as review
from edupilot.review.models import ReviewDecision
from edupilot.review.services import ReviewError
from edupilot.selection import approval, experts, scoring
from edupilot.selection.errors import SelectionError
from tests.applications.conftest import upload
from tests.conftest import org
from tests.evidence import exe_bytes, sample_upload
from tests.programme_files import (
    COOKBOOK,
    EXAMPLE,
    EXAMPLE_TODAY,
    RECIPES,
    file_day,
    hengyang_units,
    load_text,
    real_date,
    recipe,
    splice,
)
from tests.programmes.test_cookbook import write_notice_files
from tests.review.conftest import reviewer, school_in, submit_as, valid_post
from tests.selection.test_experts_support import unit, who

pytestmark = pytest.mark.django_db

D = dt.date


def load(heading: str, text: str | None = None):
    return load_text(text or splice(recipe(heading)), "cookbook.toml", today=EXAMPLE_TODAY)


def apply(programme, where="衡阳县", **attrs):
    return submit_as(school_in(org(where), **attrs), programme, "school")


def recommend(who, app, at=None):
    decision = review.review_recommend(
        application=app, scope=who.scope, actor=who.actor, opinion="同意推荐。", now=at
    )
    app.refresh_from_db()
    return decision


# -- the breaks ---------------------------------------------------------------------------


def cascading_windows(tmp_path):
    """The county's window ends 5 days after the cut-off (04-05), the city's 5 days later."""
    p = load("Cascading windows")
    a, b = apply(p), apply(p)
    county = reviewer("衡阳县")
    with pytest.raises(ReviewError, match=f"推荐）审核截止时间 {real_date(p, D(2030, 4, 5))} "):
        recommend(county, a, at=file_day(p, D(2030, 4, 6)))
    recommend(county, b, at=file_day(p, D(2030, 4, 5)))
    # The city's window, 5 days after the county's: the city is the issuer, its step the
    # approval, refused after 04-10.
    assert p.level_deadline("school", "city").date() == real_date(p, D(2030, 4, 10))
    admin = reviewer("430400", Role.PROGRAMME_ADMIN)
    with pytest.raises(SelectionError, match=f"审定截止时间 {real_date(p, D(2030, 4, 10))} "):
        approval.selection_approve(
            application=b, scope=admin.scope, actor=admin.actor, now=file_day(p, D(2030, 4, 11))
        )
    approval.selection_approve(
        application=b, scope=admin.scope, actor=admin.actor, now=file_day(p, D(2030, 4, 10))
    )


def working_days(tmp_path):
    """Ten working days after Wednesday 2030-04-10 is 04-24 (Monday to Friday: 2030's holidays
    are not published); the city acting on the 25th is refused."""
    p = load('"公示期为5个工作日"')
    a, b = apply(p), apply(p)
    county, city = reviewer("衡阳县"), reviewer("430400")
    review.review_recommend_bulk(
        applications=[a, b], scope=county.scope, actor=county.actor, opinion="同意推荐。"
    )
    a.refresh_from_db(), b.refresh_from_db()
    with pytest.raises(ReviewError, match=f"审核截止时间 {real_date(p, D(2030, 4, 24))} "):
        recommend(city, a, at=file_day(p, D(2030, 4, 25)))
    recommend(city, b, at=file_day(p, D(2030, 4, 24)))
    assert b.chain[b.current_step]["kind"] == "expert_scoring"


def panel_then_centre(tmp_path):
    """The centre cannot act while the panel still owes its two scores."""
    p = load("An expert panel between two bureau levels")
    app = apply(p)
    recommend(reviewer("衡阳县"), app)
    assert app.chain[app.current_step]["kind"] == "expert_scoring"
    with pytest.raises(ReviewError):
        recommend(reviewer("430400-djg"), app)
    with pytest.raises(ReviewError):
        recommend(reviewer("430400"), app)
    assert app.chain[app.current_step]["kind"] == "expert_scoring"


def two_offices(tmp_path):
    """The equipment office cannot act before the basic-education office has."""
    p = load("Two offices of the same city")
    app = apply(p)
    recommend(reviewer("衡阳县"), app)
    equipment = reviewer("430400-zbc")
    with pytest.raises(ReviewError):
        recommend(equipment, app)
    recommend(reviewer("430400-jcjy"), app)
    recommend(equipment, app)
    assert app.chain[app.current_step]["kind"] == "approval"


def joint_review(tmp_path):
    """Each bureau gives one opinion; one no and the application is not recommended."""
    p = load("Two bureaus issue the notice")
    assert [c.name for c in p.parsed.co_issuers] == ["衡阳市财政局"]
    app = apply(p)
    recommend(reviewer("衡阳县"), app)
    city, finance = reviewer("430400"), reviewer("430400-czj")
    recommend(city, app)
    assert app.chain[app.current_step]["kind"] == "joint_review"
    with pytest.raises(ReviewError):
        recommend(reviewer("430400"), app)
    review.review_not_recommend(
        application=app, scope=finance.scope, actor=finance.actor, reason="预算不足。"
    )
    app.refresh_from_db()
    assert app.state == AppState.NOT_RECOMMENDED


def county_round(tmp_path):
    """衡阳县's round under the city's call (loaded first): its own cap of 2 refuses a third
    approval. (Its published list entering the city's queue within 衡阳县's places:
    tests/selection/test_cascade.py.)"""
    load_text(EXAMPLE, "example.toml", today=EXAMPLE_TODAY)
    p = load_text(recipe("A county's own selection"), "round.toml", today=EXAMPLE_TODAY)
    assert p.parsed.parent == "example-smart-classroom"
    apps = [apply(p) for _ in range(3)]
    admin = reviewer("衡阳县", Role.PROGRAMME_ADMIN)
    for app in apps[:2]:
        approval.selection_approve(application=app, scope=admin.scope, actor=admin.actor)
    with pytest.raises(SelectionError, match="立项上限为 2 个：已立项 0 个、待公示 2 个"):
        approval.selection_approve(application=apps[2], scope=admin.scope, actor=admin.actor)


def no_send_back(tmp_path):
    """``return`` left out of the county's actions: sending back is refused, stopping is not."""
    p = load("A reviewer may pass on or stop")
    app = apply(p)
    county = reviewer("衡阳县")
    with pytest.raises(ReviewError):
        review.review_return(
            application=app, scope=county.scope, actor=county.actor, reasons="请补充材料。"
        )
    app.refresh_from_db()
    assert app.state == AppState.SUBMITTED
    review.review_not_recommend(
        application=app, scope=county.scope, actor=county.actor, reason="不符合条件。"
    )
    app.refresh_from_db()
    assert app.state == AppState.NOT_RECOMMENDED


def fold(tmp_path):
    """The zone's school queues at 蒸湘区 and spends 蒸湘区's one place; the zone's own
    reviewers cannot act and hold no place."""
    text = splice(recipe('"The development zone'))
    row = '  { org = "耒阳市", quota = 1 },\n'
    text = text.replace(row, row + '  { org = "蒸湘区", quota = 1 },\n', 1)
    p = load('"The development zone', text.replace("declared_total = 4", "declared_total = 5"))
    zone_app = apply(p, "衡阳高新技术产业开发区")
    district_app = apply(p, "蒸湘区")
    assert zone_app.current_org == org("蒸湘区")
    assert not QuotaAllocation.objects.filter(programme=p, holder__name="衡阳高新技术产业开发区")
    with pytest.raises(ReviewError):
        recommend(reviewer("衡阳高新技术产业开发区"), zone_app)
    district = reviewer("蒸湘区")
    recommend(district, zone_app)
    with pytest.raises(ReviewError, match="已全部占用"):
        recommend(district, district_app)


def notice_files(tmp_path):
    """An attachment that is not what its name says is refused when the file is loaded."""
    path = tmp_path / "notice.toml"
    path.write_text(splice(recipe("The notice's full text")), encoding="utf-8")
    write_notice_files(tmp_path, recipe("The notice's full text"))
    assert not loader.validate(path)[1]
    (tmp_path / "notices" / "附件2.pdf").write_bytes(exe_bytes())
    _, errors = loader.validate(path)
    assert [e.message for e in errors] == ["文件内容不是扩展名 .pdf 所说的格式"]
    assert path.read_text(encoding="utf-8").splitlines()[errors[0].line - 1] == (
        'file = "notices/附件2.pdf"'
    )


def photos(tmp_path):
    """Nine photos are one short; a renamed program is no Word file; the tenth photo submits."""
    p = load('"At least 10 photos')
    who = school_in(org("衡阳县"))
    kw = {"scope": who.scope, "actor": who.actor}
    app = app_services.application_start(programme=p, category_code="school", **kw)
    app_services.application_save_draft(application=app, post=valid_post(p, "school"), **kw)
    attach = app_services.application_attach
    attach(application=app, field_key="form_scan", upload=upload(), **kw)
    for i in range(9):
        attach(application=app, field_key="photos", upload=sample_upload("jpg", i), **kw)
    with pytest.raises(ApplicationError):
        attach(
            application=app,
            field_key="plan_file",
            upload=SimpleUploadedFile("方案.docx", exe_bytes(), "application/octet-stream"),
            **kw,
        )
    attach(application=app, field_key="plan_file", upload=sample_upload("pptx"), **kw)
    with pytest.raises(ApplicationError) as exc:
        app_services.application_submit(application=app, **kw)
    assert "还差 1 个" in str(exc.value.errors), exc.value.errors
    attach(application=app, field_key="photos", upload=sample_upload("png", 10), **kw)
    app_services.application_submit(application=app, **kw)
    app.refresh_from_db()
    assert app.state == AppState.SUBMITTED


def each_quota(tmp_path):
    """Every county-level unit gets its class's number without a row of its own (石鼓区 12 as a
    central district, 衡阳县 and 衡东县 10), the city's direct schools their 2: the third direct
    school's recommendation is refused. (Spending a county's ten would take eleven
    applications, each with its scanned PDF checked: the refusal is the same code path.)"""
    p = load('"3 per county"')
    places = dict(
        QuotaAllocation.objects.filter(programme=p, direct=False).values_list(
            "holder__name", "effective"
        )
    )
    assert places["石鼓区"] == 12 and places["衡阳县"] == 10 and places["衡东县"] == 10
    assert places["衡阳高新技术产业开发区"] == 10  # a zone is a county-level holder too
    apps = [apply(p, "430400") for _ in range(3)]
    city = reviewer("430400")
    review.review_recommend_bulk(
        applications=apps[:2], scope=city.scope, actor=city.actor, opinion="同意推荐。"
    )
    with pytest.raises(
        ReviewError, match="衡阳市（直属单位）“试点学校”县级推荐名额共 2 个，已全部占用"
    ):
        recommend(city, apps[2])


def titles(tmp_path):
    """衡阳县's two places are full; a third school is refused, the demonstration school is
    admitted outside the quota and ranked first."""
    p = load('"Provincial demonstration schools')
    apps = [apply(p) for _ in range(3)]
    demo = apply(p, name="衡阳县示范小学")
    ParticipantEntry.objects.create(
        plist=ParticipantList.objects.get(code="example_demo_schools"),
        org=demo.applicant_org,
    )
    county = reviewer("衡阳县")
    recommend(county, apps[0]), recommend(county, apps[1])
    with pytest.raises(ReviewError, match="已全部占用"):
        recommend(county, apps[2])
    d = recommend(county, demo)
    assert d.quota_holder_id is None and d.rank == 1
    assert ReviewDecision.objects.filter(programme=p, active=True).count() == 3


def covers(tmp_path):
    """衡阳县's two places must cover both topics: a second classroom school is refused,
    naming the topic still missing; the evaluation school then passes. The same rule at
    the city, where the city itself decides, is refused at its line."""
    p = load('"Every topic has at least one school')
    county = reviewer("衡阳县")
    a, b, c = (
        submit_as(school_in(org("衡阳县")), p, "school", topic=topic)
        for topic in ("classroom", "classroom", "evaluation")
    )
    recommend(county, a)
    with pytest.raises(ReviewError) as exc:
        recommend(county, b)
    assert exc.value.message.startswith("各县（市、区）推荐的学校须覆盖每个选题。（规则 coverage：")
    assert "尚缺 1 个才能覆盖：智慧课堂评价应用，而此后只剩 0 个名额" in exc.value.message
    assert b.applicant_org.name in exc.value.message
    recommend(county, c)
    at_city = recipe('"Every topic has at least one school').replace(
        'level = "county"\n', 'level = "city"\neach_org_at = "county"\n'
    )
    path = tmp_path / "city.toml"
    path.write_text(splice(at_city), encoding="utf-8")
    _, errors = loader.validate(path)
    assert [e.field for e in errors] == ["categories[1].set_rules[1].level"], errors
    assert "是发文单位自己审定的层级" in errors[0].message
    assert path.read_text(encoding="utf-8").splitlines()[errors[0].line - 1] == 'level = "city"'


def star_grades(tmp_path):
    """Three experts score two schools the county recommended: 14 + 75 = 89 points misses the
    veto item (15 of 25 on the key tasks), so 合格, not 示范; 10 + 40 = 50 is 不合格 and its
    approval is refused, naming it."""
    p = load("Star grades by score band")
    county = reviewer("衡阳县")
    near, weak = apply(p, name="衡阳县差一分小学"), apply(p, name="衡阳县薄弱小学")
    review.review_recommend_bulk(
        applications=[near, weak], scope=county.scope, actor=county.actor, opinion="同意推荐。"
    )
    admin = reviewer("430400", Role.PROGRAMME_ADMIN)
    marks = {near.pk: {"tasks": "14", "basis": "75"}, weak.pk: {"tasks": "10", "basis": "40"}}
    for i in range(3):
        expert = who(unit("410000", f"衡阳评审专家所在大学{i}"), Role.EXPERT)
        member = experts.expert_pool_add(
            programme=p, membership=expert.membership, scope=admin.scope, actor=admin.actor
        )
        for app in (near, weak):
            assignment = experts.expert_assign(
                application=app, member=member, scope=admin.scope, actor=admin.actor
            )
            scoring.expert_scores_save(
                assignment=assignment, scores=marks[app.pk], comment="意见。", submit=True,
                scope=expert.scope, actor=expert.actor,
            )  # fmt: skip
    with pytest.raises(SelectionError, match="衡阳县薄弱小学（评为“不合格”"):
        approval.selection_approve(application=weak, scope=admin.scope, actor=admin.actor)
    decision = approval.selection_approve(application=near, scope=admin.scope, actor=admin.actor)
    assert decision.grade_name == "合格"


def earlier_rounds(tmp_path):
    """One place used by 衡阳县 in 2029 counts: its second school this year is refused,
    naming the earlier round's unit."""
    first = load_text(
        EXAMPLE.replace(
            'code = "example-smart-classroom"', 'code = "example-smart-classroom-2029"'
        ).replace('title = "衡阳市智慧课堂试点"', 'title = "衡阳市智慧课堂试点（2029年）"'),
        "2029.toml",
        today=EXAMPLE_TODAY,
    )
    recommend(reviewer("衡阳县"), apply(first, name="衡阳县首轮小学"))
    p = load('"Two per county over this round and the last"')
    a, b = apply(p), apply(p)
    county = reviewer("衡阳县")
    recommend(county, a)
    with pytest.raises(ReviewError) as exc:
        recommend(county, b)
    assert "共 2 个，已全部占用" in exc.value.message and "衡阳县首轮小学" in exc.value.message


# -- the table ----------------------------------------------------------------------------

Ref = tuple[str, ...]  # "tests/path.py::test_name", each a test that breaks the construct

BREAKS: dict[str, Callable | Ref] = {
    'Cascading windows: "the county has 5 days after the cut-off, the city the 5 days after that"': cascading_windows,
    '"公示期为5个工作日": windows and the 公示 in working days': (
        # working-day windows here; the 公示 in working days and min_scores with their own files:
        "tests/selection/test_workday_announcement.py::test_five_working_days_end_after_the_holiday_and_later_objections_are_refused",
        "tests/selection/test_min_scores.py::test_approval_waits_for_the_panels_minimum_and_names_who_is_short",
    ),
    "An expert panel between two bureau levels, then a centre's re-review": panel_then_centre,
    "Two offices of the same city, in turn": two_offices,
    "Two bureaus issue the notice and review together": joint_review,
    "A county's own selection under the city's call": county_round,
    "A reviewer may pass on or stop, but not send back": no_send_back,
    'Monthly reports "by the 25th", and awards instead of subsidies for the excellent ones': (
        "tests/pilots/test_reports.py::test_reminders_before_due_and_escalation_after_each_once",
        "tests/pilots/test_honours.py::test_awards_by_grade_within_budget",
        "tests/pilots/test_awards_pg.py::test_concurrent_grants_never_exceed_the_budget",
    ),
    'Quarterly reports within ten working days, and a grade that means "rectify first"': (
        "tests/pilots/test_acceptance.py::test_rectify_returns_the_submission",
        "tests/pilots/test_acceptance.py::test_fail_closes_visibly",
    ),
    "\"The development zone's schools apply through the district that hosts it\"": fold,
    "The notice's full text and its attachments on the public page": notice_files,
    '"At least 10 photos of classroom use, and the plan in Word or PowerPoint"': photos,
    '"3 per county", or "12 for each central district, 10 for each outer one"': each_quota,
    '"At least one rural school, at most two campuses of one group; recommend 3, confirm 2"': (
        "tests/programmes/test_set_rules_file.py::test_the_cookbook_recipes_hold_when_loaded_and_tried",
        "tests/review/test_set_rules.py::test_a_recommendation_that_leaves_no_room_for_a_rural_school_is_refused",
        "tests/review/test_set_rules.py::test_the_province_confirms_at_most_two_of_three_and_keeps_a_rural_one",
    ),
    '"Provincial demonstration schools are admitted outside the quota and ranked first"': titles,
    '"Every topic has at least one school from each district"': covers,
    "Star grades by score band, with a gate on the top grade": star_grades,
    '"Two per county over this round and the last": a quota over two rounds': earlier_rounds,
    "Schools score themselves when they apply; below the bar, no certification": (
        "tests/certification/test_self_assessment.py::test_a_school_without_a_self_assessment_is_not_certified",
        "tests/certification/test_self_assessment.py::test_a_school_below_its_gate_is_not_certified_however_good_its_data",
    ),
    "An acceptance item that must reach a minimum, whatever the total": (
        "tests/pilots/test_acceptance_veto.py::test_a_unit_below_a_veto_item_gets_no_passing_grade",
        "tests/pilots/test_acceptance_veto.py::test_the_cookbook_recipe_loads_and_refuses_a_minimum_above_the_maximum",
    ),
}  # fmt: skip

# Recipes appended by branches merged after this one, whose break tests they bring: the
# lead moves each into BREAKS at the merge. Nothing else may skip a break.
PENDING: frozenset[str] = frozenset()


def test_every_recipe_has_a_break():
    headings = [h for h, _ in RECIPES]
    missing = [h for h in headings if h not in BREAKS and h not in PENDING]
    assert not missing, f"recipes with no break test in BREAKS: {missing}"
    stale = [h for h in (*BREAKS, *PENDING) if h not in headings]
    assert not stale, f"BREAKS or PENDING name no recipe of the cookbook: {stale}"


def test_every_recipe_is_in_both_languages_and_in_the_contents():
    """English, then a ``中文：`` paragraph before the toml; and a row of the contents."""
    text = COOKBOOK.read_text(encoding="utf-8")
    contents = text[text.index("## Contents / 目录") : text.index("\n## ", text.index("| Pattern"))]
    sections = re.split(r"(?m)^## ", text)[1:]
    headings = [sec.split("\n", 1)[0] for sec in sections]
    assert headings[0] == "Contents / 目录" and headings[1:] == [h for h, _ in RECIPES]
    for heading, sec in zip(headings[1:], sections[1:], strict=True):
        if heading in PENDING:
            continue
        before_toml = sec[: sec.index("```toml")]
        assert re.search(r"(?m)^中文：\S", before_toml), f"{heading}: no 中文 paragraph"
        assert heading.split(":")[0][:25] in contents, f"{heading}: not in the contents"


def test_the_referenced_break_tests_exist():
    for heading, refs in BREAKS.items():
        if callable(refs):
            continue
        assert refs, heading
        for ref in refs:
            path, name = ref.split("::")
            module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
            assert callable(getattr(module, name, None)), f"{heading}: {ref} is not a test"


@pytest.fixture
def units(seeded):
    hengyang_units()


@pytest.mark.parametrize(
    "heading", [h for h, b in BREAKS.items() if callable(b)], ids=lambda h: h[:30]
)
def test_the_recipe_holds_when_broken(units, tmp_path, heading):
    BREAKS[heading](tmp_path)
