"""The client's address behind a reverse proxy: trusted only from the configured proxies."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from edupilot.core.middleware import TrustedProxyMiddleware


def seen_address(settings, peer: str, forwarded: str | None, trusted: list[str]) -> str:
    settings.EDUPILOT_TRUSTED_PROXIES = trusted
    meta = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/", **meta)
    seen = {}

    def view(req):
        seen["addr"] = req.META["REMOTE_ADDR"]
        return HttpResponse()

    TrustedProxyMiddleware(view)(request)
    return seen["addr"]


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        # nginx on the same host hands on the client's address
        ("127.0.0.1", "203.0.113.7", ["127.0.0.1"], "203.0.113.7"),
        # a client-supplied first hop is ignored: the right-most untrusted hop counts
        ("127.0.0.1", "1.2.3.4, 203.0.113.7", ["127.0.0.1"], "203.0.113.7"),
        # two proxies in a row (a load balancer, then nginx)
        ("10.0.0.2", "203.0.113.7, 10.0.0.1", ["10.0.0.1", "10.0.0.2"], "203.0.113.7"),
        # a client talking to the app directly cannot choose its address
        ("198.51.100.9", "127.0.0.1", ["127.0.0.1"], "198.51.100.9"),
        # nothing configured: the header means nothing
        ("127.0.0.1", "203.0.113.7", [], "127.0.0.1"),
        # a malformed header keeps the proxy's address rather than a guess
        ("127.0.0.1", "not-an-address", ["127.0.0.1"], "127.0.0.1"),
        ("127.0.0.1", None, ["127.0.0.1"], "127.0.0.1"),
    ],
)
def test_client_address_behind_a_proxy(settings, peer, forwarded, trusted, expected):
    assert seen_address(settings, peer, forwarded, trusted) == expected
