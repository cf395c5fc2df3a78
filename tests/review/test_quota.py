"""Quota enforcement: refusal naming the quota and who holds the places, freeing, Henan's rule."""

import pytest

from edupilot.applications.models import Application, AppState
from edupilot.orgs.models import Locality, Role
from edupilot.programmes.models import QuotaAllocation
from edupilot.review import selectors, services
from edupilot.review.models import ReviewDecision
from tests.applications.conftest import Who
from tests.conftest import make_school, org

from .conftest import reviewer, set_quota, submit_as


def recommend(who, app, **kw):
    return services.review_recommend(
        application=app, scope=who.scope, actor=who.actor, opinion="同意推荐。", **kw
    )


def test_refusal_names_the_quota_and_the_holders(henan, henan_school_app):
    set_quota(henan, "school", "郑州市", 2)
    a1, _ = henan_school_app("郑州市金水区第一实验小学")
    a2, _ = henan_school_app("郑州市金水区第二实验小学")
    a3, _ = henan_school_app("郑州市金水区第三实验小学")
    city = reviewer("郑州市")
    recommend(city, a1)
    recommend(city, a2)
    with pytest.raises(services.ReviewError) as exc:
        recommend(city, a3)
    message = exc.value.message
    assert "郑州市“学校试点”市级推荐名额共 2 个，已全部占用" in message
    assert "郑州市金水区第一实验小学（第 1 名）" in message
    assert "郑州市金水区第二实验小学（第 2 名）" in message
    a3.refresh_from_db()
    assert a3.state == AppState.SUBMITTED and a3.review_started_at is None
    assert ReviewDecision.objects.filter(application=a3).count() == 0


def test_withdrawal_frees_a_place(henan, henan_school_app):
    set_quota(henan, "school", "郑州市", 1)
    a1, _ = henan_school_app()
    a2, _ = henan_school_app()
    city = reviewer("郑州市")
    d1 = recommend(city, a1)
    with pytest.raises(services.ReviewError, match="已全部占用"):
        recommend(city, a2)
    services.review_withdraw_recommendation(decision=d1, scope=city.scope, actor=city.actor)
    recommend(city, a2)
    line = next(
        line
        for line in selectors.quota_summary(city.scope, [henan.pk])
        if line.category == "school"
    )
    assert (line.limit, line.used, line.left) == (1, 1, 0)


def test_return_by_the_upper_level_frees_a_place(henan, henan_school_app):
    set_quota(henan, "school", "郑州市", 1)
    a1, _ = henan_school_app()
    a2, _ = henan_school_app()
    city, province = reviewer("郑州市"), reviewer("河南省")
    recommend(city, a1)
    services.review_return(
        application=a1, scope=province.scope, actor=province.actor, reasons="请补充规划"
    )
    recommend(city, a2)  # the place a1 held is free again
    assert ReviewDecision.objects.filter(active=True, action="recommend").count() == 1


def test_not_recommended_upstairs_still_holds_the_lower_place(henan, zhejiang):
    """Zhejiang: a county passes its school up; if the city says no, the county's
    recommendation stays spent (only withdrawal, return or resubmission free it)."""
    school = Who(make_school(org("西湖区")))
    app = submit_as(school, zhejiang, "k12", unit_type="school")
    county, city = reviewer("西湖区"), reviewer("杭州市")
    d = recommend(county, app)
    services.review_not_recommend(application=app, scope=city.scope, actor=city.actor, reason="x")
    d.refresh_from_db()
    assert d.active


def test_zero_places_and_unlisted_holders(henan, henan_school_app):
    a, _ = henan_school_app()
    city = reviewer("郑州市")
    set_quota(henan, "school", "郑州市", 0)
    with pytest.raises(services.ReviewError, match="名额为 0 个"):
        recommend(city, a)
    # No row for the holder: Henan's table says unlisted orgs get no places.
    QuotaAllocation.objects.filter(
        programme=henan, category="school", holder=org("郑州市")
    ).delete()
    with pytest.raises(services.ReviewError, match="名额为 0 个"):
        recommend(city, a)


def test_unlimited_allocation_lets_every_recommendation_through(henan, henan_school_app):
    QuotaAllocation.objects.filter(programme=henan, category="school", holder=org("郑州市")).update(
        unlimited=True, effective=0
    )
    city = reviewer("郑州市")
    for _ in range(3):
        recommend(city, henan_school_app()[0])
    line = next(
        line
        for line in selectors.quota_summary(city.scope, [henan.pk])
        if line.category == "school"
    )
    assert line.limit is None and line.used == 3


def test_bulk_recommend_fits_or_nothing_happens(henan, henan_school_app):
    set_quota(henan, "school", "郑州市", 3)
    apps = [henan_school_app()[0] for _ in range(3)]
    city = reviewer("郑州市")
    recommend(city, apps[0])
    with pytest.raises(services.ReviewError, match="还剩 2 个，不够推荐所选的 3 个"):
        services.review_recommend_bulk(
            applications=[apps[1], apps[2], henan_school_app()[0]],
            scope=city.scope,
            actor=city.actor,
            opinion="同意推荐。",
        )
    assert ReviewDecision.objects.count() == 1
    done = services.review_recommend_bulk(
        applications=[apps[2], apps[1]], scope=city.scope, actor=city.actor, opinion="同意推荐。"
    )
    assert [d.rank for d in done] == [2, 3]
    assert [d.application_id for d in done] == [apps[2].pk, apps[1].pk]


def test_quota_is_per_holder(henan, henan_school_app):
    set_quota(henan, "school", "郑州市", 1)
    set_quota(henan, "school", "开封市", 1)
    zz, _ = henan_school_app(parent="金水区")
    kf, _ = henan_school_app(parent="鼓楼区")
    assert kf.current_org == org("开封市")
    recommend(reviewer("郑州市"), zz)
    recommend(reviewer("开封市"), kf)  # 郑州市's full quota does not touch 开封市's


def test_henan_school_in_a_region_bid_and_its_own_bid_are_not_counted_twice(henan):
    """Both bids got past submission at the same instant (each checked while the other was
    a draft); the city may recommend only one of them."""
    county = org("金水区")
    members = [
        make_school(county, name=f"金水区成员学校{i}", locality=loc)
        for i, loc in enumerate([Locality.URBAN, Locality.RURAL, Locality.URBAN])
    ]
    school = Who(members[0])
    school_app = submit_as(school, henan, "school")
    # The race: the region bid's check ran while the school's bid was not yet submitted.
    Application.objects.filter(pk=school_app.pk).update(state=AppState.DRAFT)
    region = Who(county, Role.APPLICANT)
    region_app = submit_as(region, henan, "region", members=members)
    Application.objects.filter(pk=school_app.pk).update(state=AppState.SUBMITTED)
    school_app.refresh_from_db()
    city = reviewer("郑州市")
    with pytest.raises(services.ReviewError, match="不可再以学校试点重复申报"):
        recommend(city, school_app)
    with pytest.raises(services.ReviewError, match="不可重复"):
        recommend(city, region_app)
    assert not ReviewDecision.objects.exists()
    services.review_not_recommend(
        application=school_app, scope=city.scope, actor=city.actor, reason="已列入区域试点"
    )
    recommend(city, region_app)
    region_app.refresh_from_db()
    assert region_app.state == AppState.RECOMMENDED
