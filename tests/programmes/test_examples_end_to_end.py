"""The invented programmes of ``programmes/examples/`` run end to end, as the people would:

each file validates against the org tree (``edupilot programme validate``) and loads; schools
apply with real files of the kinds the form takes (photos, Word, Excel, PowerPoint, scans);
every stage acts in turn (county and city reviews within the quotas, the expert panel, a
centre's re-review); the issuer approves and publishes the 公示, which the public sees; after
the objection period the final list makes pilots where the file has a pilot period.

Each file combines several patterns: a percent quota, working-day windows, a panel between two
levels and a centre's re-review (洛阳); notice files, an apportioned quota, two tier reviews,
the issuer's panel before approval, evidence in Excel and a pilot period (宁波); a fold, a
quota table with its 市直 bucket, reviewers who may not send back, and a PowerPoint (泉州).
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
from edupilot.orgs.models import Locality, Org, OrgKind, Role
from edupilot.pilots.models import Pilot
from edupilot.programmes.models import Programme
from edupilot.review import services as review
from edupilot.review.services import ReviewDenied, ReviewError
from edupilot.selection import announcements, approval, experts, scoring
from edupilot.selection.models import ExpertAssignment
from tests.applications.conftest import Who
from tests.conftest import make_school, org
from tests.evidence import exe_bytes
from tests.review.conftest import submit_as, valid_post

EXAMPLES = Path(__file__).resolve().parents[2] / "programmes" / "examples"
NEW = (
    "luoyang-ai-education-labs.toml",
    "ningbo-smart-campus-cultivation.toml",
    "quanzhou-labour-education-bases.toml",
)


@pytest.fixture
def centre(seeded) -> Org:
    """The unit 洛阳's notice names for its re-review, as the bureau adds it (机构 page)."""
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
    out, err = io.StringIO(), io.StringIO()
    call_command("programme", "validate", *[str(EXAMPLES / f) for f in NEW], stdout=out, stderr=err)
    assert err.getvalue() == ""
    assert out.getvalue().count(": OK (") == 3


def test_luoyang_percent_quota_panel_between_levels_and_centre(client, centre):
    programme = load("luoyang-ai-education-labs.toml")
    city = org("410300")
    admin = Who(city, Role.PROGRAMME_ADMIN, username="ly_admin")
    county = "410323"  # 新安县: percent quota over its schools, at least 1
    a = school(county, "新安县人工智能实验第一小学")
    b = school(county, "新安县人工智能实验第二小学")
    private = school(county, "新安县民办育才学校", ownership="private")

    # Eligibility: a private school may not start.
    with pytest.raises(app_services.ApplicationError, match="只面向公办学校"):
        app_services.application_start(
            programme=programme, category_code="school", scope=private.scope,
            actor=private.actor,
        )  # fmt: skip

    # A submission rule: fewer than two AI teachers is refused, with the notice's words.
    with pytest.raises(app_services.ApplicationError, match="不少于2人"):
        submit_as(b, programme, "school", ai_teachers="1")
    app = submit_as(a, programme, "school", ai_teachers="3")
    kinds = {x["content_type"] for x in app.versions.get().attachments}
    assert {"image/jpeg", "application/pdf"} <= kinds
    assert "application/vnd.openxmlformats-officedocument.wordprocessingml.document" in kinds
    assert [(s["kind"], s["org_name"]) for s in app.chain] == [
        ("tier_review", "新安县"),
        ("expert_scoring", "洛阳市"),
        ("org_review", "洛阳市电化教育馆"),
        ("approval", "洛阳市"),
    ]

    # The centre cannot act first; the county recommends within its percent quota.
    centre_rev = Who(centre, Role.REVIEWER)
    with pytest.raises(ReviewDenied):
        review.review_recommend(
            application=app, scope=centre_rev.scope, actor=centre_rev.actor, opinion="同意"
        )
    recommend(app)
    assert (app.state, app.current_step) == (AppState.SUBMITTED, 1)

    # The panel: three experts from 泉州, two scores move it on by themselves.
    people = panel(programme, admin, "350500", 3)
    experts.experts_auto_assign(programme=programme, scope=admin.scope, actor=admin.actor)
    score_all(app, people[:2], {"basis": "25", "plan": "42", "support": "16"})
    assert (app.current_step, app.current_org_id) == (2, centre.pk)

    recommend(app, "复核通过")
    assert app.state == AppState.RECOMMENDED
    approval.selection_approve(
        application=app, opinion="同意认定", scope=admin.scope, actor=admin.actor
    )
    ann = publish_and_check_public(client, programme, admin, ["新安县人工智能实验第一小学"])
    app.refresh_from_db()
    assert app.state == AppState.APPROVED
    # 公示 5 working days: from the day after publication, never shorter than 7 calendar days.
    assert ann.objection_until - ann.published_at >= dt.timedelta(days=6)


def test_ningbo_notice_files_apportioned_quota_and_pilot_period(client, seeded):
    programme = load("ningbo-smart-campus-cultivation.toml")
    admin = Who(org("330200"), Role.PROGRAMME_ADMIN, username="nb_admin")

    # The notice as issued, on the public page, with its Word and Excel attachments.
    page = client.get(f"/public/calls/{programme.code}/").content.decode()
    assert "智慧校园示范校培育工作" in page and "附件1：各区（县、市）培育名额分配表" in page

    a = school("330212", "鄞州区智慧校园培育学校", stages=",junior,")
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

    # The county recommends within its apportioned places (at least 1); the city's level is
    # the issuer's own, the last: the bid waits there for the decision.
    recommend(app)
    assert (app.state, app.current_step) == (AppState.RECOMMENDED, 1)

    # The issuer's panel before approval: approval waits for two scores.
    people = panel(programme, admin, "410300", 2)
    experts.experts_auto_assign(programme=programme, scope=admin.scope, actor=admin.actor)
    score_all(app, people, {"basis": "35", "scenes": "33", "support": "17"})
    approval.selection_approve(
        application=app, opinion="同意入选培育", scope=admin.scope, actor=admin.actor
    )
    ann = publish_and_check_public(client, programme, admin, ["鄞州区智慧校园培育学校"])

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


def test_quanzhou_fold_direct_bucket_and_no_return(client, seeded):
    programme = load("quanzhou-labour-education-bases.toml")
    city = org("350500")
    admin = Who(city, Role.PROGRAMME_ADMIN, username="qz_admin")
    zone = school("350500-KFQ", "泉州开发区劳动教育实验小学")
    direct = school("350500", "泉州市直属劳动教育实验学校", stages=",junior,")
    fengze = school("350503", "丰泽区劳动教育第一小学")
    fengze2 = school("350503", "丰泽区劳动教育第二小学")
    farming = {"topic": "farming", "base_area": "300", "weekly_hours": "2"}

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
    recommend(zone_app)
    recommend(f_app)
    holder = review.level_recommendations(review._level_key(zone_app, 0)).get(application=zone_app)
    assert holder.quota_holder == org("350503")
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
    for app in (zone_app, f_app, direct_app):
        score_all(app, people, {"site": "25", "course": "33", "digital": "24"})
    approval.selection_decide(
        applications=[zone_app, direct_app], outcome="approve", opinion="同意命名",
        scope=admin.scope, actor=admin.actor,
    )  # fmt: skip
    approval.selection_reject(
        application=f_app, reason="场地条件不足", scope=admin.scope, actor=admin.actor
    )
    publish_and_check_public(
        client, programme, admin, ["泉州开发区劳动教育实验小学", "泉州市直属劳动教育实验学校"]
    )
    f_app.refresh_from_db()
    assert f_app.state == AppState.REJECTED


def test_programme_show_lists_each_examples_evidence(centre):
    for filename in NEW:
        load(filename)
    out = io.StringIO()
    call_command("programme", "show", "quanzhou-labour-education-bases", stdout=out)
    text = out.getvalue()
    assert "归口：泉州开发区 按 丰泽区 申报" in text
    assert "材料：劳动实践活动照片（不少于4张）（photos）JPG、PNG，每个 ≤10 MB，4–10 个" in text
    assert "材料：基地介绍（PPT，可选）（slides）PPTX，每个 ≤50 MB，0–1 个" in text
