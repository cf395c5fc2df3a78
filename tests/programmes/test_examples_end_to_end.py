"""The invented programmes of ``programmes/examples/`` run end to end, as the people would:

each file validates against the org tree (``edupilot programme validate``) and loads; schools
apply with real files of the kinds the form takes (photos, Word, Excel, PowerPoint, scans);
every stage acts in turn (county and city reviews within the quotas, the expert panel, a
centre's re-review, a joint review where each department records its opinion); the issuer
approves and publishes the 公示, which the public sees; after the objection period the final
list makes pilots where the file has a pilot period, or the city's recommendations in the
province's call where the file is a city round.

Each file combines several patterns, old and new (issue 10), and each test makes every rule
bite once: 洛阳 is a city round (``parent``) of an invented 河南 call issued with the finance
department (co-issuer, a joint review), with a quota per city by class and a coverage rule at
the province; the round itself has a percent quota, a title admitted outside it and ranked
first, a panel between two levels, a centre's re-review and grades by score band with a gate.
宁波 has notice files, an apportioned quota with set rules (at least one rural school, one
campus per school group, recommend 3 confirm 2), Excel evidence and a pilot period. 泉州 has a
fold, a quota table with its 市直 bucket, reviewers who may not send back, a priority title
inside the quota, named grades with a gate, and a PowerPoint.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from edupilot.applications import services as app_services
from edupilot.applications.models import Application, AppState
from edupilot.documents.announcements import announcement_context
from edupilot.orgs.models import Locality, Org, OrgKind, Role
from edupilot.pilots.models import Pilot
from edupilot.programmes.models import ParticipantEntry, ParticipantList, Programme
from edupilot.review import services as review
from edupilot.review.models import JointOpinion
from edupilot.review.services import ReviewDenied, ReviewError
from edupilot.selection import announcements, approval, experts, scoring
from edupilot.selection.errors import SelectionError
from edupilot.selection.models import AnnouncementEntry, ApprovalDecision, ExpertAssignment
from edupilot.selection.selectors import public_announcement
from tests.applications.conftest import Who
from tests.conftest import make_school, org
from tests.evidence import exe_bytes
from tests.review.conftest import submit_as, valid_post

EXAMPLES = Path(__file__).resolve().parents[2] / "programmes" / "examples"
NEW = (
    "henan-ai-education-labs.toml",  # 洛阳's round is under it: loaded first
    "luoyang-ai-education-labs.toml",
    "ningbo-smart-campus-cultivation.toml",
    "quanzhou-labour-education-bases.toml",
)


@pytest.fixture
def centre(seeded) -> Org:
    """The units the 河南 and 洛阳 notices name, as the bureaus add them (机构 page): 洛阳's
    centre that re-reviews, and the province's finance department that reviews jointly."""
    Org.objects.create(
        code="410000-czt", name="河南省财政厅", kind=OrgKind.UNIT, parent=org("410000")
    )
    return Org.objects.create(
        code="410300-djg", name="洛阳市电化教育馆", kind=OrgKind.UNIT, parent=org("410300")
    )


def load(filename: str) -> Programme:
    call_command("programme", "load", str(EXAMPLES / filename), "--open-now", verbosity=0)
    return Programme.objects.get(source_name=filename)


def school(parent: str, name: str, **attrs) -> Who:
    attrs.setdefault("stages", ",primary,")
    attrs.setdefault("locality", Locality.URBAN)
    return Who(make_school(org(parent), name, **attrs))


def panel(programme: Programme, admin: Who, city: str, n: int) -> list[Who]:
    """``n`` experts from another city (no conflict with the applicants), in the pool."""
    people = [Who(org(city), Role.EXPERT, username=f"{programme.code[:8]}-x{i}") for i in range(n)]
    for e in people:
        experts.expert_pool_add(
            programme=programme, membership=e.membership, scope=admin.scope, actor=admin.actor
        )
    return people


def score_all(app: Application, people: list[Who], points: dict[str, str]) -> None:
    for e in people:
        a = ExpertAssignment.objects.filter(application=app, expert=e.user, is_active=True).first()
        if a is None:
            continue
        scoring.expert_scores_save(
            assignment=a, scores=points, comment="材料齐全，特色明显。", submit=True,
            scope=e.scope, actor=e.actor,
        )  # fmt: skip
        app.refresh_from_db()


def recommend(app: Application, opinion: str = "同意推荐") -> Application:
    """The reviewer of the application's current step recommends it."""
    who = Who(Org.objects.get(pk=app.current_org_id), Role.REVIEWER)
    review.review_recommend(application=app, scope=who.scope, actor=who.actor, opinion=opinion)
    app.refresh_from_db()
    return app


def publish_and_check_public(client, programme: Programme, admin: Who, names: list[str]):
    ann = announcements.announcement_publish(
        programme=programme, scope=admin.scope, actor=admin.actor
    )
    client.logout()
    listing = client.get(reverse("selection_public:list")).content.decode()
    assert ann.title in listing
    body = client.get(reverse("selection_public:detail", args=[ann.pk])).content.decode()
    for name in names:
        assert name in body
    return ann


def test_the_examples_validate_against_the_org_tree(centre):
    load("henan-ai-education-labs.toml")  # a round is validated against its loaded parent
    out, err = io.StringIO(), io.StringIO()
    call_command("programme", "validate", *[str(EXAMPLES / f) for f in NEW], stdout=out, stderr=err)
    assert err.getvalue() == ""
    assert out.getvalue().count(": OK (") == 4


def test_luoyang_round_under_henan_joint_review_titles_grades_coverage(client, centre):
    province = load("henan-ai-education-labs.toml")
    programme = load("luoyang-ai-education-labs.toml")  # the round inherits the form
    assert programme.parsed.forms["school"].title == province.parsed.forms["school"].title
    admin = Who(org("410300"), Role.PROGRAMME_ADMIN, username="ly_admin")
    county = "410323"  # 新安县: percent quota over its schools, at least 1
    a = school(county, "新安县人工智能实验第一小学")
    c = school(county, "新安县人工智能实验第三小学")
    featured = school(county, "新安县人工智能特色小学")
    weak = school("410327", "宜阳县人工智能实验小学")  # 宜阳县
    private = school(county, "新安县民办育才学校", ownership="private")
    ParticipantEntry.objects.create(
        plist=ParticipantList.objects.get(code="henan_ai_featured_schools"),
        org=featured.org,
    )

    # Eligibility (the province's, inherited): a private school may not start.
    with pytest.raises(app_services.ApplicationError, match="只面向公办学校"):
        app_services.application_start(
            programme=programme, category_code="school", scope=private.scope,
            actor=private.actor,
        )  # fmt: skip
    # A submission rule: fewer than two AI teachers is refused, with the notice's words.
    with pytest.raises(app_services.ApplicationError, match="不少于2人"):
        submit_as(c, programme, "school", ai_teachers="1", topic="ai_course")
    app = submit_as(a, programme, "school", ai_teachers="3", topic="ai_course")
    kinds = {x["content_type"] for x in app.versions.get().attachments}
    assert {"image/jpeg", "application/pdf"} <= kinds
    assert "application/vnd.openxmlformats-officedocument.wordprocessingml.document" in kinds
    assert [(s["kind"], s["org_name"]) for s in app.chain] == [
        ("tier_review", "新安县"),
        ("expert_scoring", "洛阳市"),
        ("org_review", "洛阳市电化教育馆"),
        ("approval", "洛阳市"),
    ]
    # … and the school corrects the number and submits, its files kept.
    third = Application.objects.get(programme=programme, applicant_org=c.org)
    app_services.application_save_draft(
        application=third,
        post=valid_post(programme, "school", ai_teachers="2", topic="ai_course"),
        scope=c.scope,
        actor=c.actor,
    )
    app_services.application_submit(application=third, scope=c.scope, actor=c.actor)
    third.refresh_from_db()
    feat = submit_as(featured, programme, "school", ai_teachers="4", topic="ai_teaching")
    low = submit_as(weak, programme, "school", ai_teachers="2", topic="ai_teaching")

    # The centre cannot act first; the county recommends within its percent quota (1 place):
    # a second school is refused, the title holder goes outside it and ranks first.
    centre_rev = Who(centre, Role.REVIEWER)
    with pytest.raises(ReviewDenied):
        review.review_recommend(
            application=app, scope=centre_rev.scope, actor=centre_rev.actor, opinion="同意"
        )
    recommend(app)
    assert (app.state, app.current_step) == (AppState.SUBMITTED, 1)
    with pytest.raises(ReviewError, match="名额"):
        recommend(third)
    recommend(feat, "省级人工智能教育特色学校，直接推荐")
    decisions = review.level_recommendations(review._level_key(app, 0))
    held = {d.application_id: (d.rank, d.quota_holder_id) for d in decisions}
    assert held == {feat.pk: (1, None), app.pk: (2, org(county).pk)}
    recommend(low)

    # The panel: three experts from 泉州, two scores move each bid on by itself.
    people = panel(programme, admin, "350500", 3)
    experts.experts_auto_assign(programme=programme, scope=admin.scope, actor=admin.actor)
    score_all(app, people[:2], {"basis": "27", "plan": "45", "support": "17"})  # 89: 优秀
    score_all(feat, people[:2], {"basis": "18", "plan": "48", "support": "20"})  # 86, basis < 20
    score_all(low, people[:2], {"basis": "15", "plan": "25", "support": "10"})  # 50: 不合格
    assert (app.current_step, app.current_org_id) == (2, centre.pk)
    for x in (app, feat, low):
        recommend(x, "复核通过")

    # The city decides: a bid below every passing grade is refused, naming it; the grade
    # is fixed on each decision (the gate keeps 86 points with a weak basis from 优秀).
    with pytest.raises(SelectionError, match="宜阳县人工智能实验小学（评为“不合格”"):
        approval.selection_approve(application=low, scope=admin.scope, actor=admin.actor)
    approval.selection_decide(
        applications=[app, feat], outcome="approve", opinion="同意推荐至省",
        scope=admin.scope, actor=admin.actor,
    )  # fmt: skip
    approval.selection_reject(
        application=low, reason="评审得分未达合格", scope=admin.scope, actor=admin.actor
    )
    grades = dict(
        ApprovalDecision.objects.filter(application__programme=programme).values_list(
            "application__applicant_org__name", "grade_name"
        )
    )
    assert grades == {
        "新安县人工智能实验第一小学": "优秀",
        "新安县人工智能特色小学": "良好",
        "宜阳县人工智能实验小学": "",
    }
    ann = publish_and_check_public(
        client, programme, admin, ["新安县人工智能实验第一小学", "评审等级", "优秀", "良好"]
    )
    # 公示 5 working days: from the day after publication, never shorter than 7 calendar days.
    assert ann.objection_until - ann.published_at >= dt.timedelta(days=6)
    pdf = announcement_context(
        public_announcement(ann.pk)
    )  # the 公示 PDF's rows carry the grade as well
    assert pdf["show_grade"] and {e.grade_name for e in pdf["entries"]} == {"优秀", "良好"}
    assert not Application.objects.filter(programme=province).exists(), "not before the list"

    # The final list: the two confirmed units become 洛阳市's recommendations in the
    # province's call, within its 3 places (郑州、洛阳 class), waiting at the joint review.
    announcements.announcement_close(
        announcement=ann, scope=admin.scope, actor=admin.actor,
        now=ann.objection_until + dt.timedelta(minutes=5),
    )  # fmt: skip
    by_unit = {s.applicant_org_id: s for s in Application.objects.filter(programme=province)}
    assert set(by_unit) == {featured.org.pk, a.org.pk}
    sent = [by_unit[a.org.pk], by_unit[featured.org.pk]]
    for s in sent:
        assert (s.state, s.current_step) == (AppState.SUBMITTED, 1)
        assert [(x["kind"], x["org_name"]) for x in s.chain] == [
            ("tier_review", "洛阳市"),
            ("joint_review", "河南省"),
            ("approval", "河南省"),
        ]
    (bucket,) = review.quota_buckets(sent[0], 0)
    assert (
        review.quota_state(sent[0], *bucket).used,
        review.quota_state(sent[0], *bucket).limit,
    ) == (
        2,
        3,
    )

    # Coverage at the province: 开封市 (2 places) may not spend both on one direction.
    k1 = submit_as(school("410202", "开封市龙亭区人工智能实验小学"), province, "school",
                   ai_teachers="2", topic="ai_course")  # fmt: skip
    k2 = submit_as(school("410202", "开封市龙亭区第二实验小学"), province, "school",
                   ai_teachers="2", topic="ai_course")  # fmt: skip
    recommend(k1)
    with pytest.raises(ReviewError) as refused:
        recommend(k2)
    assert "须覆盖人工智能课程建设、人工智能辅助教学两个方向" in refused.value.message
    assert "人工智能辅助教学" in refused.value.message.split("两个方向。", 1)[1]

    # The joint review: each department records its opinion; one agreement is not enough.
    edu, fin = Who(org("410000"), Role.REVIEWER), Who(org("河南省财政厅"), Role.REVIEWER)
    first, second = sent
    recommend_as(first, edu, "符合省级实验校条件，同意")
    first.refresh_from_db()
    assert (first.state, first.current_step) == (AppState.SUBMITTED, 1), "the finance's is due"
    opinions = dict(
        JointOpinion.objects.filter(application=first).values_list("org__name", "verdict")
    )
    assert opinions == {"河南省": "agree", "河南省财政厅": ""}
    recommend_as(first, fin, "经费保障可行，同意")
    recommend_as(second, fin, "经费保障可行，同意")
    recommend_as(second, edu, "同意")
    for s in sent:
        s.refresh_from_db()
        assert (s.state, s.current_step) == (AppState.RECOMMENDED, 2)

    # The province decides and publishes; both issuers are named on the public page.
    henan = Who(org("410000"), Role.PROGRAMME_ADMIN, username="ha_admin")
    approval.selection_decide(
        applications=sent, outcome="approve", opinion="同意认定", scope=henan.scope,
        actor=henan.actor,
    )  # fmt: skip
    publish_and_check_public(
        client, province, henan,
        ["河南省教育厅", "河南省财政厅", "新安县人工智能实验第一小学", "新安县人工智能特色小学"],
    )  # fmt: skip


def recommend_as(app: Application, who: Who, opinion: str) -> None:
    review.review_recommend(application=app, scope=who.scope, actor=who.actor, opinion=opinion)


def test_ningbo_notice_files_apportioned_quota_set_rules_and_pilot_period(client, seeded):
    # 鄞州区's schools are in the tree when the notice is loaded: the apportioned quota
    # (12 over ten counties, at least 1 each) gives it the two places left over, 3 in all.
    yinzhou = org("330212")
    group = Org.objects.create(
        code="330212-G1", name="鄞州区实验教育集团", kind=OrgKind.GROUP, parent=yinzhou
    )
    a = school("330212", "鄞州区智慧校园培育学校", stages=",junior,", group=group)
    campus = school("330212", "鄞州区实验学校西校区", stages=",junior,", group=group)
    urban = school("330212", "鄞州区第二实验中学", stages=",junior,")
    urban2 = school("330212", "鄞州区第三实验中学", stages=",junior,")
    rural = school("330212", "鄞州区塘溪镇中心小学", locality=Locality.RURAL)
    programme = load("ningbo-smart-campus-cultivation.toml")
    admin = Who(org("330200"), Role.PROGRAMME_ADMIN, username="nb_admin")

    # The notice as issued, on the public page, with its Word and Excel attachments.
    page = client.get(f"/public/calls/{programme.code}/").content.decode()
    assert "智慧校园示范校培育工作" in page and "附件1：各区（县、市）培育名额分配表" in page

    app = app_services.application_start(
        programme=programme, category_code="school", scope=a.scope, actor=a.actor
    )
    app_services.application_save_draft(
        application=app,
        post=valid_post(programme, "school", bandwidth_mbps="1000", scenes=["teaching", "management"]),
        scope=a.scope,
        actor=a.actor,
    )  # fmt: skip
    # The applicant's evidence: an Excel data sheet, photos, the form in Word; a program
    # renamed .xlsx is refused and nothing of it is kept.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.evidence import sample_upload

    with pytest.raises(app_services.ApplicationError, match="文件类型不在本栏目允许的范围内"):
        app_services.application_attach(
            application=app, field_key="data_sheet",
            upload=SimpleUploadedFile("数据表.xlsx", exe_bytes()), scope=a.scope, actor=a.actor,
        )  # fmt: skip
    for key, kind, seeds in (
        ("data_sheet", "xlsx", [1]),
        ("scene_photos", "png", [1]),
        ("application_form", "docx", [1]),
    ):
        for s in seeds:
            app_services.application_attach(
                application=app, field_key=key, upload=sample_upload(kind, s),
                scope=a.scope, actor=a.actor,
            )  # fmt: skip
    app.refresh_from_db()
    # One photo of the two needed: refused, saying what is missing; the upload stays.
    with pytest.raises(app_services.ApplicationError) as exc:
        app_services.application_submit(application=app, scope=a.scope, actor=a.actor)
    assert "至少需要 2 个文件，现有 1 个" in exc.value.errors["scene_photos"][0]
    app_services.application_attach(
        application=app, field_key="scene_photos", upload=sample_upload("jpg", 2),
        scope=a.scope, actor=a.actor,
    )  # fmt: skip
    app.refresh_from_db()
    app_services.application_submit(application=app, scope=a.scope, actor=a.actor)
    app.refresh_from_db()
    assert [s["org_name"] for s in app.chain] == ["鄞州区", "宁波市"]

    bids = {
        who: submit_as(who, programme, "school", bandwidth_mbps="1000")
        for who in (campus, urban, urban2, rural)
    }

    # The county recommends within its apportioned places; the city's level is the
    # issuer's own, the last: the bid waits there for the decision.
    recommend(app)
    assert (app.state, app.current_step) == (AppState.RECOMMENDED, 1)
    (bucket,) = review.quota_buckets(app, 0)
    assert review.quota_state(app, *bucket).limit == 3
    # One campus per school group: the group's second campus is refused, naming both.
    with pytest.raises(ReviewError) as refused:
        recommend(bids[campus])
    assert "同一教育集团只推荐 1 个校区" in refused.value.message
    assert "鄞州区实验学校西校区" in refused.value.message
    # At least one rural school: with one place left, only a rural school may take it.
    recommend(bids[urban])
    with pytest.raises(ReviewError, match="至少有 1 所农村学校"):
        recommend(bids[urban2])
    recommend(bids[rural])
    confirmed = [app, bids[rural], bids[urban]]

    # The issuer's panel before approval: approval waits for two scores.
    people = panel(programme, admin, "410300", 2)
    experts.experts_auto_assign(programme=programme, scope=admin.scope, actor=admin.actor)
    for x in confirmed:
        score_all(x, people, {"basis": "35", "scenes": "33", "support": "17"})
    for x in confirmed[:2]:
        approval.selection_approve(
            application=x, opinion="同意入选培育", scope=admin.scope, actor=admin.actor
        )
    # Recommend 3, confirm 2: the third approval is refused; a rejection never is.
    with pytest.raises(SelectionError, match="三分之二"):
        approval.selection_approve(application=bids[urban], scope=admin.scope, actor=admin.actor)
    approval.selection_reject(
        application=bids[urban], reason="超出确认比例", scope=admin.scope, actor=admin.actor
    )
    ann = publish_and_check_public(
        client, programme, admin, ["鄞州区智慧校园培育学校", "鄞州区塘溪镇中心小学"]
    )

    # After the 公示 (5 working days) the final list: the school becomes a pilot, with its
    # plan stage supervised by the county.
    announcements.announcement_close(
        announcement=ann, scope=admin.scope, actor=admin.actor,
        now=ann.objection_until + dt.timedelta(minutes=5),
    )  # fmt: skip
    app.refresh_from_db()
    assert app.state == AppState.PILOT
    pilot = Pilot.objects.get(application=app)
    assert [s.key for s in pilot.spec.pipeline] == ["plan", "quarterly", "acceptance"]


def test_quanzhou_fold_direct_bucket_no_return_priority_title_and_grades(client, seeded):
    programme = load("quanzhou-labour-education-bases.toml")
    city = org("350500")
    admin = Who(city, Role.PROGRAMME_ADMIN, username="qz_admin")
    zone = school("350500-KFQ", "泉州开发区劳动教育实验小学")
    direct = school("350500", "泉州市直属劳动教育实验学校", stages=",junior,")
    fengze = school("350503", "丰泽区劳动教育第一小学")
    fengze2 = school("350503", "丰泽区劳动教育第二小学")
    farming = {"topic": "farming", "base_area": "300", "weekly_hours": "2"}
    ParticipantEntry.objects.create(
        plist=ParticipantList.objects.get(code="fujian_labour_bases"),
        org=fengze.org,
    )

    # The zone's school queues at 丰泽区 (the fold), the 市直 school at the city twice.
    zone_app = submit_as(zone, programme, "school", **farming)
    assert [s["org_name"] for s in zone_app.chain] == ["丰泽区", "泉州市"]
    direct_app = submit_as(direct, programme, "school", **farming)
    assert [s["org_name"] for s in direct_app.chain] == ["泉州市", "泉州市"]
    # A rule that depends on the topic: a farming base under 200 m² is refused.
    with pytest.raises(app_services.ApplicationError, match="不少于 200 平方米"):
        submit_as(fengze2, programme, "school", topic="farming", base_area="120", weekly_hours="2")
    f_app = submit_as(fengze, programme, "school", topic="maker", base_area="80", weekly_hours="1")

    # 丰泽区 may not send a bid back (the file's actions), and its two places take the
    # zone's school and its own; a third would not fit.
    fz = Who(org("350503"), Role.REVIEWER)
    with pytest.raises(ReviewError, match="按项目通知不能退回修改"):
        review.review_return(
            application=zone_app, scope=fz.scope, actor=fz.actor, reasons="请补充材料"
        )
    # … and its page, built from the same predicate, offers no return form.
    client.force_login(fz.user)
    page = client.get(reverse("review:detail", args=[zone_app.pk])).content.decode()
    assert reverse("review:not_recommend", args=[zone_app.pk]) in page
    assert reverse("review:return", args=[zone_app.pk]) not in page
    # The title holder's page says what its title does; recommended second, it ranks first
    # and still spends one of the two places (inside the quota).
    page = client.get(reverse("review:detail", args=[f_app.pk])).content.decode()
    assert "省级中小学劳动教育实践基地" in page
    recommend(zone_app)
    recommend(f_app)
    level = review.level_recommendations(review._level_key(zone_app, 0))
    held = {d.application_id: (d.rank, d.quota_holder_id) for d in level}
    fz_pk = org("350503").pk
    assert held == {f_app.pk: (1, fz_pk), zone_app.pk: (2, fz_pk)}
    third = submit_as(school("350503", "丰泽区劳动教育第三小学"), programme, "school", **farming)
    with pytest.raises(ReviewError, match="名额"):
        recommend(third)

    # The city recommends the 市直 school in the counties' place (its direct bucket); its own
    # level is the last, the issuer's: every bid now waits for the decision.
    recommend(direct_app)
    assert {a.state for a in (zone_app, f_app, direct_app)} == {AppState.RECOMMENDED}
    assert all(a.current_step == 1 for a in (zone_app, f_app, direct_app))

    people = panel(programme, admin, "430400", 3)
    experts.experts_auto_assign(programme=programme, scope=admin.scope, actor=admin.actor)
    score_all(zone_app, people, {"site": "28", "course": "36", "digital": "27"})  # 91
    score_all(f_app, people, {"site": "22", "course": "38", "digital": "28"})  # 88, site < 24
    score_all(direct_app, people, {"site": "15", "course": "20", "digital": "15"})  # 50
    # Named levels: 不予命名 cannot be approved, and the whole decision is refused with it.
    with pytest.raises(SelectionError, match="泉州市直属劳动教育实验学校（评为“不予命名”"):
        approval.selection_decide(
            applications=[zone_app, f_app, direct_app], outcome="approve", opinion="同意命名",
            scope=admin.scope, actor=admin.actor,
        )  # fmt: skip
    approval.selection_decide(
        applications=[zone_app, f_app], outcome="approve", opinion="同意命名",
        scope=admin.scope, actor=admin.actor,
    )  # fmt: skip
    approval.selection_reject(
        application=direct_app, reason="评审得分不足 60 分", scope=admin.scope, actor=admin.actor
    )
    publish_and_check_public(
        client, programme, admin,
        ["泉州开发区劳动教育实验小学", "丰泽区劳动教育第一小学", "示范基地校", "基地校"],
    )  # fmt: skip
    listed = dict(
        AnnouncementEntry.objects.filter(announcement__programme=programme).values_list(
            "unit_name", "grade_name"
        )
    )
    # The gate: 88 points, but 场地与设施 short of 24, is 基地校, not 示范基地校.
    assert listed == {
        "泉州开发区劳动教育实验小学": "示范基地校",
        "丰泽区劳动教育第一小学": "基地校",
    }
    direct_app.refresh_from_db()
    assert direct_app.state == AppState.REJECTED


def test_programme_show_lists_each_examples_evidence(centre):
    for filename in NEW:
        load(filename)
    out = io.StringIO()
    call_command("programme", "show", "quanzhou-labour-education-bases", stdout=out)
    text = out.getvalue()
    assert "归口：泉州开发区 按 丰泽区 申报" in text
    assert "材料：劳动实践活动照片（不少于4张）（photos）JPG、PNG，每个 ≤10 MB，4–10 个" in text
    assert "材料：基地介绍（PPT，可选）（slides）PPTX，每个 ≤50 MB，0–1 个" in text
    assert "称号：省级中小学劳动教育实践基地（名单 fujian_labour_bases）" in text
    # The round says where its list goes; the province names both issuers and its rules.
    out = io.StringIO()
    call_command("programme", "show", "luoyang-ai-education-labs", stdout=out)
    text = out.getvalue()
    assert "上级项目：henan-ai-education-labs" in text
    out = io.StringIO()
    call_command("programme", "show", "henan-ai-education-labs", stdout=out)
    text = out.getvalue()
    assert "河南省财政厅" in text and "下级评选：" in text
    assert "联合审核：2 个单位全部同意后通过" in text
