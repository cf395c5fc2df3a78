"""The dashboard in Chromium with the site's Content-Security-Policy on: ECharts (served from
/static/vendor/) draws every chart from its JSON, nothing is blocked and no other host is
asked; with JavaScript off the charts stay hidden and the tables carry every number."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.builders import HENAN, build_province
from tests.certification.conftest import load_standards
from tests.e2e.test_a11y import session_cookie

pytestmark = pytest.mark.e2e


@pytest.fixture
def province(transactional_seeded):
    return build_province(HENAN, load_standards())


def test_charts_draw_under_csp_and_tables_stand_without_js(browser, live_server, province):
    base = live_server.url
    host = urlsplit(base).netloc
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.add_cookies([session_cookie(province.users["province"], base)])
    page = context.new_page()
    hosts, problems = set(), []
    page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security" in m.text else None,
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{base}/dashboards/")
    page.wait_for_load_state("networkidle")
    charts = page.locator(".chart")
    assert charts.count() >= 3
    for i in range(charts.count()):
        chart = charts.nth(i)
        assert chart.is_visible()
        assert chart.locator("canvas").count() >= 1
    page.screenshot(path="test-results/dashboard.png", full_page=True)
    assert not problems, problems
    assert hosts == {host}
    context.close()

    off = browser.new_context(locale="zh-CN", java_script_enabled=False)
    off.add_cookies([session_cookie(province.users["province"], base)])
    page = off.new_page()
    page.goto(f"{base}/dashboards/")
    assert page.locator(".chart").first.is_hidden()
    first_row = page.locator("#cap-progress").locator("xpath=..").locator("tbody tr").first
    assert province.city.name in first_row.inner_text()
    off.close()
