"""The REST API answers through the same scope as the pages: tries across it get 404 and no data."""

import pytest

from edupilot.orgs.models import Role
from tests.applications.conftest import Who
from tests.conftest import make_school, org


@pytest.fixture
def henan_school(programmes):
    return Who(make_school(org("金水区"), name="金水区API小学", stages=",primary,"))


def get(client, who, url):
    client.force_login(who.user)
    return client.get(url)


def test_applicant_sees_open_calls_covering_it_and_why_not(client, henan_school):
    codes = {p["code"] for p in get(client, henan_school, "/api/v1/programmes/").json()}
    assert "henan-tencent-2019" in codes
    assert "zhejiang-smart-education-2019" not in codes  # another province's call
    r = client.get("/api/v1/programmes/zhejiang-smart-education-2019")
    assert r.status_code == 404
    detail = client.get("/api/v1/programmes/henan-tencent-2019").json()
    school = next(c for c in detail["categories"] if c["code"] == "school")
    assert [lv["key"] for lv in school["review"]] == ["city", "province"]
    elig = {
        e["category"]: e
        for e in client.get("/api/v1/programmes/henan-tencent-2019/eligibility").json()
    }
    assert elig["school"]["eligible"] is True
    assert "region" not in elig  # a school is not a region applicant
    # Quotas are the bureaus' business.
    assert client.get("/api/v1/programmes/henan-tencent-2019/quotas").status_code == 404


def test_reviewer_sees_only_its_subtree_quotas_and_orgs(client, programmes):
    zz = Who(org("郑州市"), Role.REVIEWER)
    rows = get(client, zz, "/api/v1/programmes/henan-tencent-2019/quotas").json()
    assert {r["holder"] for r in rows} == {"郑州市"}
    assert {(r["category"], r["effective"]) for r in rows} == {("region", 2), ("school", 15)}
    mine = make_school(org("金水区"), name="金水区可见小学")
    theirs = make_school(org("330106"), name="西湖区不可见小学")
    gongyi = make_school(org("巩义市"), name="巩义市不可见小学")
    names = {o["name"] for o in client.get("/api/v1/orgs/?q=小学&limit=500").json()["items"]}
    assert mine.name in names and theirs.name not in names and gongyi.name not in names
    assert client.get(f"/api/v1/orgs/{mine.code}").json()["parent_code"] == "410105"
    for other in (theirs, gongyi):
        r = client.get(f"/api/v1/orgs/{other.code}")
        assert r.status_code == 404 and other.name.encode() not in r.content


def test_county_reviewer_cannot_read_the_city_or_a_sibling(client, programmes):
    jinshui = Who(org("金水区"), Role.REVIEWER)
    assert get(client, jinshui, "/api/v1/orgs/410100").status_code == 404
    assert client.get("/api/v1/orgs/410102").status_code == 404  # 中原区, a sibling county
    assert client.get("/api/v1/orgs/410105").status_code == 200


def test_anonymous_gets_401(client, programmes):
    for url in ("/api/v1/programmes/", "/api/v1/orgs/", "/api/v1/applications/"):
        assert client.get(url).status_code == 401


def test_draft_and_submit_over_the_api(client, henan_school):
    from edupilot.applications.models import Application, AppState
    from tests.applications.conftest import SCHOOL_FORM
    from tests.applications.test_flow import attach

    client.force_login(henan_school.user)
    client.post("/applications/start/", {"programme": "henan-tencent-2019", "category": "school"})
    app = Application.objects.get(applicant_org=henan_school.org)
    data = {k[2:]: v for k, v in SCHOOL_FORM.items()}
    bad = {**data, "student_count": "很多"}
    r = client.put(
        f"/api/v1/applications/{app.pk}/draft",
        {"revision": app.revision, "data": bad},
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["errors"]["student_count"] == ["“学生数”应为数字"]
    app.refresh_from_db()
    r = client.put(
        f"/api/v1/applications/{app.pk}/draft",
        {"revision": app.revision - 1, "data": data},
        content_type="application/json",
    )
    assert r.status_code == 409  # another editor's revision
    r = client.put(
        f"/api/v1/applications/{app.pk}/draft",
        {"revision": app.revision, "data": data},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["data"]["student_count"] == 1200
    r = client.post(f"/api/v1/applications/{app.pk}/submit")
    assert r.status_code == 400 and "form_scan" in r.json()["errors"]
    attach(henan_school, app)
    r = client.post(f"/api/v1/applications/{app.pk}/submit")
    assert r.status_code == 200 and r.json()["state"] == AppState.SUBMITTED
