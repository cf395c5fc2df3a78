"""Every form page, fuzzed: GET the page as the role that may use it, then POST each of its
forms with hypothesis-made text in its text fields (control characters, long and odd
strings, numbers too large for a column) and the rest as the page filled them: 0 × 5xx.

The pages and the objects that fill their URLs come from the URL matrix (one row per
route), so a new page is fuzzed as soon as it has its row. Bounded: a few derandomized
examples per form; each example rolls back.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import build_world
from tests.security.test_url_matrix import URLS, _url

EXAMPLES = 3  # per form
TEXT_TYPES = {"text", "search", "email", "tel", "url", "number", "date", "datetime-local", ""}
SKIP_ROUTES = {
    "accounts/logout/",  # logs the fuzzer out; nothing typed
    "accounts/login/",  # django-axes locks the address out after a few tries, by design
}


class Forms(HTMLParser):
    """The POST forms of a page: targets, the fields to fuzz and the ones to keep."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            # A form may post to two places (an htmx autosave and its own action): both.
            targets = [a["hx-post"]] if a.get("hx-post") else []
            if a.get("method", "get").lower() == "post":
                targets.append(a.get("action", ""))
            self._form = {"targets": targets, "fuzz": [], "keep": {}} if targets else None
            if self._form is not None:
                self.forms.append(self._form)
            return
        if self._form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "").lower()
            if kind in TEXT_TYPES:
                self._form["fuzz"].append(name)
            elif kind in ("hidden", "submit") or (kind in ("checkbox", "radio") and "checked" in a):
                self._form["keep"].setdefault(name, a.get("value", "on"))
        elif tag == "textarea":
            self._form["fuzz"].append(name)
        elif tag == "select":
            self._select = name
            self._form["fuzz"].append(name)
        elif tag == "button" and a.get("value"):
            self._form["keep"].setdefault(name, a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


# Text a person (or a pasted document, or an attacker) might put in a field.
NASTY = st.sampled_from(
    [
        "\x00",
        "张三\x00",
        "\x0b\x0c\x1b",
        "9" * 25,
        "-1",
        "1e999",
        "9" * 5000,
        "x" * 30_000,
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "２０２４－０１－０１",
        "\ufeff",
        "",
    ]
)
FUZZ_TEXT = st.one_of(NASTY, st.text(max_size=400))


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The URL matrix's two provinces, in a transaction held open for the module."""
    from tests.conftest import seed_database

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            from edupilot.orgs.models import Org

            if not Org.objects.filter(code="410000").exists():
                seed_database()
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def form_routes():
    return [
        pytest.param(route, id=route or "/")
        for route, case in URLS.items()
        if not case.post_only and case.ok_status == 200 and route not in SKIP_ROUTES
    ]


def fuzz_form(client, target: str, keep: dict, fields: list[str]) -> list[str]:
    """POST ``target`` with nasty text in every field at once, then with fuzzed fields."""
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(values=st.fixed_dictionaries({name: FUZZ_TEXT for name in fields}))
    def post(values):
        sid = transaction.savepoint()
        try:
            response = client.post(target, {**keep, **values})
            if response.status_code >= 500:
                failures.append(f"POST {target} {sorted(values.items())[:4]!r:.300}")
        finally:
            transaction.savepoint_rollback(sid)

    for nasty in ("张三\x00", "9" * 25, "x" * 30_000):
        post.hypothesis.inner_test({name: nasty for name in fields})
    post()
    return failures


@pytest.mark.django_db
@pytest.mark.parametrize("route", form_routes())
def test_fuzzed_form_posts_never_answer_5xx(client, world, route):
    case = URLS[route]
    url = _url(route, case, world.a)
    if not case.public:
        client.force_login(world.a.users[case.ok])
    page = client.get(url)
    assert page.status_code < 500
    if "html" not in page.get("Content-Type", ""):
        return
    parser = Forms()
    parser.feed(page.content.decode("utf-8", "replace"))
    failures: list[str] = []
    posts = [(urljoin(url, t or url), form) for form in parser.forms for t in form["targets"]]
    for target, form in posts:
        if not target.startswith("/") or "logout" in target:
            continue
        fields, keep = form["fuzz"], form["keep"]
        if not fields:
            continue

        failures += fuzz_form(client, target, keep, fields)
    assert not failures, "\n".join(failures)
