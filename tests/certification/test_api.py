"""Certification over the API: the same scope as the pages, tried across it."""

from __future__ import annotations

from .conftest import GOOD, export_rows


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
