"""A request larger than the largest allowed upload is refused with 413 before its body is read."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from django.conf import settings

MB = 1024 * 1024


def test_an_oversized_declared_body_is_refused_with_413(client):
    too_big = (settings.EDUPILOT_MAX_REQUEST_MB + 1) * MB
    r = client.post(
        "/accounts/login/",
        data=b"x",
        content_type="application/octet-stream",
        CONTENT_LENGTH=str(too_big),
    )
    assert r.status_code == 413
    assert "超过了" in r.content.decode() and "MB 的上限" in r.content.decode()


def test_a_body_within_the_limit_goes_on(db, client):
    r = client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert r.status_code != 413


def test_the_server_answers_413_without_waiting_for_the_body(live_server):
    """Only the headers are sent: the answer comes anyway, so the body was never read."""
    url = urlsplit(live_server.url)
    too_big = (settings.EDUPILOT_MAX_REQUEST_MB + 1) * MB
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(
            (
                "POST /applications/ HTTP/1.1\r\n"
                f"Host: {url.hostname}\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n"
                f"Content-Length: {too_big}\r\n\r\n"
            ).encode()
        )
        status_line = sock.makefile("rb").readline().decode()
    assert " 413 " in status_line
