"""Accessibility (GB/T 37668, WCAG 2.1 AA) and intranet-readiness of every page, in Chromium.

- axe-core (tests/e2e/package.json, installed by ``scripts/bootstrap.sh --test``) is injected
  into each page and must find no violation of the wcag2a, wcag2aa, wcag21a and wcag21aa rules;
- every request a page makes (scripts, styles, fonts, the OpenAPI page's Swagger UI) goes to
  the live server itself: the site must work on an intranet with no way out.

Every page is every GET page of the URL × role matrix (tests/security/test_url_matrix.py) that
answers 200, seen as the row's granted role; one province of the matrix's world
(tests/builders.py) provides every page's objects. One browser, one context per role.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Error as PlaywrightError

from tests.builders import HENAN, build_province
from tests.certification.conftest import load_standards

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = """async (tags) => {
  const r = await axe.run(document, {
    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
  });
  return {
    passes: r.passes.length,
    violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " → " + n.failureSummary),
    })),
  };
}"""


@dataclass(frozen=True)
class Visit:
    who: str | None  # a key of Province.users; None: not logged in
    path: str
    cookies: dict = field(default_factory=dict)
    status: int = 200
    needs: str = ""  # a selector the page must show (the view under test is really there)


def pages(a) -> list[Visit]:
    """Every GET page of the URL × role matrix (tests/security/test_url_matrix.py) that answers
    200 to some role (logged out where it is public, else as the row's granted role), plus a
    few views the matrix does not reach: a search, the 404 page, and the certification list as
    the county sees it (with the bulk-decision form). Downloads (XLSX, PDF, JSON) are visited
    too and left out of the check when they turn out not to be HTML."""
    from tests.security.test_url_matrix import URLS, _url

    out = [
        Visit(None, "/public/?q=%E5%B0%8F%E5%AD%A6"),
        Visit(None, "/public/calls/no-such-call/", status=404),
        Visit("county", f"/certification/batches/{a.batch.pk}/entries/", needs="#bulk-decide"),
    ]
    for route, case in URLS.items():
        if case.post_only:
            continue
        path = _url(route, case, a)
        if case.anon == 200:
            out.append(Visit(None, path))
        if case.ok_status == 200:
            out.append(Visit(case.ok, path, case.cookies(a) if case.cookies else {}))
    seen: set[tuple] = set()
    unique = [v for v in out if (v.who, v.path) not in seen and not seen.add((v.who, v.path))]
    return sorted(unique, key=lambda v: v.who or "")


def session_cookie(user, base: str) -> dict:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return {"name": name, "value": client.cookies[name].value, "url": base}


@pytest.fixture
def province(transactional_seeded):
    return build_province(HENAN, load_standards())


class Walk:
    """One browser context per role (logged in once), each page checked by axe; every problem
    is collected so that one run reports them all."""

    def __init__(self, browser, base: str, users: dict):
        self.browser, self.base, self.users = browser, base, users
        self.host = urlsplit(base).netloc
        self.pages: dict[str | None, object] = {}
        self.problems: list[str] = []
        self.foreign: set[str] = set()
        self.checked = 0

    def page(self, who: str | None):
        if who not in self.pages:
            # bypass_csp: axe is injected as an inline script, which the site's CSP forbids.
            context = self.browser.new_context(
                locale="zh-CN", viewport={"width": 390, "height": 844}, bypass_csp=True
            )
            context.on("request", self._request)
            if who:
                context.add_cookies([session_cookie(self.users[who], self.base)])
            page = context.new_page()
            page.set_default_timeout(20_000)
            self.pages[who] = page
        return self.pages[who]

    def _request(self, r) -> None:
        parts = urlsplit(r.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != self.host:
            self.foreign.add(r.url)

    def visit(self, v: Visit) -> None:
        page = self.page(v.who)
        label = f"{v.path} ({v.who or 'anonymous'})"
        if v.cookies:
            page.context.add_cookies(
                [{"name": k, "value": val, "url": self.base} for k, val in v.cookies.items()]
            )
        try:
            response = page.goto(self.base + v.path, wait_until="load")
        except PlaywrightError as exc:
            if "Download is starting" in str(exc):
                return  # a file, not a page
            raise
        if response.status != v.status:
            self.problems.append(f"{label}: HTTP {response.status}, expected {v.status}")
            return
        if not response.headers.get("content-type", "").startswith("text/html"):
            return
        if v.path.startswith("/api/v1/docs"):
            page.wait_for_selector(".swagger-ui .info .title")  # drawn by its script
        if v.needs and page.locator(v.needs).count() == 0:
            self.problems.append(f"{label}: {v.needs} is not on the page")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(RUN_AXE, AXE_TAGS)
        if result["passes"] <= 5:
            self.problems.append(f"{label}: axe-core did not run ({result['passes']} passes)")
            return
        self.checked += 1
        for x in result["violations"]:
            self.problems.append(
                f"{label}: [{x['impact']}] {x['id']}: {x['help']}\n    " + "\n    ".join(x["nodes"])
            )

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


def test_every_page_passes_axe_and_asks_no_other_host(browser, live_server, province):
    if not AXE.exists():
        pytest.fail(f"axe-core not found at {AXE}: run `bash scripts/bootstrap.sh --test`")
    walk = Walk(browser, live_server.url, province.users)
    visits = pages(province)
    try:
        for v in visits:
            walk.visit(v)
    finally:
        walk.close()
    assert not walk.problems, f"{len(walk.problems)} problems on {walk.checked} pages:\n" + (
        "\n".join(walk.problems)
    )
    assert walk.checked > 80, f"only {walk.checked} of {len(visits)} visits were HTML pages"
    assert not walk.foreign, f"requests to other hosts: {sorted(walk.foreign)}"


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
