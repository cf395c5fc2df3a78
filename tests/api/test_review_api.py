"""Review actions over the API: the same quota, scope and messages as the pages."""

import pytest

from edupilot.applications.models import AppState
from edupilot.orgs.models import Role
from edupilot.programmes.models import QuotaAllocation
from tests.applications.conftest import SCHOOL_FORM, Who
from tests.applications.test_flow import attach, fill, start, submit
from tests.conftest import make_school, org


@pytest.fixture
def henan(programmes):
    from edupilot.programmes.models import Programme

    return Programme.objects.get(code="henan-tencent-2019")


def bid(henan, county="金水区"):
    school = Who(make_school(org(county), stages=",primary,"))
    app = start(school, henan)
    fill(school, app, {**SCHOOL_FORM, "f-school_name": school.org.name})
    attach(school, app)
    submit(school, app)
    return app


def test_city_recommends_within_quota_over_the_api(client, henan):
    QuotaAllocation.objects.filter(programme=henan, category="school", holder=org("郑州市")).update(
        effective=1
    )
    first, second = bid(henan), bid(henan)
    city = Who(org("郑州市"), Role.REVIEWER)
    client.force_login(city.user)
    queue = client.get("/api/v1/review/queue").json()
    assert {r["id"] for r in queue["items"]} >= {first.pk, second.pk}
    r = client.post(
        f"/api/v1/review/{first.pk}/recommend",
        {"opinion": "同意推荐。", "rank": 1},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["rank"] == 1
    r = client.post(
        f"/api/v1/review/{second.pk}/recommend",
        {"opinion": "同意推荐。"},
        content_type="application/json",
    )
    assert r.status_code == 409 and "名额" in r.json()["message"]
    second.refresh_from_db()
    assert second.state == AppState.SUBMITTED and second.current_step == 0
    r = client.post(
        f"/api/v1/review/{second.pk}/return",
        {"reasons": "请补充材料。"},
        content_type="application/json",
    )
    assert r.status_code == 200
    second.refresh_from_db()
    assert second.state == AppState.RETURNED


def test_other_orgs_cannot_act_over_the_api(client, henan):
    app = bid(henan)
    for who in (
        Who(org("洛阳市"), Role.REVIEWER),
        Who(org("中原区"), Role.REVIEWER),
        Who(org("330100"), Role.REVIEWER),
    ):
        client.force_login(who.user)
        r = client.post(
            f"/api/v1/review/{app.pk}/recommend", {"opinion": "x"}, content_type="application/json"
        )
        assert r.status_code == 404
        assert all(
            row["id"] != app.pk for row in client.get("/api/v1/review/queue").json()["items"]
        )
    # A school cannot reach the reviewer's API at all.
    school = Who(make_school(org("金水区")))
    client.force_login(school.user)
    assert client.get("/api/v1/review/queue").status_code == 404
    app.refresh_from_db()
    assert app.state == AppState.SUBMITTED and app.review_started_at is None
