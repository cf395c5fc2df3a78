"""API tokens: made, listed and revoked on their page; used from another process against a live
server with ``Authorization: Bearer …``, in the token's scope only, refused after revocation
and expiry, a read-only token refused on writes; every use audited with the token's name."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from edupilot.audit.models import AuditEvent
from edupilot.audit.services import Actor
from edupilot.orgs.models import Role
from edupilot.tokens import services
from edupilot.tokens.models import ApiToken
from tests.conftest import make_school, make_user, org

CALLER = r"""
import json, sys, urllib.request, urllib.error
base, calls = sys.argv[1], json.loads(sys.argv[2])
out = []
for token, method, path, body in calls:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            out.append([r.status, r.read().decode()])
    except urllib.error.HTTPError as e:
        out.append([e.code, e.read().decode()])
print(json.dumps(out))
"""


def call(base: str, *calls) -> list[tuple[int, dict | list | str]]:
    """Run the calls from another process (no cookies, no CSRF token): [(status, body)]."""
    done = subprocess.run(
        [sys.executable, "-c", CALLER, base, json.dumps(calls)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = []
    for status, body in json.loads(done.stdout):
        with contextlib.suppress(ValueError):
            body = json.loads(body)
        out.append((status, body))
    return out


def make_token(membership, *, read_only=True, name="省平台数据交换"):
    return services.token_create(
        membership=membership, name=name, read_only=read_only, days=30, actor=Actor.system()
    )


# --- from another process ----------------------------------------------------------------------


def test_a_token_reads_its_scope_only_and_stops_when_revoked_or_expired(
    live_server, transactional_seeded
):
    county = make_user(org("金水区"), Role.REVIEWER)
    mine = make_school(org("金水区"), name="金水区令牌小学")
    theirs = make_school(org("330106"), name="西湖区令牌小学")
    ro = make_token(county.memberships.get())
    rw = make_token(county.memberships.get(), read_only=False, name="市平台读写")
    base = live_server.url

    got = call(
        base,
        [ro.secret, "GET", f"/api/v1/orgs/{mine.code}", None],
        [ro.secret, "GET", f"/api/v1/orgs/{theirs.code}", None],  # another province's school
        [ro.secret, "GET", "/api/v1/orgs/410100", None],  # the city above
        [ro.secret, "GET", "/api/v1/orgs/?q=" + quote("令牌小学"), None],
        [ro.secret, "POST", "/api/v1/review/999999/recommend", {"opinion": "同意"}],
        [rw.secret, "POST", "/api/v1/review/999999/recommend", {"opinion": "同意"}],
        [None, "GET", "/api/v1/orgs/", None],
        ["edp_not-a-token", "GET", "/api/v1/orgs/", None],
    )
    statuses = [s for s, _ in got]
    assert statuses == [200, 404, 404, 200, 403, 404, 401, 401], got
    assert got[0][1]["name"] == "金水区令牌小学"
    assert [o["name"] for o in got[3][1]["items"]] == ["金水区令牌小学"]
    assert "只读" in got[4][1]["message"]  # a read-only token may not write: 403 JSON
    # The read-write token passed authentication without any CSRF token: the 404 is the view's.

    uses = AuditEvent.objects.filter(action="tokens.use").order_by("id")
    assert [e.after["name"] for e in uses] == ["省平台数据交换"] * 5 + ["市平台读写"]
    assert uses[4].after["refused"] == "read_only" and uses[4].after["method"] == "POST"
    assert all(e.actor_id == county.pk and e.actor_org_id == org("金水区").pk for e in uses)
    assert ApiToken.objects.get(pk=ro.token.pk).last_used_at is not None

    services.token_revoke(token=ro.token, actor=Actor(user=county))
    ApiToken.objects.filter(pk=rw.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    got = call(
        base,
        [ro.secret, "GET", f"/api/v1/orgs/{mine.code}", None],
        [rw.secret, "GET", f"/api/v1/orgs/{mine.code}", None],
    )
    assert [s for s, _ in got] == [401, 401], got
    assert AuditEvent.objects.filter(action="tokens.use").count() == 6


def test_a_token_of_a_deactivated_membership_stops(live_server, transactional_seeded):
    county = make_user(org("金水区"), Role.REVIEWER)
    t = make_token(county.memberships.get())
    assert call(live_server.url, [t.secret, "GET", "/api/v1/orgs/410105", None])[0][0] == 200
    county.memberships.update(is_active=False)
    assert call(live_server.url, [t.secret, "GET", "/api/v1/orgs/410105", None])[0][0] == 401


# --- the page ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_secret_is_shown_once_and_only_its_hash_is_kept(client, seeded):
    user = make_user(org("金水区"), Role.REVIEWER)
    m = user.memberships.get()
    client.force_login(user)
    r = client.post(
        "/tokens/", {"name": "省平台", "membership": m.pk, "access": "read", "days": "90"}
    )
    assert r.status_code == 200
    token = ApiToken.objects.get(membership=m)
    secret = r.context["created"].secret
    assert secret.startswith("edp_") and secret in r.content.decode()
    assert token.token_hash == services.token_hash(secret) and secret not in token.token_hash
    assert token.read_only and token.prefix == secret[:12]
    assert (token.expires_at - timezone.now()).days in (89, 90)
    page = client.get("/tokens/").content.decode()
    assert "省平台" in page and token.prefix in page and secret not in page
    assert AuditEvent.objects.filter(action="tokens.create", object_id=str(token.pk)).exists()


@pytest.mark.django_db
def test_bad_input_is_refused_and_kept(client, seeded):
    user = make_user(org("金水区"), Role.REVIEWER)
    other = make_user(org("郑州市"), Role.REVIEWER)
    client.force_login(user)
    m = user.memberships.get()
    r = client.post("/tokens/", {"name": "", "membership": m.pk, "access": "read", "days": "90"})
    assert r.status_code == 200 and "这个字段是必填项" in r.content.decode()
    r = client.post(
        "/tokens/", {"name": "借用", "membership": other.memberships.get().pk, "days": "7"}
    )
    body = r.content.decode()
    assert r.status_code == 200 and 'value="借用"' in body
    assert set(r.context["form"].errors) == {"membership", "access", "days"}
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_nobody_sees_or_revokes_anothers_token(client, seeded):
    owner = make_user(org("金水区"), Role.REVIEWER)
    admin = make_user(org("金水区"), Role.PROGRAMME_ADMIN)
    t = make_token(owner.memberships.get())
    client.force_login(admin)
    assert "省平台数据交换" not in client.get("/tokens/").content.decode()
    assert client.post(f"/tokens/{t.token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=t.token.pk).revoked_at is None
    client.force_login(owner)
    r = client.post(f"/tokens/{t.token.pk}/revoke/", follow=True)
    assert "已撤销" in r.content.decode()
    assert ApiToken.objects.get(pk=t.token.pk).revoked_at is not None


@pytest.mark.django_db
def test_openapi_documents_the_bearer_scheme(client):
    schema = client.get("/api/v1/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["TokenAuth"]["type"] == "http" and schemes["TokenAuth"]["scheme"] == "bearer"
    op = schema["paths"]["/api/v1/orgs/"]["get"]
    assert {"TokenAuth": []} in op["security"] and {"SessionAuth": []} in op["security"]
