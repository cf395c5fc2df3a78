"""Accessibility (GB/T 37668, WCAG 2.1 AA) and intranet-readiness of the key pages, in Chromium.

- axe-core (tests/e2e/package.json, installed by ``scripts/bootstrap.sh --test``) is injected
  into each page and must find no violation of the wcag2a, wcag2aa, wcag21a and wcag21aa rules;
- every request a page makes (scripts, styles, fonts, the OpenAPI page's Swagger UI) goes to
  the live server itself: the site must work on an intranet with no way out.

One province of the URL matrix's world (tests/builders.py) provides every page's objects.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from tests.builders import HENAN, build_province
from tests.certification.conftest import load_standards

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = """async (tags) => {
  const r = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return {
    passes: r.passes.length,
    violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " → " + n.failureSummary),
    })),
  };
}"""


def key_pages(a) -> list[tuple[str | None, str]]:
    """(who, path): the pages people use most, one per kind, logged out first."""
    return [
        (None, "/"),
        (None, "/accounts/login/"),
        (None, "/public/"),
        (None, "/public/?q=%E5%B0%8F%E5%AD%A6"),
        (None, f"/public/calls/{a.programme.code}/"),
        (None, "/public/announcements/"),
        (None, f"/public/announcements/{a.announcement.pk}/"),
        (None, "/public/certified/"),
        (None, "/public/calls/no-such-call/"),  # the 404 page
        ("applicant", "/applications/"),
        ("applicant", f"/applications/{a.draft.pk}/edit/"),
        ("county", "/review/"),
        ("city", f"/review/{a.waiting.pk}/"),
        ("admin", f"/review/selection/{a.programme.pk}/"),
        ("admin", f"/review/selection/{a.programme.pk}/announcements/"),
        ("admin", f"/programmes/{a.programme.code}/"),
        ("expert", f"/review/expert/{a.assignment.pk}/"),
        ("city_admin", f"/certification/batches/{a.batch.pk}/"),
        ("county", "/pilots/"),
        ("province", "/dashboards/"),
    ]


def session_cookie(user, base: str) -> dict:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return {"name": name, "value": client.cookies[name].value, "url": base}


@pytest.fixture
def province(transactional_seeded):
    return build_province(HENAN, load_standards())


def test_key_pages_pass_axe_and_ask_no_other_host(browser, live_server, province):
    if not AXE.exists():
        pytest.fail(f"axe-core not found at {AXE}: run `bash scripts/bootstrap.sh --test`")
    base = live_server.url
    host = urlsplit(base).netloc
    problems: list[str] = []
    foreign: set[str] = set()
    checked: list[str] = []
    current_user = object()
    context = None
    for who, path in key_pages(province):
        if who != current_user:
            if context is not None:
                context.close()
            # bypass_csp: axe is injected as an inline script, which the site's CSP forbids.
            context = browser.new_context(
                locale="zh-CN", viewport={"width": 390, "height": 844}, bypass_csp=True
            )
            context.on(
                "request",
                lambda r: (
                    foreign.add(r.url)
                    if urlsplit(r.url).scheme in ("http", "https", "ws", "wss")
                    and urlsplit(r.url).netloc != host
                    else None
                ),
            )
            if who:
                context.add_cookies([session_cookie(province.users[who], base)])
            page = context.new_page()
            page.set_default_timeout(20_000)
            current_user = who
        response = page.goto(base + path)
        expected = 404 if "no-such" in path else 200
        if response.status != expected:
            problems.append(f"{path} ({who or 'anonymous'}): HTTP {response.status}")
            continue
        page.wait_for_load_state("networkidle")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(RUN_AXE, AXE_TAGS)
        assert result["passes"] > 5, f"axe-core did not run on {path}"
        checked.append(path)
        for v in result["violations"]:
            problems.append(
                f"{path} ({who or 'anonymous'}): [{v['impact']}] {v['id']}: {v['help']}\n    "
                + "\n    ".join(v["nodes"])
            )
    if context is not None:
        context.close()
    assert not problems, "axe-core found:\n" + "\n".join(problems)
    assert len(checked) == len(key_pages(province))
    assert not foreign, f"requests to other hosts: {sorted(foreign)}"


def test_api_docs_load_swagger_ui_from_this_server(page, live_server, province):
    base = live_server.url
    host = urlsplit(base).netloc
    hosts = set()
    page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
    page.context.add_cookies([session_cookie(province.users["county"], base)])
    page.goto(f"{base}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "EduPilot API" in page.inner_text(".swagger-ui .info .title")
    assert hosts == {host}
