"""The review chain's transitions, each through its service, with the refusals along the way."""

import datetime as dt

import pytest

from edupilot.applications import services as app_services
from edupilot.applications.models import Application, AppState
from edupilot.audit.models import AuditEvent
from edupilot.audit.services import audit_verify
from edupilot.orgs.models import Org, OrgKind, Role
from edupilot.review import queue as reviewer_queue
from edupilot.review import selectors, services
from edupilot.review.models import Deactivation, ReviewAction, ReviewDecision
from tests.applications.conftest import Who
from tests.conftest import org

from .conftest import reviewer, school_in, submit_as, valid_post


def recommend(who, app, opinion="同意推荐。", rank=None, now=None):
    return services.review_recommend(
        application=app, scope=who.scope, actor=who.actor, opinion=opinion, rank=rank, now=now
    )


def test_city_recommends_and_the_province_receives_it(henan, henan_school_app):
    app, _school = henan_school_app("郑州市金水区第一实验小学")
    city, province = reviewer("郑州市"), reviewer("河南省", Role.PROGRAMME_ADMIN)
    decision = recommend(city, app, "该校信息化基础好，同意推荐。")
    app.refresh_from_db()
    assert app.state == AppState.RECOMMENDED
    assert app.current_step == 1 and app.current_org == org("河南省")
    assert app.review_started_at is not None
    assert decision.rank == 1 and decision.active and decision.version == 1
    assert decision.quota_holder == org("郑州市") and decision.quota_level == "city"
    assert decision.decided_by == city.user and decision.opinion == "该校信息化基础好，同意推荐。"
    # The province's queue holds it now; the city's does not.
    assert [
        r["pk"]
        for r in reviewer_queue.review_queue(province.scope, reviewer_queue.QueueFilters()).rows
    ] == [app.pk]
    assert list(reviewer_queue.review_queue(city.scope, reviewer_queue.QueueFilters()).page) == []
    event = AuditEvent.objects.filter(action="review.recommend").get()
    assert event.after["rank"] == 1 and event.actor == city.user
    assert audit_verify().ok


def test_three_level_chain_passes_county_then_city(zhejiang):
    school = school_in(org("西湖区"), stages=",primary,")
    app = submit_as(school, zhejiang, "k12", unit_type="school")
    assert [s["org_name"] for s in app.chain] == ["西湖区", "杭州市", "浙江省"]
    county, city = reviewer("西湖区"), reviewer("杭州市")
    with pytest.raises(services.ReviewDenied, match="西湖区"):
        recommend(city, app)  # not yet at the city
    d1 = recommend(county, app)
    app.refresh_from_db()
    assert app.state == AppState.SUBMITTED and app.current_org == org("杭州市")
    assert d1.quota_holder is None  # Zhejiang sets no county quota
    # The city sees the county's rank beside each application.
    row = reviewer_queue.review_queue(city.scope, reviewer_queue.QueueFilters()).rows[0]
    assert (row["lower"], row["my_rank"]) == ("西湖区 第 1 名", "—")
    d2 = recommend(city, app)
    app.refresh_from_db()
    assert app.state == AppState.RECOMMENDED and app.current_step == 2
    assert d2.quota_holder == org("杭州市")
    view = reviewer_queue.review_queue(
        city.scope, reviewer_queue.QueueFilters(state=reviewer_queue.PASSED)
    )
    assert [(r["pk"], r["my_rank"]) for r in view.rows] == [(app.pk, 1)]


def test_single_step_chain_goes_straight_to_the_issuer(zhejiang):
    university = Who(
        Org.objects.create(
            code="T-ZJ-UNI-1", name="浙江示范大学", kind=OrgKind.UNIVERSITY, parent=org("浙江省")
        )
    )
    app = submit_as(university, zhejiang, "higher_ed", unit_type="higher_ed")
    assert len(app.chain) == 1
    assert app.state == AppState.RECOMMENDED and app.current_org == org("浙江省")
    assert AuditEvent.objects.filter(action="review.direct_to_issuer").count() == 1
    province = reviewer("浙江省")
    with pytest.raises(services.ReviewError, match="审定层级"):
        recommend(province, app)


def test_return_with_reasons_then_resubmission_restarts_and_shows_the_diff(henan, henan_school_app):
    app, school = henan_school_app()
    city, province = reviewer("郑州市"), reviewer("河南省")
    first = recommend(city, app)
    with pytest.raises(services.ReviewError, match="退回理由"):
        services.review_return(
            application=app, scope=province.scope, actor=province.actor, reasons="  "
        )
    services.review_return(
        application=app,
        scope=province.scope,
        actor=province.actor,
        reasons="保障条件写得过于笼统，请补充经费数额。",
    )
    app.refresh_from_db()
    first.refresh_from_db()
    assert app.state == AppState.RETURNED and app.current_step == 1 and app.current_org is None
    # The province returned it: the city's place is free again.
    assert not first.active and first.deactivated_reason == Deactivation.RETURNED_ABOVE
    # The applicant may edit until the returning level's deadline.
    assert app_services.edit_deadline(app) == henan.level_deadline("school", "province")
    app_services.application_save_draft(
        application=app,
        post=valid_post(henan, "school", guarantees="学校每年安排专项经费五十万元。" * 10),
        scope=school.scope,
        actor=school.actor,
    )
    app_services.application_submit(application=app, scope=school.scope, actor=school.actor)
    app.refresh_from_db()
    assert app.state == AppState.SUBMITTED and app.version == 2
    assert app.current_step == 0 and app.current_org == org("郑州市")
    assert not ReviewDecision.objects.filter(application=app, active=True).exists()
    returned = ReviewDecision.objects.get(application=app, action=ReviewAction.RETURN)
    assert returned.deactivated_reason == Deactivation.RESUBMITTED
    detail = selectors.review_detail(city.scope, app.pk)
    assert [d.version for d in detail.decisions] == [1, 1]
    assert detail.can[ReviewAction.RECOMMEND] == (True, "")
    second = recommend(city, app)
    assert second.version == 2 and second.rank == 1


def test_county_returns_at_its_own_level(zhejiang):
    school = school_in(org("西湖区"))
    app = submit_as(school, zhejiang, "k12", unit_type="school")
    county = reviewer("西湖区")
    services.review_return(
        application=app, scope=county.scope, actor=county.actor, reasons="缺盖章页"
    )
    app.refresh_from_db()
    assert app.state == AppState.RETURNED and app.current_step == 0
    assert app_services.edit_deadline(app) == zhejiang.level_deadline("k12", "county")


def test_not_recommend_is_final_and_needs_a_reason(henan, henan_school_app):
    app, _ = henan_school_app()
    city = reviewer("郑州市")
    with pytest.raises(services.ReviewError, match="不予推荐的理由"):
        services.review_not_recommend(
            application=app, scope=city.scope, actor=city.actor, reason=""
        )
    services.review_not_recommend(
        application=app, scope=city.scope, actor=city.actor, reason="网络条件不满足要求"
    )
    app.refresh_from_db()
    assert app.state == AppState.NOT_RECOMMENDED and app.current_org is None
    with pytest.raises(services.ReviewError, match="不在审核中"):
        recommend(city, app)
    d = ReviewDecision.objects.get(application=app)
    assert d.action == ReviewAction.NOT_RECOMMEND and d.reasons == "网络条件不满足要求"
    assert d.rank is None


def test_withdraw_a_recommendation_until_the_upper_level_acts(henan, henan_school_app):
    a1, _ = henan_school_app()
    a2, _ = henan_school_app()
    city, province = reviewer("郑州市"), reviewer("河南省")
    d1 = recommend(city, a1)
    d2 = recommend(city, a2)
    assert (d1.rank, d2.rank) == (1, 2)
    other_city = reviewer("开封市")
    with pytest.raises(services.ReviewDenied):
        services.review_withdraw_recommendation(
            decision=d1, scope=other_city.scope, actor=other_city.actor
        )
    services.review_withdraw_recommendation(decision=d1, scope=city.scope, actor=city.actor)
    a1.refresh_from_db()
    d1.refresh_from_db()
    d2.refresh_from_db()
    assert a1.state == AppState.SUBMITTED and a1.current_org == org("郑州市")
    assert not d1.active and d1.deactivated_reason == Deactivation.WITHDRAWN
    assert d2.rank == 1  # the gap closes
    with pytest.raises(services.ReviewError, match="不再有效"):
        services.review_withdraw_recommendation(decision=d1, scope=city.scope, actor=city.actor)
    # Once the province has acted on a2, the city cannot take it back.
    services.review_return(
        application=a2, scope=province.scope, actor=province.actor, reasons="补材料"
    )
    d2.refresh_from_db()
    with pytest.raises(services.ReviewError):
        services.review_withdraw_recommendation(decision=d2, scope=city.scope, actor=city.actor)


def test_rank_inserts_and_shifts(henan, henan_school_app):
    apps = [henan_school_app()[0] for _ in range(3)]
    city = reviewer("郑州市")
    recommend(city, apps[0])
    recommend(city, apps[1])
    recommend(city, apps[2], rank=1)
    ranks = dict(ReviewDecision.objects.filter(active=True).values_list("application_id", "rank"))
    assert ranks == {apps[2].pk: 1, apps[0].pk: 2, apps[1].pk: 3}
    with pytest.raises(services.ReviewError, match="正整数"):
        recommend(city, henan_school_app()[0], rank=0)
    level = selectors.my_ranked_levels(city.scope)
    assert [d.application_id for d in level[0].decisions] == [apps[2].pk, apps[0].pk, apps[1].pk]
    services.review_rerank(
        programme=henan,
        category="school",
        level="city",
        order=[d.pk for d in reversed(level[0].decisions)],
        scope=city.scope,
        actor=city.actor,
    )
    ranks = dict(ReviewDecision.objects.filter(active=True).values_list("application_id", "rank"))
    assert ranks == {apps[1].pk: 1, apps[0].pk: 2, apps[2].pk: 3}
    with pytest.raises(services.ReviewError, match="全部有效推荐"):
        services.review_rerank(
            programme=henan,
            category="school",
            level="city",
            order=[level[0].decisions[0].pk],
            scope=city.scope,
            actor=city.actor,
        )


def test_deadline_is_enforced_in_beijing_time_with_the_deadline_shown(henan, henan_school_app):
    app, _ = henan_school_app()
    city = reviewer("郑州市")
    deadline = henan.level_deadline("school", "city")
    late = deadline + dt.timedelta(seconds=1)
    with pytest.raises(services.ReviewError) as exc:
        recommend(city, app, now=late)
    local = deadline.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    assert f"截止时间 {local}（北京时间）已过" in exc.value.message
    app.refresh_from_db()
    assert app.state == AppState.SUBMITTED and not ReviewDecision.objects.exists()
    for call in (
        lambda: services.review_return(
            application=app, scope=city.scope, actor=city.actor, reasons="x", now=late
        ),
        lambda: services.review_not_recommend(
            application=app, scope=city.scope, actor=city.actor, reason="x", now=late
        ),
    ):
        with pytest.raises(services.ReviewError, match="已过"):
            call()
    # Exactly at the deadline is still in time.
    d = recommend(city, app, now=deadline)
    with pytest.raises(services.ReviewError, match="已过"):
        services.review_withdraw_recommendation(
            decision=d, scope=city.scope, actor=city.actor, now=late
        )


def test_upper_level_sees_only_what_arrived_in_time(henan, henan_school_app):
    on_time, _ = henan_school_app()
    stuck, _ = henan_school_app()
    city, province = reviewer("郑州市"), reviewer("河南省")
    recommend(city, on_time)
    late = henan.level_deadline("school", "city") + dt.timedelta(hours=1)
    with pytest.raises(services.ReviewError):
        recommend(city, stuck, now=late)
    queue = reviewer_queue.review_queue(province.scope, reviewer_queue.QueueFilters(), now=late)
    assert [r["pk"] for r in queue.rows] == [on_time.pk]
    # The city still sees its late one, marked as past its deadline and not selectable.
    city_queue = reviewer_queue.review_queue(city.scope, reviewer_queue.QueueFilters(), now=late)
    assert [(r["pk"], r["late"]) for r in city_queue.rows] == [(stuck.pk, True)]


def test_scope_a_county_cannot_act_on_another_countys_application(zhejiang):
    school = school_in(org("西湖区"))
    app = submit_as(school, zhejiang, "k12", unit_type="school")
    for who in (
        reviewer("上城区"),  # another county of the same city
        reviewer("鹿城区"),  # a county of another city
        reviewer("金水区"),  # a county of another province
        Who(org("西湖区"), Role.EXPERT),  # the right org, a role that does not review
        Who(org("西湖区"), Role.APPLICANT),
    ):
        with pytest.raises(services.ReviewDenied):
            recommend(who, app)
        with pytest.raises(services.ReviewDenied):
            services.review_return(application=app, scope=who.scope, actor=who.actor, reasons="x")
        with pytest.raises(services.ReviewDenied):
            services.review_not_recommend(
                application=app, scope=who.scope, actor=who.actor, reason="x"
            )
    app.refresh_from_db()
    assert app.state == AppState.SUBMITTED and app.review_started_at is None
    assert not ReviewDecision.objects.exists()


def test_applicant_may_withdraw_only_before_the_first_review_action(henan, henan_school_app):
    app, school = henan_school_app()
    city = reviewer("郑州市")
    services.review_return(application=app, scope=city.scope, actor=city.actor, reasons="补充")
    app.refresh_from_db()
    assert app_services.can_withdraw(app)[0] is False


def test_quanzhou_city_stands_in_for_the_county_for_its_direct_schools(quanzhou):
    direct = school_in(org("泉州市"), name="泉州市第一实验中学", stages=",junior,")
    app = submit_as(
        direct, quanzhou, "school", bandwidth_mbps="100", platform_security_certified="on"
    )
    assert [(s["level"], s["org_name"]) for s in app.chain] == [
        ("county", "泉州市"),
        ("city", "泉州市"),
    ]
    city = reviewer("泉州市")
    d = recommend(city, app)
    assert (d.quota_holder, d.quota_direct, d.quota_level) == (org("泉州市"), True, "county")
    app.refresh_from_db()
    assert app.state == AppState.RECOMMENDED and app.current_step == 1
    lines = selectors.quota_summary(city.scope, [quanzhou.pk])
    direct_line = next(line for line in lines if line.direct)
    assert direct_line.used == 1


def test_bulk_return_and_not_recommend_are_all_or_nothing(henan, henan_school_app):
    a1, _ = henan_school_app()
    a2, _ = henan_school_app()
    city = reviewer("郑州市")
    services.review_not_recommend(application=a2, scope=city.scope, actor=city.actor, reason="x")
    with pytest.raises(services.ReviewError, match="不在审核中"):
        services.review_return_bulk(
            applications=[a1, a2], scope=city.scope, actor=city.actor, reasons="补充材料"
        )
    a1.refresh_from_db()
    assert a1.state == AppState.SUBMITTED
    a3, _ = henan_school_app()
    done = services.review_return_bulk(
        applications=[a1, a3], scope=city.scope, actor=city.actor, reasons="补充材料"
    )
    assert len(done) == 2
    assert set(
        Application.objects.filter(state=AppState.RETURNED).values_list("pk", flat=True)
    ) == {
        a1.pk,
        a3.pk,
    }


def test_opinion_boxes_for_the_paper_form(henan, henan_school_app):
    app, _ = henan_school_app()
    city = reviewer("郑州市")
    recommend(city, app, "同意推荐该校。")
    app.refresh_from_db()
    # One function fills the boxes for the page and the PDF (documents.forms.form_document).
    from edupilot.documents.forms import form_document

    school, city_box, province_box = form_document(city.scope, app).opinions
    assert city_box.text == "同意推荐该校。"
    assert city.user.display_name in city_box.note and "推荐排序第 1 名" in city_box.note
    assert city_box.date is not None
    assert province_box.text == "" and school.text == ""


def test_a_pending_issuer_decision_counts_as_the_upper_level_acting(henan, henan_school_app):
    from edupilot.selection.approval import selection_approve

    app, _ = henan_school_app()
    city, province = reviewer("郑州市"), reviewer("河南省", Role.PROGRAMME_ADMIN)
    d = recommend(city, app)
    app.refresh_from_db()
    assert services.can_withdraw_recommendation(city.scope, d)[0]
    selection_approve(
        application=app, opinion="同意立项", scope=province.scope, actor=province.actor
    )
    app.refresh_from_db()
    assert app.state == AppState.RECOMMENDED  # pending until the announcement
    with pytest.raises(services.ReviewError, match="审定单位已作出审定决定，不能撤回推荐"):
        services.review_withdraw_recommendation(decision=d, scope=city.scope, actor=city.actor)
    with pytest.raises(services.ReviewError, match="请先撤销该决定再退回修改"):
        services.review_return(
            application=app, scope=province.scope, actor=province.actor, reasons="补充"
        )
    # In English the same rule, and its reason in English.
    from django.utils import translation

    with translation.override("en"), pytest.raises(services.ReviewError, match="issuer"):
        services.review_return(
            application=app, scope=province.scope, actor=province.actor, reasons="补充"
        )


def test_a_decision_is_told_by_its_kind_not_by_its_words(henan, henan_school_app, monkeypatch):
    """Review tells the issuer's decision from other acts by the hook's mark, so a reworded or
    translated message cannot turn the rule off, and the same words without it do not count."""
    from edupilot.review import hooks

    app, _ = henan_school_app()
    city, province = reviewer("郑州市"), reviewer("河南省", Role.PROGRAMME_ADMIN)
    recommend(city, app)
    app.refresh_from_db()
    monkeypatch.setattr(
        hooks, "_issuer_checks", [lambda a: hooks.IssuerAct("已定（另一种说法）", hooks.DECIDED)]
    )
    with pytest.raises(services.ReviewError, match="已定（另一种说法），请先撤销该决定再退回修改"):
        services.review_return(
            application=app, scope=province.scope, actor=province.actor, reasons="补充"
        )
    monkeypatch.setattr(hooks, "_issuer_checks", [lambda a: "审定单位已作出审定决定"])
    services.review_return(
        application=app, scope=province.scope, actor=province.actor, reasons="补充"
    )
    app.refresh_from_db()
    assert app.state == AppState.RETURNED
