"""Forced password change, login lockout (django-axes) and argon2, through the real views."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.test import override_settings
from django.urls import reverse

from edupilot.accounts import services
from edupilot.accounts.models import User
from edupilot.audit.services import Actor
from edupilot.orgs.models import Role
from tests.conftest import make_school, make_user, org

LOGIN = "accounts:login"


@pytest.fixture(scope="module")
def production_hashers(tmp_path_factory) -> list[str]:
    """PASSWORD_HASHERS as production settings build them (no test switches)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EDUPILOT_TESTING", "DJANGO_SETTINGS_MODULE"))
    }
    env["EDUPILOT_DATA_DIR"] = str(tmp_path_factory.mktemp("prod-settings"))
    env["DJANGO_SETTINGS_MODULE"] = "edupilot.settings"
    code = (
        "import json; from edupilot import settings; print(json.dumps(settings.PASSWORD_HASHERS))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def post_login(client, username, password, ip="10.0.0.1"):
    return client.post(reverse(LOGIN), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_one_time_password_forces_a_change_before_anything_else(client, seeded):
    school = make_school(org("410105"))
    user = make_user(school, username="fc-school")
    cred = services.user_reset_password(user=user, actor=Actor.system())
    r = post_login(client, "fc-school", cred.password)
    assert r.status_code == 302
    for url in (reverse("orgs:browse"), reverse("orgs:mine"), reverse("core:home")):
        r = client.get(url)
        assert r.status_code == 302 and r["Location"] == reverse("accounts:password_change")
    # The one-time password may not simply be kept.
    r = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": cred.password,
            "new_password1": cred.password,
            "new_password2": cred.password,
        },
    )
    assert r.status_code == 200 and "不能与原密码相同" in r.content.decode()
    r = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": cred.password,
            "new_password1": "Zhongyuan-2024-xq",
            "new_password2": "Zhongyuan-2024-xq",
        },
    )
    assert r.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password("Zhongyuan-2024-xq")
    assert client.get(reverse("orgs:mine")).status_code == 302
    assert client.get(reverse("orgs:detail", args=[school.code])).status_code == 200


def test_repeated_failures_lock_the_account_at_the_real_login_view(client, seeded, settings):
    make_user(org("410105"), Role.REVIEWER, username="lock-me", password="Right-pass-2024")
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        r = post_login(client, "lock-me", "wrong")
        assert r.status_code == 200
        assert r.context["form"].non_field_errors()
    r = post_login(client, "lock-me", "wrong")
    assert r.status_code == 429
    assert "暂时锁定" in r.content.decode()
    # Locked: even the right password is refused from that address...
    r = post_login(client, "lock-me", "Right-pass-2024")
    assert r.status_code == 429 and "_auth_user_id" not in client.session
    # ...but a colleague behind another address is not locked out of the same account.
    r = post_login(client, "lock-me", "Right-pass-2024", ip="10.0.0.2")
    assert r.status_code == 302
    # An upper org's reset lifts the lockout.
    client.logout()
    user = User.objects.get(username="lock-me")
    cred = services.user_reset_password(user=user, actor=Actor.system())
    r = post_login(client, "lock-me", cred.password)
    assert r.status_code == 302


def test_production_hashers_store_argon2_and_upgrade_one_time_hashes(
    client, seeded, production_hashers
):
    assert production_hashers[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert not any("MD5" in h for h in production_hashers)
    with override_settings(PASSWORD_HASHERS=production_hashers):
        user = make_user(
            org("410105"), Role.REVIEWER, username="argon", password="Chosen-pass-2024"
        )
        assert identify_hasher(user.password).algorithm == "argon2"
        assert "$m=102400,t=2,p=8$" in user.password  # full strength for chosen passwords
        cred = services.user_reset_password(user=user, actor=Actor.system())
        user.refresh_from_db()
        assert "$m=8192,t=2,p=1$" in user.password  # one-time strength (decision 0102)
        assert post_login(client, "argon", cred.password).status_code == 302
        user.refresh_from_db()
        # Django re-hashed it at the configured strength on the successful login.
        assert "$m=102400,t=2,p=8$" in user.password and user.check_password(cred.password)
        # An old PBKDF2 hash still logs in, and is upgraded to argon2.
        from django.contrib.auth.hashers import make_password

        User.objects.filter(pk=user.pk).update(
            password=make_password("Old-pass-2015", hasher="pbkdf2_sha256"),
            must_change_password=False,
        )
        client.logout()
        assert post_login(client, "argon", "Old-pass-2015").status_code == 302
        user.refresh_from_db()
        assert user.password.startswith("argon2$argon2id$")
