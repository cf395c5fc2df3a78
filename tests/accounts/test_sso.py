"""Single sign-on against a real OpenID Connect provider (django-oidc-provider) that runs in its
own process on loopback (tests/oidc_provider). A browser-like ``requests.Session`` follows the
redirects across both servers: EduPilot → the provider's authorize and login pages → EduPilot's
callback, which exchanges the code with the provider server-to-server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from edupilot.accounts.models import User
from edupilot.audit.models import AuditEvent
from edupilot.orgs.models import Membership, Org, OrgKind, Role
from tests.conftest import make_user

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "edupilot-test"
CLIENT_SECRET = "client-secret-for-tests"
KNOWN = ("sso-known", "op-Pass-1", "known@bureau.example")
ONE_TIME = ("sso-onetime", "op-Pass-2", "onetime@bureau.example")
STRANGER = ("sso-stranger", "op-Pass-3", "stranger@bureau.example")
LOGIN_PATH = "/accounts/login/"


@pytest.fixture(scope="module")
def provider(live_server):
    """The provider's base URL; it knows three people, EduPilot only two of them."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(ROOT)
    users = [":".join(u) for u in (KNOWN, ONE_TIME, STRANGER)]
    callback = f"{live_server.url}/accounts/sso/callback/"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.oidc_provider.serve", CLIENT_ID, CLIENT_SECRET, callback]
        + users,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("READY "), f"the provider did not start: {line!r}"
        yield line.split()[1]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def sso(settings, provider):
    """EduPilot configured as a deployment would be, from the provider's discovery document."""
    conf = requests.get(f"{provider}/openid/.well-known/openid-configuration", timeout=10).json()
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = conf["authorization_endpoint"]
    settings.OIDC_OP_TOKEN_ENDPOINT = conf["token_endpoint"]
    settings.OIDC_OP_USER_ENDPOINT = conf["userinfo_endpoint"]
    settings.OIDC_OP_JWKS_ENDPOINT = conf["jwks_uri"]
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.EDUPILOT_OIDC_MATCH_CLAIM = "preferred_username"
    settings.EDUPILOT_OIDC_MATCH_FIELD = "username"
    return provider


@pytest.fixture
def people(transactional_db):
    bureau = Org.objects.create(code="SSO-T-410000", name="单点登录测试省", kind=OrgKind.PROVINCE)
    known = make_user(bureau, Role.REVIEWER, username=KNOWN[0])
    onetime = make_user(bureau, Role.REVIEWER, username=ONE_TIME[0])
    onetime.must_change_password = True
    onetime.save(update_fields=["must_change_password"])
    return known, onetime


def sso_login(base: str, provider: str, who: tuple[str, str, str]):
    """Click the SSO button, sign in at the provider, come back; the final response."""
    s = requests.Session()
    page = s.get(f"{base}{LOGIN_PATH}", timeout=10)
    assert "统一身份认证登录" in page.text
    r = s.get(f"{base}/accounts/sso/login/?next=/notifications/", timeout=10)
    assert r.url.startswith(f"{provider}/login/"), r.url  # the provider asks who this is
    nxt = parse_qs(urlparse(r.url).query)["next"][0]
    r = s.post(
        r.url,
        data={
            "csrfmiddlewaretoken": s.cookies["op_csrftoken"],
            "username": who[0],
            "password": who[1],
            "next": nxt,
        },
        timeout=20,
    )
    return s, r


def test_a_known_person_logs_in_through_the_provider(live_server, sso, people):
    known, _ = people
    memberships = Membership.objects.count()
    s, r = sso_login(live_server.url, sso, KNOWN)
    assert r.status_code == 200
    assert r.url == f"{live_server.url}/notifications/"  # where the login started
    assert s.get(f"{live_server.url}/accounts/password/", timeout=10).status_code == 200
    event = AuditEvent.objects.filter(action="auth.login").latest("id")
    assert event.actor_id == known.pk and event.after["method"] == "oidc"
    assert Membership.objects.count() == memberships
    assert User.objects.filter(username=STRANGER[0]).count() == 0


def test_a_one_time_password_must_still_be_changed_after_sso(live_server, sso, people):
    s, r = sso_login(live_server.url, sso, ONE_TIME)
    assert r.url == f"{live_server.url}/accounts/password/"


def test_an_unknown_person_is_refused_and_nothing_is_created(live_server, sso, people):
    users, memberships = User.objects.count(), Membership.objects.count()
    s, r = sso_login(live_server.url, sso, STRANGER)
    assert r.url == f"{live_server.url}{LOGIN_PATH}"
    assert "统一身份认证账号“sso-stranger”在本平台没有对应的账号" in r.text
    assert (User.objects.count(), Membership.objects.count()) == (users, memberships)
    # Not logged in: a page sends it back to the login form.
    home = s.get(f"{live_server.url}/notifications/", timeout=10)
    assert home.url.startswith(f"{live_server.url}{LOGIN_PATH}")
    event = AuditEvent.objects.filter(action="auth.login_failed").latest("id")
    assert event.after["username"] == STRANGER[0] and event.after["method"] == "oidc"
    assert event.actor_id is None


def test_matching_by_email_when_configured(live_server, sso, people, settings):
    known, _ = people
    known.email = KNOWN[2]
    known.save(update_fields=["email"])
    settings.EDUPILOT_OIDC_MATCH_CLAIM = "email"
    settings.EDUPILOT_OIDC_MATCH_FIELD = "email"
    s, r = sso_login(live_server.url, sso, KNOWN)
    assert r.url == f"{live_server.url}/notifications/"
    assert AuditEvent.objects.filter(action="auth.login").latest("id").actor_id == known.pk


def test_password_login_still_works_beside_sso(live_server, sso, people):
    s = requests.Session()
    s.get(f"{live_server.url}{LOGIN_PATH}", timeout=10)
    r = s.post(
        f"{live_server.url}{LOGIN_PATH}",
        data={
            "csrfmiddlewaretoken": s.cookies["csrftoken"],
            "username": KNOWN[0],
            "password": "pass-Word-123",
        },
        headers={"Referer": f"{live_server.url}{LOGIN_PATH}"},
        timeout=10,
    )
    assert r.status_code == 200 and not r.url.startswith(f"{live_server.url}{LOGIN_PATH}")
    event = AuditEvent.objects.filter(action="auth.login").latest("id")
    assert "method" not in event.after


@pytest.mark.django_db
def test_sso_is_off_unless_configured(client):
    assert "统一身份认证" not in client.get(LOGIN_PATH).content.decode()
    assert client.get("/accounts/sso/login/").status_code == 404
    assert client.get("/accounts/sso/callback/?code=x&state=y").status_code == 404
