"""Bad input on both databases: stored (control characters removed) or refused with a Chinese
message, nothing changed, never a 500 (issue 12 section 1; runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from edupilot.accounts import services as account_services
from edupilot.applications.models import Application, AppState
from edupilot.audit.services import Actor
from edupilot.orgs.models import Role
from tests.applications.conftest import SCHOOL_FORM, Who
from tests.conftest import make_school, org

NUL = "\x00"


@pytest.fixture
def school(programmes):
    return Who(make_school(org("金水区"), name="金水区输入测试小学", stages=",primary,"))


@pytest.fixture
def draft(client, school):
    client.force_login(school.user)
    client.post("/applications/start/", {"programme": "henan-tencent-2019", "category": "school"})
    return Application.objects.get(applicant_org=school.org)


def put_draft(client, app, revision, data):
    return client.put(
        f"/api/v1/applications/{app.pk}/draft",
        {"revision": revision, "data": data},
        content_type="application/json",
    )


def test_the_application_get_returns_the_revision_the_draft_put_needs(client, draft):
    got = client.get(f"/api/v1/applications/{draft.pk}").json()
    assert got["revision"] == draft.revision
    r = put_draft(client, draft, got["revision"], {"principal": "张校长"})
    assert r.status_code in (200, 400), r.content  # saved (400: other fields still missing)
    again = client.get(f"/api/v1/applications/{draft.pk}").json()
    assert again["data"]["principal"] == "张校长" and again["revision"] == got["revision"] + 1
    # The old revision is stale now.
    assert put_draft(client, draft, got["revision"], {"principal": "李"}).status_code == 409


@pytest.mark.parametrize("value", [NUL, "张\x00校长", "a\x1bb", "\ud800"])
def test_draft_put_refuses_control_characters_naming_the_field(client, draft, value):
    before = Application.objects.get(pk=draft.pk)
    r = put_draft(client, draft, draft.revision, {"principal": value, "address": "花园路"})
    assert r.status_code == 400
    body = r.json()
    assert "控制字符" in body["message"] and "body.data.principal" in body["errors"]
    after = Application.objects.get(pk=draft.pk)
    assert (after.revision, after.data) == (before.revision, before.data)  # nothing changed
    # A key holding one is refused as well.
    r = put_draft(client, draft, draft.revision, {"princi\x00pal": "x"})
    assert r.status_code == 400


def test_draft_put_bounds_every_value(client, draft):
    r = put_draft(client, draft, draft.revision, {"principal": "长" * 200_001})
    assert r.status_code == 422 and "最长" in r.json()["message"]
    r = put_draft(client, draft, draft.revision, {"k" * 65: "x"})
    assert r.status_code == 422
    # A number too long to be one is kept as typed, with a message (never a 500).
    r = put_draft(client, draft, draft.revision, {"student_count": "9" * 5000})
    assert r.status_code == 400 and "过长" in str(r.json()["errors"]["student_count"])


@pytest.mark.parametrize(
    "query",
    [
        "limit=99999999999999999999",
        "offset=99999999999999999999",
        "limit=0",
        "offset=-1",
        "limit=abc",
        "q=%00",
        "q=" + "x" * 500,
        "kind=%1b",
    ],
)
def test_list_parameters_are_bounded(client, school, query):
    client.force_login(school.user)
    r = client.get(f"/api/v1/orgs/?{query}")
    assert r.status_code in (400, 422), r.content
    assert r.json()["message"]  # Chinese, naming the parameter
    assert client.get("/api/v1/orgs/?limit=500&offset=10000000").status_code == 200


def test_huge_ids_and_control_characters_in_paths_are_not_found(client, school, draft):
    for url in (
        "/api/v1/applications/99999999999999999999",
        "/api/v1/orgs/%00",
        "/api/v1/programmes/%00/quotas",
        "/applications/99999999999999999999/",
        "/orgs/%00/",
    ):
        r = client.get(url)
        assert 400 <= r.status_code < 500, (url, r.status_code)


def test_review_reasons_of_only_nul_are_refused_on_both_databases(client, school, draft):
    client.force_login(school.user)
    r = client.post(reverse("applications:edit", args=[draft.pk]), {**SCHOOL_FORM})
    assert r.status_code in (200, 302)
    from tests.applications.test_flow import attach, submit

    attach(school, draft)
    submit(school, draft)
    draft.refresh_from_db()
    assert draft.state == AppState.SUBMITTED
    city = Who(org("郑州市"), Role.REVIEWER)
    client.force_login(city.user)
    # API: refused with the field named.
    r = client.post(
        f"/api/v1/review/{draft.pk}/return", {"reasons": NUL}, content_type="application/json"
    )
    assert r.status_code == 400 and "body.reasons" in r.json()["errors"]
    # Page: the control character goes, an empty reason is refused as any empty one is.
    r = client.post(reverse("review:return", args=[draft.pk]), {"reasons": NUL}, follow=True)
    assert "请填写退回理由" in r.content.decode()
    draft.refresh_from_db()
    assert draft.state == AppState.SUBMITTED
    r = client.post(reverse("review:return", args=[draft.pk]), {"reasons": "缺少\x00盖章页\x0b"})
    draft.refresh_from_db()
    assert draft.state == AppState.RETURNED
    decision = draft.review_decisions.order_by("-pk").first()
    assert decision.reasons.startswith("缺少盖章页")


def test_page_form_with_nul_saves_what_the_user_sees(client, draft):
    post = {**SCHOOL_FORM, "f-principal": "王\x00校长", "f-plan": SCHOOL_FORM["f-plan"] + "\x00"}
    r = client.post(reverse("applications:edit", args=[draft.pk]), post)
    assert r.status_code in (200, 302)
    draft.refresh_from_db()
    assert draft.data["principal"] == "王校长"
    assert NUL not in str(draft.data)
    # Autosave (htmx) goes through the same layer.
    r = client.post(
        reverse("applications:edit", args=[draft.pk]),
        {"f-address": "花园路\x001号", "revision": draft.revision},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code < 500
    draft.refresh_from_db()
    assert draft.data["address"] == "花园路1号"


def test_api_user_who_must_change_the_password_gets_json_403(client, school):
    cred = account_services.user_reset_password(user=school.user, actor=Actor.system())
    r = client.post(
        reverse("accounts:login"), {"username": school.user.username, "password": cred.password}
    )
    assert r.status_code == 302
    r = client.get("/api/v1/programmes/")
    assert r.status_code == 403 and r["Content-Type"].startswith("application/json")
    assert "密码" in r.json()["message"]
    r = client.get(reverse("orgs:browse"))  # pages still send the user to the form
    assert r.status_code == 302 and r["Location"] == reverse("accounts:password_change")
