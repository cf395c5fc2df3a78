"""Pilots over the API: the pages' scope, a report submitted and accepted through the API by
the unit and its county, refusals as JSON with the Chinese reason, and the draft's revision."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from edupilot.audit.models import AuditEvent
from edupilot.pilots.models import Submission, SubmissionState, SubmissionVersion
from tests.pilots.submissions_world import build

pytestmark = pytest.mark.django_db

API = "/api/v1/pilots"
APRIL = {"progress": "完成平台部署，开展教师培训两次。", "users": "320"}


@pytest.fixture
def qz(seeded):
    return build()


def client_for(w, key) -> Client:
    c = Client()
    c.force_login(w.users[key])
    return c


def put(c, url, body):
    return c.put(url, json.dumps(body), content_type="application/json")


def post(c, url, body=None):
    return c.post(url, json.dumps(body or {}), content_type="application/json")


def draft_url(w, pilot=0, stage="monthly"):
    return f"{API}/{w.pilots[pilot].pk}/drafts/{stage}"


def test_list_is_each_levels_own(qz):
    ids = lambda key: sorted(p["id"] for p in client_for(qz, key).get(f"{API}/").json()["items"])  # noqa: E731
    p = [x.pk for x in qz.pilots]
    assert ids("school0") == [p[0]]
    assert ids("county0") == sorted(p[:2])
    assert ids("county1") == [p[2]]
    assert ids("city_admin") == sorted(p)
    body = client_for(qz, "city_admin").get(f"{API}/?q=丙&limit=1").json()
    assert body["count"] == 1 and body["items"][0]["unit"]["name"] == "泉州试点丙小学"
    assert client_for(qz, "city_admin").get(f"{API}/?state=nonsense").json()["count"] == 0
    assert client_for(qz, "city_admin").get(f"{API}/?limit=501").status_code == 422


@pytest.mark.parametrize("key", ["school1", "county1"])
def test_another_orgs_pilot_is_404(qz, key):
    c = client_for(qz, key)
    pilot = qz.pilots[0]
    assert c.get(f"{API}/{pilot.pk}").status_code == 404
    assert c.get(f"{API}/{pilot.pk}/submissions").status_code == 404
    assert c.get(f"{API}/{pilot.pk}/inspections").status_code == 404
    r = put(c, draft_url(qz), {"revision": 0, "period": "2026-04", "data": APRIL})
    assert r.status_code == 404
    assert not Submission.objects.filter(pilot=pilot).exists()


def test_pilot_shows_its_stages_and_their_status(qz):
    body = client_for(qz, "county0").get(f"{API}/{qz.pilots[0].pk}").json()
    assert body["unit"]["name"] == "泉州试点甲小学" and body["state"] == "active"
    stages = {s["key"]: s for s in body["stages"]}
    assert stages["plan"]["kind"] == "plan" and stages["plan"]["rule"] == "试点开始后 30 天内"
    (plan,) = stages["plan"]["periods"]
    assert plan["submission"] is None and plan["status"] == "overdue"
    assert stages["monthly"]["periods"][0]["period"] == "2026-03"
    assert stages["monthly"]["total_periods"] == 24


def test_submit_and_accept_round_trip(qz):
    unit, county = client_for(qz, "school0"), client_for(qz, "county0")
    r = put(unit, draft_url(qz), {"revision": 0, "period": "2026-04", "data": APRIL})
    assert r.status_code == 200, r.content
    sub = r.json()
    assert sub["state"] == "draft" and sub["revision"] == 1 and sub["data"]["users"] == 320
    r = post(unit, f"{API}/submissions/{sub['id']}/submit")
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "submitted" and r.json()["version"] == 1
    listed = county.get(f"{API}/{qz.pilots[0].pk}/submissions").json()
    assert [(s["id"], s["state"]) for s in listed] == [(sub["id"], "submitted")]
    r = post(county, f"{API}/submissions/{sub['id']}/accept", {"reason": "同意"})
    assert r.status_code == 200, r.content
    got = county.get(f"{API}/submissions/{sub['id']}").json()
    assert got["state"] == "accepted" and got["reason"] == "同意"
    (v,) = got["versions"]
    assert (v["number"], v["outcome"], v["data"]["progress"]) == (1, "accepted", APRIL["progress"])
    assert SubmissionVersion.objects.get(submission_id=sub["id"]).outcome == "accepted"
    assert AuditEvent.objects.filter(action="pilot_submission.accept").count() == 1


def test_refusals_are_json_with_the_reason(qz):
    unit, county = client_for(qz, "school0"), client_for(qz, "county0")
    sub = put(unit, draft_url(qz), {"revision": 0, "period": "2026-04", "data": APRIL}).json()
    # Who acts: 403 with the service's reason.
    r = post(county, f"{API}/submissions/{sub['id']}/submit")
    assert r.status_code == 403
    assert r.json()["message"] == "只有试点单位可以填写和提交。"
    # Incomplete: 400 naming the field; nothing submitted.
    put(unit, draft_url(qz), {"revision": 1, "period": "2026-04", "data": {"progress": ""}})
    r = post(unit, f"{API}/submissions/{sub['id']}/submit")
    assert r.status_code == 400 and "progress" in r.json()["errors"]
    assert "请按提示补全" in r.json()["message"]
    assert Submission.objects.get(pk=sub["id"]).state == SubmissionState.DRAFT
    # A return needs a reason.
    put(unit, draft_url(qz), {"revision": 2, "period": "2026-04", "data": APRIL})
    post(unit, f"{API}/submissions/{sub['id']}/submit")
    r = post(county, f"{API}/submissions/{sub['id']}/return", {"reason": "  "})
    assert r.status_code == 400 and r.json()["message"] == "请填写退回理由。"
    assert Submission.objects.get(pk=sub["id"]).state == SubmissionState.SUBMITTED
    # A draft with a value that does not validate: saved, 400 with the field's message.
    r = put(
        unit, f"{draft_url(qz)}", {"revision": 0, "period": "2026-05", "data": {"users": "三百"}}
    )
    assert r.status_code == 400 and "users" in r.json()["errors"]


def test_draft_revision_conflict_is_409_and_saves_nothing(qz):
    unit = client_for(qz, "school0")
    first = put(unit, draft_url(qz), {"revision": 0, "period": "2026-04", "data": APRIL}).json()
    r = put(
        unit, draft_url(qz), {"revision": 0, "period": "2026-04", "data": {"progress": "旧窗口"}}
    )
    assert r.status_code == 409
    assert "其他窗口" in r.json()["message"]
    sub = Submission.objects.get(pk=first["id"])
    assert sub.data["progress"] == APRIL["progress"] and sub.revision == 1
    r = put(unit, draft_url(qz), {"revision": 1, "period": "2026-04", "data": {"progress": "新"}})
    assert r.status_code == 200 and r.json()["revision"] == 2


def test_bad_input_is_422_in_chinese(qz):
    unit = client_for(qz, "school0")
    r = put(unit, draft_url(qz), {"revision": -1, "period": "2026-04", "data": APRIL})
    assert r.status_code == 422 and "不能小于 0" in r.json()["message"]
    r = put(unit, draft_url(qz), {"revision": 0, "period": "2026-04", "data": {"x": "a\x00b"}})
    assert r.status_code == 400 and "控制字符" in r.json()["message"]
    assert not Submission.objects.exists()


def test_inspection_round_trip(qz):
    county, unit = client_for(qz, "county0"), client_for(qz, "school0")
    pilot = qz.pilots[0]
    r = post(
        county,
        f"{API}/{pilot.pk}/inspections/schedule",
        {"mode": "site", "scheduled_for": "2026-12-20", "team": "张三、李四"},
    )
    assert r.status_code == 200, r.content
    ins = r.json()
    assert ins["state"] == "scheduled" and ins["org"]["id"] == qz.counties[0].pk
    r = post(unit, f"{API}/inspections/{ins['id']}/record", {"findings": "良好"})
    assert r.status_code == 403 and "检查" in r.json()["message"]  # the unit does not inspect
    r = post(
        county,
        f"{API}/inspections/{ins['id']}/record",
        {"findings": "平台使用不足", "demands": "加强培训"},
    )
    assert r.json()["state"] == "rectifying"
    r = post(unit, f"{API}/inspections/{ins['id']}/respond", {"response": "已开展两次培训"})
    assert r.json()["state"] == "answered"
    r = post(county, f"{API}/inspections/{ins['id']}/close", {"conclusion": "整改到位"})
    assert r.json()["state"] == "closed"
    listed = unit.get(f"{API}/{pilot.pk}/inspections").json()
    assert [i["conclusion"] for i in listed] == ["整改到位"]
    other = client_for(qz, "county1")
    assert (
        post(other, f"{API}/inspections/{ins['id']}/close", {"conclusion": "x"}).status_code == 404
    )


def test_acceptance_summary_and_decision(quanzhou):
    from tests.review.conftest import reviewer

    from .conftest import in_acceptance, issuer_admin, make_pilot
    from .test_acceptance import _panel, _score

    pilot, unit = make_pilot(quanzhou)
    sub = in_acceptance(pilot)
    boss = issuer_admin(quanzhou)
    (e1, r1), (e2, r2) = _panel(quanzhou, pilot, boss)
    _score(e1, r1, "38", "36", "18")  # 92
    _score(e2, r2, "30", "30", "10")  # 70
    issuer = Client()
    issuer.force_login(boss.user)
    body = issuer.get(f"{API}/acceptance/{sub.pk}").json()
    assert (body["scores_submitted"], body["scores_needed"]) == (2, 2)
    assert body["mean"] == "81.00" and body["suggested_grade"] == "pass"
    assert body["grade"] == "" and body["decided_at"] is None
    county = Client()
    county.force_login(reviewer(pilot.unit.parent).user)
    r = post(county, f"{API}/acceptance/{sub.pk}/decide", {"grade": "pass"})
    assert r.status_code == 403 and "项目管理员" in r.json()["message"]
    r = post(issuer, f"{API}/acceptance/{sub.pk}/decide", {"grade": "excellent", "opinion": "优"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["grade"], body["grade_name"], body["opinion"]) == ("excellent", "优秀", "优")
    assert body["state"] == "accepted" and body["decided_at"]
    r = post(issuer, f"{API}/acceptance/{sub.pk}/decide", {"grade": "pass"})
    assert r.status_code == 400 and r.json()["message"] == "试点不在验收中，不能评定等级。"
    # An expert sees no pilot through the API (the pages' rule).
    expert = Client()
    expert.force_login(e1.user)
    assert expert.get(f"{API}/acceptance/{sub.pk}").status_code == 404
    assert expert.get(f"{API}/").status_code == 404
