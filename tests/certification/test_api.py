"""Certification over the API: the same scope as the pages, tried across it."""

from __future__ import annotations

import pytest

from edupilot.certification.models import Entry

from .conftest import GOOD, export_rows
from .test_self_assessment import gated, submit  # noqa: F401 (a fixture)


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_district_sees_its_schools_city_the_batch_school_itself(hz, client):
    hz.import_file(
        export_rows(
            [("HZXH001", "", GOOD), ("HZSC001", "", GOOD), ("HZCD001", "", {**GOOD, "ZJ-02": 5})]
        )
    )
    batches = get(client, hz.xihu_reviewer, "/api/v1/certification/batches").json()
    assert [(b["code"], b["owner"]) for b in batches] == [("hz-2024", "杭州市")]
    base = f"/api/v1/certification/batches/{hz.batch.pk}"

    xihu = get(client, hz.xihu_reviewer, f"{base}/entries").json()
    assert {e["school_code"] for e in xihu["items"]} == {"HZXH001", "HZXH002"}  # no kindergarten
    city = get(client, hz.city_reviewer, f"{base}/entries").json()
    codes = {e["school_code"] for e in city["items"]}
    assert {"HZXH001", "HZSC001", "HZCD001", "HZCD003"} <= codes and "NB0001" not in codes
    exempt = next(e for e in city["items"] if e["school_code"] == "HZCD003")
    assert exempt["state"] == "exempt" and exempt["exempt_title"] == "杭州市智慧教育示范校"
    assert [
        e["school_code"]
        for e in get(client, hz.city_reviewer, f"{base}/entries?state=exempt").json()["items"]
    ] == ["HZCD003"]

    # One school's indicators, with value, threshold and source.
    cd = hz.entry(hz.cd_senior)
    detail = get(client, hz.city_reviewer, f"/api/v1/certification/entries/{cd.pk}").json()
    rows = {i["code"]: i for s in detail["standards"] for i in s["indicators"]}
    assert rows["ZJ-02"]["status"] == "unmet" and rows["ZJ-02"]["value"].startswith("5")
    assert detail["provisional"] == "fail"

    # Across the tree: another district's school, a city-direct school, another province.
    for user, entry in (
        (hz.xihu_reviewer, hz.entry(hz.sc_primary)),
        (hz.xihu_reviewer, cd),
        (hz.sc_school_user, hz.entry(hz.xh_primary)),
    ):
        response = get(client, user, f"/api/v1/certification/entries/{entry.pk}")
        assert response.status_code == 404
        assert entry.school.name not in response.content.decode()
    for user in (hz.henan_reviewer,):
        assert get(client, user, base).status_code == 404
        assert get(client, user, f"{base}/entries").status_code == 404
        assert get(client, user, "/api/v1/certification/batches").json() == []

    # A school sees itself only.
    own = get(client, hz.xh_school_user, f"{base}/entries").json()
    assert [e["school_code"] for e in own["items"]] == ["HZXH001"]

    client.logout()
    assert client.get(f"{base}/entries").status_code == 401


def test_the_self_assessment_and_its_gate_over_the_api(gated, client):  # noqa: F811
    """Issue 10's self-assessment, read as the pages read it: per-item self scores, totals,
    whether submitted, the gate's outcome; scoped like the other entries (404 outside)."""
    entry = gated.entry(gated.xh_primary)
    url = f"/api/v1/certification/entries/{entry.pk}/self-assessment"

    before = get(client, gated.xihu_reviewer, url).json()
    assert before["required"] and not before["submitted"] and before["items"]
    assert {i["score"] for i in before["items"]} == {None}
    assert before["gate"]["applies"] and before["gate"]["passed"] is False
    assert before["gate"]["reason"].startswith("未提交自评")
    assert "60%" in before["gate"]["rule"]

    sa = submit(gated, entry, 0.5)
    for user in (gated.xihu_reviewer, gated.city_reviewer, gated.xh_school_user):
        body = get(client, user, url).json()
        assert body["submitted"] and body["submitted_at"]
        assert body["total"] == float(sa.total) and body["max_total"] == float(sa.max_total)
        assert body["percent"] == pytest.approx(50, abs=0.1)
        scores_given = {i["code"]: i["score"] for i in body["items"]}
        assert scores_given == {k: float(v) for k, v in sa.scores.items()}
        assert all(i["score"] <= i["max_score"] for i in body["items"])
        assert body["dimensions"] and body["gate"]["passed"] is False
        assert body["gate"]["reason"].startswith("自评未达到申报条件")

    detail = get(client, gated.xihu_reviewer, f"/api/v1/certification/entries/{entry.pk}").json()
    assert detail["gate_reason"].startswith("自评未达到申报条件")
    assert detail["self_assessment"]["submitted"] and detail["self_assessment"]["total"] == float(
        sa.total
    )
    listing = get(
        client, gated.xihu_reviewer, f"/api/v1/certification/batches/{gated.batch.pk}/entries"
    ).json()
    row = next(e for e in listing["items"] if e["id"] == entry.pk)
    assert row["gate_reason"].startswith("自评未达到申报条件")

    # Another district, another school, another province: 404, and nothing of it shows.
    for user in (gated.sc_school_user, gated.henan_reviewer):
        response = get(client, user, url)
        assert response.status_code == 404
        assert entry.school.name not in response.content.decode()

    # A batch that asks for none says so; no gate applies there.
    plain = Entry.objects.get(batch__code="hz-2024", school=gated.xh_primary)
    body = get(
        client, gated.xihu_reviewer, f"/api/v1/certification/entries/{plain.pk}/self-assessment"
    ).json()
    assert not body["required"] and body["items"] == [] and not body["submitted"]
    assert body["gate"] == {"applies": False, "passed": None, "reason": "", "rule": ""}
    assert body["closed"] == "本批次不要求学校自评"
