"""Security headers and no inline script, on every page of the URL matrix.

Each GET route of ``tests/security/test_url_matrix.py`` is rendered for the role that may see
it (the same two-province world): an HTML page must carry no inline ``<script>`` (one
without ``src``), no ``on…=`` event attribute and no ``javascript:`` link, since the
Content-Security-Policy allows scripts only from our static files; every response carries
the CSP and Referrer-Policy headers, and ``Cache-Control: no-store`` when logged in. HSTS is
sent only when the site runs with secure cookies (HTTPS).
"""

from __future__ import annotations

import os
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from django.test import Client, override_settings

from tests.security.test_url_matrix import URLS, _url, _user, world  # noqa: F401

DATA_SCRIPT_TYPES = {"application/json", "application/ld+json", "text/template"}


class InlineScriptFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        kind = (attributes.get("type") or "").lower()
        if tag == "script" and not attributes.get("src") and kind not in DATA_SCRIPT_TYPES:
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…> at line {self.getpos()[0]}")
            if name in ("href", "src", "action", "formaction") and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…> at line {self.getpos()[0]}")


def inline_scripts(html: str) -> list[str]:
    finder = InlineScriptFinder()
    finder.feed(html)
    return finder.found


def test_the_finder_finds_what_csp_would_block():
    assert inline_scripts('<script src="/static/a.js"></script><p>x</p>') == []
    assert inline_scripts('<script type="application/json">{"a":1}</script>') == []
    assert len(inline_scripts("<script>alert(1)</script>")) == 1
    assert len(inline_scripts('<select onchange="this.form.submit()"></select>')) == 1
    assert len(inline_scripts('<a href="javascript:void(0)">x</a>')) == 1


PAGES = [
    pytest.param(route, id=route or "/")
    for route, case in URLS.items()
    if not case.post_only and case.ok_status == 200
]


@pytest.mark.django_db
@pytest.mark.parametrize("route", PAGES)
def test_page_headers_and_no_inline_script(client, world, route):  # noqa: F811
    case = URLS[route]
    url = _url(route, case, world.a)
    user = _user(world, case, "ok")
    if user is not None and not case.public:
        client.force_login(user)
    if case.cookies:
        for name, value in case.cookies(world.a).items():
            client.cookies[name] = value
    r = client.get(url)
    assert r.status_code == 200, f"GET {url}: {r.status_code}"
    content_type = r.get("Content-Type", "")
    if content_type.startswith("text/html"):
        assert "Content-Security-Policy" in r, url
        policy = r["Content-Security-Policy"]
        assert (
            "script-src 'self'" in policy
            and "unsafe-inline' " not in policy.split("script-src", 1)[1].split(";", 1)[0]
        )
        found = inline_scripts(r.content.decode("utf-8", "replace"))
        assert not found, f"GET {url}: {found}"
    assert r["Referrer-Policy"] == "same-origin"
    if user is not None and not case.public:
        assert "no-store" in r.get("Cache-Control", ""), f"GET {url}: {r.get('Cache-Control')}"
    assert "Strict-Transport-Security" not in r  # plain HTTP, secure cookies off


def test_no_store_is_for_logged_in_users(client, db):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert "no-store" not in r.get("Cache-Control", "")


@pytest.mark.django_db
def test_hsts_only_with_secure_cookies(client):
    assert "Strict-Transport-Security" not in client.get("/accounts/login/", secure=True)
    with override_settings(SECURE_HSTS_SECONDS=31536000):
        r = Client().get("/accounts/login/", secure=True)  # a new client: middleware reloaded
    assert r["Strict-Transport-Security"] == "max-age=31536000"

    def hsts_seconds(secure: str) -> int:
        env = {**os.environ, "EDUPILOT_SECURE_COOKIES": secure}
        out = subprocess.run(
            [sys.executable, "-c", "import edupilot.settings as s; print(s.SECURE_HSTS_SECONDS)"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return int(out.stdout.strip())

    assert hsts_seconds("0") == 0
    assert hsts_seconds("1") == 31536000
