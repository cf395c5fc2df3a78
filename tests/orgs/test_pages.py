"""Org pages: scope crossings by URL, constant queries per page, audited edits."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from edupilot.audit.models import AuditEvent
from edupilot.orgs.models import Org, Role
from tests.conftest import make_school, make_user, org


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def two_counties(seeded):
    """Look-alike schools in two counties of one city, and in another province."""
    return {
        "jinshui": make_school(org("410105"), name="金水区第一小学"),
        "erqi": make_school(org("410103"), name="二七区第一小学"),
        "kaifeng": make_school(org("410202"), name="龙亭区第一小学"),
        "xihu": make_school(org("330106"), name="西湖区第一小学"),
    }


def test_anonymous_users_are_sent_to_login(client, two_counties):
    s = two_counties["jinshui"]
    for url in (
        reverse("orgs:browse"),
        reverse("orgs:detail", args=[s.code]),
        reverse("orgs:edit", args=[s.code]),
        reverse("orgs:import"),
    ):
        r = client.get(url)
        assert r.status_code == 302 and reverse("accounts:login") in r["Location"], url


def test_county_reviewer_cannot_open_another_countys_school(client, two_counties):
    login(client, make_user(org("410105"), Role.REVIEWER))
    own, other = two_counties["jinshui"], two_counties["erqi"]
    assert client.get(reverse("orgs:detail", args=[own.code])).status_code == 200
    for name in ("orgs:detail", "orgs:edit"):
        r = client.get(reverse(name, args=[other.code]))
        assert r.status_code == 404
        assert other.name not in r.content.decode()
    r = client.post(reverse("orgs:edit", args=[other.code]), {"name": "改名"})
    assert r.status_code == 404
    r = client.post(reverse("orgs:move", args=[own.code]), {"parent": "410103"})
    assert Org.objects.get(pk=own.pk).parent.code == "410105"  # 410103 is out of scope
    # The tree and the search show nothing of the other county.
    r = client.get(reverse("orgs:browse"), {"q": "第一小学"})
    body = r.content.decode()
    assert own.name in body and other.name not in body and "西湖区" not in body
    r = client.get(reverse("orgs:browse"), {"under": "410103"})
    assert r.status_code == 404


def test_province_reviewer_cannot_open_another_provinces_school(client, two_counties):
    login(client, make_user(org("330000"), Role.PROGRAMME_ADMIN))
    assert client.get(reverse("orgs:detail", args=[two_counties["xihu"].code])).status_code == 200
    assert (
        client.get(reverse("orgs:detail", args=[two_counties["kaifeng"].code])).status_code == 404
    )
    assert client.get(reverse("orgs:browse"), {"under": "410000"}).status_code == 404


def test_a_school_sees_only_itself_and_edits_only_its_contact_details(client, two_counties):
    school, other = two_counties["jinshui"], two_counties["erqi"]
    login(client, make_user(school))
    assert client.get(reverse("orgs:browse")).status_code == 302
    assert client.get(reverse("orgs:detail", args=[other.code])).status_code == 404
    assert client.get(reverse("orgs:edit", args=[other.code])).status_code == 404
    assert client.get(reverse("orgs:detail", args=["410105"])).status_code == 404
    r = client.get(reverse("orgs:edit", args=[school.code]))
    form = r.context["form"]
    assert "bandwidth_mbps" not in form.fields and "name" not in form.fields
    assert "contact_phone" in form.fields
    r = client.post(
        reverse("orgs:edit", args=[school.code]),
        {
            "address": "金水区文化路1号",
            "postcode": "450002",
            "contact_name": "王老师",
            "contact_phone": "0371-6000000",
            "contact_email": "wang@example.cn",
            # Bureau fields in the post are not the school's to change.
            "bandwidth_mbps": "1000",
            "name": "改名小学",
            "loaded_at": form["loaded_at"].value(),
        },
    )
    assert r.status_code == 302
    school.refresh_from_db()
    assert school.contact_name == "王老师" and school.address == "金水区文化路1号"
    assert school.bandwidth_mbps == 100 and school.name == "金水区第一小学"
    event = AuditEvent.objects.filter(action="org.update").last()
    assert event.object_id == str(school.pk)
    assert event.before["contact_name"] == "" and event.after["contact_name"] == "王老师"
    assert "bandwidth_mbps" not in event.after


def test_reviewer_edits_school_attributes_audited_and_stale_forms_refused(client, two_counties):
    school = two_counties["jinshui"]
    login(client, make_user(org("410100"), Role.REVIEWER))
    url = reverse("orgs:edit", args=[school.code])
    r = client.get(url)
    loaded = r.context["form"]["loaded_at"].value()
    data = {
        "name": school.name,
        "stage_list": ["primary", "junior"],
        "ownership": "public",
        "locality": "rural",
        "bandwidth_mbps": "20",
        "teacher_count": "61",
        "student_count": "900",
        "is_active": "on",
        "loaded_at": loaded,
    }
    assert client.post(url, data).status_code == 302
    school.refresh_from_db()
    assert school.bandwidth_mbps == 20 and school.stage_list == ["primary", "junior"]
    event = AuditEvent.objects.filter(action="org.update").last()
    assert event.before["bandwidth_mbps"] == 100 and event.after["bandwidth_mbps"] == 20
    assert event.after["stages"] == ",primary,junior,"
    # A second editor working from the old page must not overwrite the first one's change.
    r = client.post(url, {**data, "bandwidth_mbps": "500"})
    assert r.status_code == 200 and "已被他人修改" in r.content.decode()
    school.refresh_from_db()
    assert school.bandwidth_mbps == 20
    r = client.post(url, {**data, "bandwidth_mbps": "-5", "loaded_at": ""})
    assert r.status_code == 200
    school.refresh_from_db()
    assert school.bandwidth_mbps == 20
    # A county's own record is the platform's to keep.
    assert client.get(reverse("orgs:edit", args=["410105"])).status_code == 403


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url, params)
    assert r.status_code == 200
    return len(ctx.captured_queries)


def test_browse_page_takes_a_constant_number_of_queries(client, seeded):
    county = org("410122")
    login(client, make_user(org("410100"), Role.REVIEWER))
    for _ in range(3):
        make_school(county)
    few = _queries(client, reverse("orgs:browse"), {"under": "410122"})
    for _ in range(60):
        make_school(county)
    many = _queries(client, reverse("orgs:browse"), {"under": "410122"})
    assert few == many
    city_few = _queries(client, reverse("orgs:browse"), {"under": "410100", "page": "2"})
    for _ in range(5):
        make_school(org("410105"))
    assert _queries(client, reverse("orgs:browse"), {"under": "410100", "page": "2"}) == city_few
    r = client.get(reverse("orgs:browse"), {"under": "410100"})
    counts = {c.org.code: c.schools for c in r.context["children"]}
    assert counts["410122"] == 63 and counts["410105"] == 5
    assert r.context["page"].paginator.count == 68


def test_import_page_checks_then_imports(client, seeded):
    login(client, make_user(org("410225"), Role.REVIEWER))
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = "学校标识码,学校名称,上级机构代码,学段\nT4102257001,兰考县样例小学,410225,小学\nT4102257002,越界,410105,小学\n"

    def upload(action):
        f = SimpleUploadedFile("r.csv", body.encode("gbk"), content_type="text/csv")
        return client.post(reverse("orgs:import"), {"file": f, "action": action})

    r = upload("check")
    assert r.status_code == 200 and not Org.objects.filter(code="T4102257001").exists()
    text = r.content.decode()
    assert "不在您的管辖范围内" in text
    assert r.context["report"].refused_rows == [3]
    r = upload("import")
    assert Org.objects.filter(code="T4102257001").exists()
    assert not Org.objects.filter(code="T4102257002").exists()
    assert r.context["report"].written
    client.force_login(make_user(Org.objects.get(code="T4102257001")))
    assert client.get(reverse("orgs:import")).status_code == 403


def test_detail_page_queries_do_not_grow_with_accounts(client, seeded):
    school = make_school(org("410105"))
    login(client, make_user(org("410100"), Role.REVIEWER))
    make_user(school)
    url = reverse("orgs:detail", args=[school.code])
    few = _queries(client, url, {})
    for _ in range(5):
        make_user(school)
    assert _queries(client, url, {}) == few
    r = client.get(url)
    # The city reviewer may reset every account of the school (they act only there).
    assert len(r.context["members"]) == 6 and all(can for _, can in r.context["members"])
