"""The reviewer's pages: queue, detail with action forms, bulk actions, scope by URL, query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from edupilot.applications import services as app_services
from edupilot.applications.models import AppState
from edupilot.orgs.models import Role
from edupilot.review import queue as reviewer_queue
from edupilot.review import services
from edupilot.review.models import ReviewDecision
from tests.conftest import org

from .conftest import reviewer, set_quota, valid_post


def login(client, who):
    client.force_login(who.user)
    return client


def test_reviewer_lands_on_the_queue(client, henan):
    city = reviewer("郑州市")
    response = login(client, city).get("/")
    assert response.status_code == 302 and response.url == reverse("review:queue")


def test_queue_shows_the_level_with_quota_and_filters(client, henan, henan_school_app):
    a1, _ = henan_school_app("郑州市金水区第一实验小学")
    a2, _ = henan_school_app("郑州市二七区实验小学", parent="二七区")
    henan_school_app("开封市某小学", parent="鼓楼区")  # another city: never listed
    city = reviewer("郑州市")
    page = login(client, city).get(reverse("review:queue"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "郑州市金水区第一实验小学" in html and "郑州市二七区实验小学" in html
    assert "开封市某小学" not in html
    assert "推荐名额" in html and "学校试点" in html
    quota = page.context["q"].quota
    school_line = next(line for line in quota if line.category == "school")
    assert (school_line.limit, school_line.used, school_line.left) == (15, 0, 15)
    # Filters: county, search, stage.
    area = org("二七区").pk
    page = client.get(reverse("review:queue"), {"area": area})
    assert [r["pk"] for r in page.context["page"]] == [a2.pk]
    page = client.get(reverse("review:queue"), {"q": "金水"})
    assert [r["pk"] for r in page.context["page"]] == [a1.pk]
    page = client.get(reverse("review:queue"), {"stage": "senior"})
    assert list(page.context["page"]) == []
    page = client.get(reverse("review:queue"), {"category": "region"})
    assert list(page.context["page"]) == []
    page = client.get(reverse("review:queue"), {"sort": "name"})
    assert [r["name"] for r in page.context["page"]] == sorted(
        [a1.applicant_org.name, a2.applicant_org.name]
    )


def test_queue_issues_a_constant_number_of_queries(client, henan, henan_school_app):
    city = reviewer("郑州市")
    login(client, city)
    url = reverse("review:queue")
    henan_school_app()
    client.get(url)  # warm caches (programme spec, content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    assert len(few) > 5  # the capture works through the test client
    apps = [henan_school_app()[0] for _ in range(6)]
    for a in apps[:3]:
        services.review_recommend(
            application=a, scope=city.scope, actor=city.actor, opinion="同意推荐。"
        )
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    with CaptureQueriesContext(connection) as passed:
        assert client.get(url, {"state": "passed"}).status_code == 200
    assert len(passed) == len(few)


def test_detail_page_issues_a_constant_number_of_queries(client, henan, henan_school_app):
    city, province = reviewer("郑州市"), reviewer("河南省")
    login(client, city)
    a, _ = henan_school_app()
    client.get(reverse("review:detail", args=[a.pk]))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("review:detail", args=[a.pk]))
    others = [henan_school_app()[0] for _ in range(4)]
    for o in others:
        services.review_recommend(
            application=o, scope=city.scope, actor=city.actor, opinion="同意推荐。"
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("review:detail", args=[a.pk]))
    assert len(many) == len(few)
    # A province page of a returned-and-resubmitted application with history stays bounded too.
    login(client, province)
    with CaptureQueriesContext(connection) as prov:
        assert client.get(reverse("review:detail", args=[others[0].pk])).status_code == 200
    assert len(prov) <= len(few) + 5


def test_detail_shows_chain_and_the_forms_of_the_acting_level(client, henan, henan_school_app):
    a, school = henan_school_app()
    city = reviewer("郑州市")
    html = login(client, city).get(reverse("review:detail", args=[a.pk])).content.decode()
    assert "审核流程与各级意见" in html
    assert reverse("review:recommend", args=[a.pk]) in html
    assert reverse("review:return", args=[a.pk]) in html
    assert "剩余 15 个" in html
    # The province sees the application but no action form until it arrives there.
    province = reviewer("河南省")
    html = login(client, province).get(reverse("review:detail", args=[a.pk])).content.decode()
    assert reverse("review:recommend", args=[a.pk]) not in html
    # The applicant sees the chain and opinions, never the forms.
    html = login(client, school).get(reverse("review:detail", args=[a.pk])).content.decode()
    assert "审核流程与各级意见" in html and reverse("review:recommend", args=[a.pk]) not in html


def test_recommend_return_and_not_recommend_by_post(client, henan, henan_school_app):
    a1, _ = henan_school_app()
    a2, _ = henan_school_app()
    a3, _ = henan_school_app()
    city = reviewer("郑州市")
    login(client, city)
    r = client.post(
        reverse("review:recommend", args=[a1.pk]), {"opinion": "同意推荐。", "rank": "1"}
    )
    assert r.status_code == 302
    r = client.post(reverse("review:return", args=[a2.pk]), {"reasons": ""}, follow=True)
    assert "请填写退回理由" in r.content.decode()
    a2.refresh_from_db()
    assert a2.state == AppState.SUBMITTED
    client.post(reverse("review:return", args=[a2.pk]), {"reasons": "缺少盖章页"})
    client.post(reverse("review:not_recommend", args=[a3.pk]), {"reason": "不符合条件"})
    states = {a.pk: a.state for a in (a1, a2, a3) if not a.refresh_from_db()}
    assert states == {
        a1.pk: AppState.RECOMMENDED,
        a2.pk: AppState.RETURNED,
        a3.pk: AppState.NOT_RECOMMENDED,
    }


def test_bulk_recommend_in_the_ranked_order_within_the_quota(client, henan, henan_school_app):
    apps = [henan_school_app()[0] for _ in range(4)]
    set_quota(henan, "school", "郑州市", 3)
    city = reviewer("郑州市")
    login(client, city)
    data = {"action": "recommend", "sel": [a.pk for a in apps], "text": ""}
    r = client.post(reverse("review:bulk"), data, follow=True)
    html = r.content.decode()
    assert "共 3 个，已用 0 个，还剩 3 个，不够推荐所选的 4 个" in html
    assert "本次批量操作未作任何修改" in html
    assert not ReviewDecision.objects.exists()
    # Ranks typed beside rows decide the order; unranked rows follow in ticked order.
    data = {
        "action": "recommend",
        "sel": [apps[0].pk, apps[1].pk, apps[2].pk],
        f"rank-{apps[2].pk}": "1",
        "text": "经集体研究，同意推荐。",
    }
    client.post(reverse("review:bulk"), data)
    ranks = dict(ReviewDecision.objects.values_list("application_id", "rank"))
    assert ranks == {apps[2].pk: 1, apps[0].pk: 2, apps[1].pk: 3}
    assert set(ReviewDecision.objects.values_list("opinion", flat=True)) == {
        "经集体研究，同意推荐。"
    }


@pytest.mark.parametrize("who", ["鼓楼区", "开封市", "西湖区", "杭州市", "浙江省"])
def test_out_of_scope_reviewers_get_404_by_url_and_change_nothing(
    client, henan, henan_school_app, who
):
    a, _ = henan_school_app()
    stranger = reviewer(who)
    login(client, stranger)
    assert client.get(reverse("review:detail", args=[a.pk])).status_code == 404
    for name, data in (
        ("review:recommend", {"opinion": "同意"}),
        ("review:return", {"reasons": "x"}),
        ("review:not_recommend", {"reason": "x"}),
    ):
        assert client.post(reverse(name, args=[a.pk]), data).status_code == 404
    assert (
        client.post(
            reverse("review:bulk"), {"action": "return", "sel": [a.pk], "text": "x"}
        ).status_code
        == 404
    )
    page = client.get(reverse("review:queue"), {"state": "submitted"})
    assert a.applicant_org.name not in page.content.decode()
    a.refresh_from_db()
    assert a.state == AppState.SUBMITTED and not ReviewDecision.objects.exists()


def test_in_scope_but_not_at_its_level_is_403(client, henan, henan_school_app):
    a, _ = henan_school_app()
    province = reviewer("河南省")  # its subtree holds the school, but the city acts first
    login(client, province)
    r = client.post(reverse("review:recommend", args=[a.pk]), {"opinion": "同意"})
    assert r.status_code == 403
    d = services.review_recommend(
        application=a,
        scope=reviewer("郑州市").scope,
        actor=reviewer("郑州市").actor,
        opinion="同意",
    )
    r = client.post(reverse("review:withdraw", args=[d.pk]))
    assert r.status_code == 403
    d.refresh_from_db()
    assert d.active


def test_withdraw_by_post_frees_the_place(client, henan, henan_school_app):
    a, _ = henan_school_app()
    city = reviewer("郑州市")
    d = services.review_recommend(application=a, scope=city.scope, actor=city.actor, opinion="同意")
    login(client, city)
    html = client.get(reverse("review:detail", args=[a.pk])).content.decode()
    assert reverse("review:withdraw", args=[d.pk]) in html
    client.post(reverse("review:withdraw", args=[d.pk]))
    d.refresh_from_db()
    a.refresh_from_db()
    assert not d.active and a.state == AppState.SUBMITTED


def test_ranking_page_reorders(client, henan, henan_school_app):
    apps = [henan_school_app()[0] for _ in range(2)]
    city = reviewer("郑州市")
    ds = [
        services.review_recommend(application=a, scope=city.scope, actor=city.actor, opinion="同意")
        for a in apps
    ]
    login(client, city)
    assert client.get(reverse("review:ranking")).status_code == 200
    client.post(
        reverse("review:rerank"),
        {
            "programme": henan.pk,
            "category": "school",
            "level": "city",
            "order": [ds[0].pk, ds[1].pk],
            f"rank-{ds[0].pk}": "2",
            f"rank-{ds[1].pk}": "1",
        },
    )
    assert dict(ReviewDecision.objects.values_list("pk", "rank")) == {ds[0].pk: 2, ds[1].pk: 1}


def test_applicants_and_experts_have_no_queue(client, henan, henan_school_app):
    _, school = henan_school_app()
    assert login(client, school).get(reverse("review:queue")).status_code == 404
    expert = reviewer("河南省", Role.EXPERT)
    assert login(client, expert).get(reverse("review:queue")).status_code == 404


def test_the_issuers_queue_offers_return_but_not_recommendation(client, henan, henan_school_app):
    a, _ = henan_school_app()
    city, province = reviewer("郑州市"), reviewer("河南省", Role.PROGRAMME_ADMIN)
    services.review_recommend(application=a, scope=city.scope, actor=city.actor, opinion="同意")
    html = login(client, province).get(reverse("review:queue")).content.decode()
    assert a.applicant_org.name in html
    assert 'value="return"' in html and 'value="recommend"' not in html
    html = login(client, city).get(reverse("review:queue")).content.decode()
    assert a.applicant_org.name not in html  # it left the city's level


def test_resubmitted_version_shows_its_changes_to_reviewer_and_applicant(
    client, henan, henan_school_app
):
    """The changes table (one template, ``applications/_changes.html``) on both pages."""
    app, school = henan_school_app()
    city = reviewer("郑州市")
    services.review_return(
        application=app, scope=city.scope, actor=city.actor, reasons="请补充经费数额。"
    )
    app.refresh_from_db()
    new_text = "学校每年安排专项经费五十万元。" * 10
    app_services.application_save_draft(
        application=app,
        post=valid_post(henan, "school", guarantees=new_text),
        scope=school.scope,
        actor=school.actor,
    )
    app_services.application_submit(application=app, scope=school.scope, actor=school.actor)
    for who, url in [
        (city, reverse("review:detail", args=[app.pk])),
        (school, reverse("applications:version", args=[app.pk, 2])),
    ]:
        html = login(client, who).get(url).content.decode()
        assert 'class="diff-new"' in html and new_text[:15] in html, url
        assert "内容没有变化" not in html


def test_queue_pages_keep_the_filters(client, henan, henan_school_app, monkeypatch):
    monkeypatch.setattr(reviewer_queue, "PAGE_SIZE", 1)
    henan_school_app("郑州市金水区第一实验小学")
    henan_school_app("郑州市二七区实验小学", parent="二七区")
    client = login(client, reviewer("郑州市"))
    html = client.get(reverse("review:queue") + "?category=school&page=1").content.decode()
    assert 'href="?category=school&amp;page=2"' in html
    html = client.get(reverse("review:queue") + "?category=school&page=2").content.decode()
    assert 'href="?category=school&amp;page=1"' in html
