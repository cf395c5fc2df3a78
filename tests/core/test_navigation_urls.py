"""The navigation's URLs are reversed once per process, and still follow the script prefix
and the URLconf (a site mounted under /edu/ links under /edu/)."""

from __future__ import annotations

import types

from django.test import RequestFactory
from django.urls import reverse, set_script_prefix

from edupilot.core import navigation
from edupilot.orgs.models import Role


def _request(role):
    request = RequestFactory().get("/review/")
    request.scope = types.SimpleNamespace(role=role)
    return request


def test_navigation_urls_equal_reverse_under_each_script_prefix(db):
    entries = [e for e in navigation._ENTRIES if Role.APPLICANT in e.roles and e.when is None]
    assert entries
    try:
        for prefix in ("/", "/edu/", "/"):
            set_script_prefix(prefix)
            items = navigation.items_for(_request(Role.APPLICANT))
            expected = [reverse(e.url_name) for e in sorted(entries, key=lambda e: e.order)]
            assert [i["url"] for i in items] == expected
            assert all(i["url"].startswith(prefix) for i in items)
    finally:
        set_script_prefix("/")


def test_an_entry_that_does_not_reverse_is_left_out(db):
    navigation.register("no-such-url-name", "无", {Role.APPLICANT}, order=1)
    try:
        urls = [i["url"] for i in navigation.items_for(_request(Role.APPLICANT))]
        assert urls and all(u for u in urls)
        assert (
            len(urls)
            == len([e for e in navigation._ENTRIES if Role.APPLICANT in e.roles and e.when is None])
            - 1
        )
    finally:
        navigation._ENTRIES[:] = [
            e for e in navigation._ENTRIES if e.url_name != "no-such-url-name"
        ]
