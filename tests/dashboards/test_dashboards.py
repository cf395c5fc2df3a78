"""Dashboards on the URL matrix's two look-alike provinces (tests/builders.py): the numbers by
level against what the builders made, scope (B never sees A), who is refused, the XLSX holding
the page's numbers, local static URLs only, and a fixed number of queries."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.shortcuts import resolve_url
from django.test.utils import CaptureQueriesContext

from edupilot.core.errors import Denied
from edupilot.dashboards import selectors
from edupilot.orgs.models import Org, Role
from edupilot.programmes.models import QuotaAllocation
from edupilot.review.models import ReviewAction, ReviewDecision
from tests.applications.conftest import Who
from tests.conftest import make_school, make_user
from tests.review.conftest import submit_as

pytestmark = pytest.mark.django_db


def rows(table) -> dict[str, list]:
    return {str(r[0]): r[1:] for r in table.rows}


def page(world, key, org_code=None, **params):
    a = world.a
    scope = a.scope(key)
    org = selectors.dashboard_org(scope, org_code)
    return selectors.dashboard(scope, org, params)


def test_progress_by_level_counts_what_the_builders_made(world):
    a = world.a
    quota = sum(
        q.effective for q in QuotaAllocation.objects.filter(programme=a.programme, holder=a.city)
    )
    used = ReviewDecision.objects.filter(
        programme=a.programme, quota_holder=a.city, active=True, action=ReviewAction.RECOMMEND
    ).count()
    assert used == 1  # the city's recommendation of schools[2]

    # The province, by city: six applications in Zhengzhou, five submitted, four recommended
    # (schools[2] by the city itself; schools[3..5] past the whole chain).
    province = page(world, "province")
    assert province.org == a.province and province.programme == a.programme
    progress = province.table("progress")
    assert rows(progress)[a.city.name] == [6, 5, 4, quota, used]
    other_city = next(r for r in progress.rows if r[0] != a.city.name)
    assert other_city[1:4] == [0, 0, 0]
    assert progress.total[1:4] == [6, 5, 4]

    # The city, by county; the county, by school.
    city = page(world, "city")
    assert rows(city.table("progress"))[a.county.name][:3] == [6, 5, 4]
    county = page(world, "county")
    by_school = rows(county.table("progress"))
    assert [by_school[s.name][:3] for s in a.schools] == [
        [1, 0, 0],  # the draft
        [1, 1, 0],  # waiting at the city
        [1, 1, 1],  # recommended by the city
        [1, 1, 1],
        [1, 1, 1],
        [1, 1, 1],
    ]
    # Schools hold no quota: no quota cells.
    assert by_school[a.schools[0].name][3:] == [None, None]


def test_deadlines_and_certification(world):
    a = world.a
    province = page(world, "province")
    deadlines = province.table("deadlines")
    assert deadlines.rows, "the programme is open today: its deadlines lie ahead"
    whens = [r[1] for r in deadlines.rows]
    assert whens == sorted(whens) and all(r[2] >= 0 for r in deadlines.rows)
    # The one application waiting at the city's review shows as that stage's work to do.
    assert sum(r[3] or 0 for r in deadlines.rows if "推荐" in r[0] or "初审" in r[0]) >= 1

    cert = province.table("certification")
    assert province.batch == a.batch
    # Six schools of Zhengzhou in the city's batch, all still waiting for a conclusion.
    assert rows(cert)[a.city.name] == [6, 6, 1.0, 0, 0, 0, 6]
    county = page(world, "county")
    assert rows(county.table("certification"))[a.schools[0].name] == [1, 1, 1.0, 0, 0, 0, 1]


def test_drilling_down_stays_in_scope(world, client):
    a, b = world.a, world.b
    city = page(world, "province", a.city.code)
    assert city.org == a.city and [o.code for o in city.breadcrumbs] == [a.province.code]
    # Above one's own region, or in the other province: not found.
    with pytest.raises(Exception) as exc:
        page(world, "county", a.city.code)
    assert exc.value.__class__.__name__ == "Http404"
    client.force_login(b.users["province"])
    assert client.get(f"/dashboards/{a.city.code}/").status_code == 404
    assert client.get(f"/dashboards/{a.city.code}/progress.xlsx").status_code == 404
    # A school is no region: the county may not open a "dashboard" of it.
    client.force_login(a.users["county"])
    assert client.get(f"/dashboards/{a.schools[0].code}/").status_code == 403


def test_another_provinces_numbers_never_appear(world, client):
    a, b = world.a, world.b
    client.force_login(b.users["province"])
    body = client.get("/dashboards/").content.decode()
    assert b.province.name in body
    for marker in ("矩阵A", a.programme.title, a.city.name, a.batch.name):
        assert marker not in body
    # B's own applications are counted, A's are not.
    data = selectors.dashboard(b.scope("province"), b.province, {})
    assert data.table("progress").total[1] == 6


@pytest.mark.parametrize("key", ["applicant", "expert"])
def test_schools_and_experts_are_refused(world, client, key):
    client.force_login(world.a.users[key])
    response = client.get("/dashboards/")
    assert response.status_code == 403
    assert "统计看板" in response.content.decode()
    with pytest.raises(Denied):
        selectors.dashboard_org(world.a.scope(key))


def test_anonymous_goes_to_login(world, client):
    for url in ("/dashboards/", f"/dashboards/{world.a.city.code}/progress.xlsx"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def test_a_units_reviewer_has_no_region(world, client):
    unit = Org.objects.create(
        code="MXAUNIT", name="郑州市电教馆矩阵", kind="unit", parent=world.a.city
    )
    client.force_login(make_user(unit, Role.REVIEWER, "dash_unit"))
    assert client.get("/dashboards/").status_code == 403
    # … and its navigation does not offer the page that would refuse it.
    assert 'href="/dashboards/"' not in client.get("/review/").content.decode()


def xlsx_rows(response) -> list[tuple]:
    content = b"".join(response.streaming_content)
    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


@pytest.mark.parametrize("key", ["progress", "deadlines", "certification"])
def test_xlsx_holds_the_tables_numbers(world, client, key):
    a = world.a
    client.force_login(a.users["province"])
    response = client.get(f"/dashboards/{a.province.code}/{key}.xlsx?programme={a.programme.pk}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = xlsx_rows(response)
    table = page(world, "province").table(key)
    assert sheet[1] == tuple(table.headers)
    body = sheet[2:]
    expected = table.rows + ([table.total] if table.total else [])
    assert len(body) == len(expected)
    for got, want in zip(body, expected, strict=True):
        for g, w in zip(got, want, strict=True):
            if isinstance(w, int | float) and not isinstance(w, bool):
                assert g == pytest.approx(w)
            elif w is None:
                assert g is None
            elif hasattr(w, "tzinfo"):
                continue  # datetimes: written in Beijing time, checked by documents' tests
            else:
                assert g == str(w)


def test_page_shows_tables_and_references_only_local_static_files(world, client):
    a = world.a
    client.force_login(a.users["province"])
    response = client.get("/dashboards/")
    assert response.status_code == 200
    html = response.content.decode()
    # The numbers are in tables (the source of truth), the chart data in JSON, no inline code.
    assert "<table>" in html and f'<th scope="row"><a href="/dashboards/{a.city.code}/' in html
    assert '<script id="chart-progress" type="application/json">' in html
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    for attrs, body in scripts:
        if "application/json" not in attrs:
            assert "src=" in attrs and not body.strip(), f"an inline script: {attrs}"
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls
    for url in urls:
        assert not re.match(r"^(?:[a-z]+:)?//", url, re.I), f"a URL to another host: {url}"
    static = [u for u in urls if u.startswith(settings.STATIC_URL)]
    assert any("echarts" in u and u.endswith("echarts.min.js") for u in static)
    for url in static:
        assert finders.find(url[len(settings.STATIC_URL) :]), f"missing static file {url}"


def test_navigation_links_reviewers_only(world, client):
    a = world.a
    client.force_login(a.users["city"])
    assert 'href="/dashboards/"' in client.get("/review/").content.decode()
    client.force_login(a.users["applicant"])
    assert 'href="/dashboards/"' not in client.get("/applications/").content.decode()


def test_a_fixed_number_of_queries(world):
    a = world.a
    scope = a.scope("province")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            data = selectors.dashboard(scope, a.province, {})
            for t in data.tables:
                t.display  # noqa: B018 - everything the page reads
        return len(ctx), data

    few, before = count()
    # More schools and applications in another city and county change no query count.
    other = Org.objects.get(code="410300")  # 洛阳市
    county = Org.objects.filter(parent=other).order_by("path").first()
    for i in range(4):
        school = make_school(county, name=f"洛阳加测{i}小学", stages=",primary,")
        submit_as(Who(school), a.programme, a.spec.category, **dict(a.spec.form))
    many, after = count()
    assert after.table("progress").total[1] == before.table("progress").total[1] + 4
    assert many == few
    assert few <= 20


def test_waiting_counts_at_the_panel_and_the_issuers_decision(world):
    """Issue 11 §3: the deadlines' 待办 at the expert panel and the approval are counted,
    not "—": an application SUBMITTED at the panel's step of its chain waits for the
    experts, a RECOMMENDED one for the issuer's decision."""
    from edupilot.applications.models import Application, AppState
    from edupilot.dashboards.queues import APPROVAL, waiting_by_stage

    a = world.a
    apps = Application.objects.filter(programme=a.programme)
    category = a.recommended.category
    before = waiting_by_stage(apps)
    assert before[(category, APPROVAL)] == apps.filter(state=AppState.RECOMMENDED).count() >= 1
    assert before[(category, "city")] >= 1  # a.waiting, at the city's review
    # The recommended one at a panel step placed after its reviews: the experts' queue.
    panel = {"level": "experts", "kind": "expert_scoring", "org": a.province.pk}
    chain = [*a.recommended.chain, panel]
    Application.objects.filter(pk=a.recommended.pk).update(
        state=AppState.SUBMITTED, chain=chain, current_step=len(chain) - 1
    )
    after = waiting_by_stage(apps)
    assert after[(category, "experts")] == before.get((category, "experts"), 0) + 1
    assert after.get((category, APPROVAL), 0) == before[(category, APPROVAL)] - 1
    # On the page: a stage with a deadline and waiting applications shows its number.
    spec = a.programme.parsed.category(category)
    assert selectors._at_stage(after, spec, spec.stage("experts")) >= 1
    assert selectors._at_stage(after, spec, spec.stage("approval")) is not None
    assert selectors._at_stage(after, spec, spec.stage("announcement")) is None


def test_the_published_announcement_shows_when_it_ends(world):
    """The 公示's row carries its objection period's end (the published announcement's), not
    "—" or nothing because the programme file gives the stage no date."""
    a = world.a
    category = a.programme.parsed.category(a.approved.category)
    deadlines = page(world, "province").table("deadlines")
    label = f"{category.name}：{category.stage_of('announcement').name}"
    (row,) = [r for r in deadlines.rows if r[0] == label]
    assert row[1] == a.announcement.objection_until
    (shown,) = [d for d in deadlines.display if d["label"] == label]
    assert shown["cells"][0] != "—" and shown["cells"][0].startswith(
        f"{a.announcement.objection_until:%Y}-"
    )
