"""No silent takeover (issue 12 §5): an upper org's reset is never silent, and logins,
failures and lockouts are audited (§3)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from edupilot.accounts import services
from edupilot.accounts.models import CredentialSheet, PasswordHandover, User
from edupilot.accounts.templatetags.handover import handover_mark
from edupilot.audit.models import AuditEvent
from edupilot.audit.services import Actor, audit_record, audit_verify
from edupilot.core.models import Notification
from edupilot.orgs.models import Org, OrgKind, Role
from tests.conftest import make_user, org
from tests.core import test_notifications

PASSWORD = "pass-Word-123"
smtp = test_notifications.smtp  # the fixture: a real SMTP server on loopback


@pytest.fixture
def people(seeded):
    """A province reviewer above a city reviewer (with an e-mail address), and a peer."""
    province = make_user(org("410000"), Role.REVIEWER, username="prov-rev")
    city = make_user(org("410100"), Role.REVIEWER, username="zz-rev")
    city.email = "zz-rev@example.cn"
    city.save(update_fields=["email"])
    return {"province": province, "city": city}


def reset(client, target, reason="郑州市审核人调岗，交接账号", password=PASSWORD):
    return client.post(
        reverse("accounts:reset", args=[target.pk]), {"reason": reason, "password": password}
    )


def test_reset_asks_for_a_reason_and_the_resetters_own_password(client, people):
    client.force_login(people["province"])
    url = reverse("accounts:reset", args=[people["city"].pk])
    page = client.get(url).content.decode()
    assert "重置理由" in page and "您本人的登录密码" in page
    before = people["city"].password
    r = reset(client, people["city"], reason="   ")
    assert r.status_code == 200 and "请填写重置理由" in r.content.decode()
    r = reset(client, people["city"], password="not-my-password")
    assert r.status_code == 200 and "密码不正确" in r.content.decode()
    assert "郑州市审核人调岗" in r.content.decode()  # what was typed is kept
    people["city"].refresh_from_db()
    assert people["city"].password == before and not people["city"].must_change_password
    assert not AuditEvent.objects.filter(action="user.password_reset").exists()
    # The wrong password was a failed authentication, audited like one.
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.after == {"username": "prov-rev", "path": url}


def test_owner_is_told_in_app_and_by_mail_and_the_sheet_opens_once(
    client,
    people,
    smtp,
    django_capture_on_commit_callbacks,
):
    client.force_login(people["province"])
    with django_capture_on_commit_callbacks(execute=True):
        r = reset(client, people["city"])
    assert r.status_code == 302
    sheet_url = r["Location"]
    cred = client.get(sheet_url).context["entries"][0]
    people["city"].refresh_from_db()
    assert people["city"].check_password(cred.password)
    # Once: a second look shows that it is gone, and the server no longer holds it.
    again = client.get(sheet_url)
    assert again.status_code == 410 and "只显示一次" in again.content.decode()
    assert CredentialSheet.objects.get().ciphertext is None
    # The owner: in the app, and by e-mail through a real SMTP server.
    note = Notification.objects.get(recipient=people["city"], event="user.password_reset")
    assert "郑州市审核人调岗" in note.body and "代设密码期间" in note.body
    assert [rcpts for rcpts, _ in smtp.messages] == [["zz-rev@example.cn"]]
    # The reset is audited with its reason, and the owner's account is handed down.
    event = AuditEvent.objects.get(action="user.password_reset")
    assert event.after["reason"] == "郑州市审核人调岗，交接账号"
    assert event.actor_id == people["province"].pk
    handover = PasswordHandover.objects.get(user=people["city"])
    assert handover.reset_by_id == people["province"].pk and handover.ended_at is None


def test_acts_are_marked_until_the_owner_sets_its_own_password(client, people):
    city = people["city"]
    cred = services.user_reset_password(
        user=city, actor=Actor(user=people["province"]), reason="交接"
    )
    client.logout()
    r = client.post(reverse("accounts:login"), {"username": "zz-rev", "password": cred.password})
    assert r.status_code == 302
    login = AuditEvent.objects.filter(action="auth.login").latest("id")
    assert login.handed_down and login.after == {"one_time_password": True}
    # Replacing the one-time password does not end the period: whoever held it chose this one.
    change = {"old_password": cred.password, "new_password1": "Zz-own-2024-a"}
    change["new_password2"] = change["new_password1"]
    assert client.post(reverse("accounts:password_change"), change).status_code == 302
    city.refresh_from_db()
    assert city.handed_down_at is not None
    home = client.get(reverse("orgs:mine"), follow=True).content.decode()
    assert "代设密码期间" in home
    # An act in this period is marked in the audit log and on the pages that show who acted.
    acted = audit_record(actor=Actor(user=city), action="test.act", obj=city)
    assert acted.handed_down and audit_verify().ok
    assert handover_mark(city, acted.created_at) == "（代设密码期间）"
    # The owner changes it again, from a password it chose: the period ends.
    change = {"old_password": "Zz-own-2024-a", "new_password1": "Zz-own-2024-b"}
    change["new_password2"] = change["new_password1"]
    assert client.post(reverse("accounts:password_change"), change).status_code == 302
    city = User.objects.get(pk=city.pk)
    assert city.handed_down_at is None
    assert PasswordHandover.objects.get(user=city).ended_at is not None
    later = audit_record(actor=Actor(user=city), action="test.act", obj=city)
    assert not later.handed_down
    assert handover_mark(city, later.created_at) == ""
    assert handover_mark(city, acted.created_at) == "（代设密码期间）"
    assert "代设密码期间" not in client.get(reverse("orgs:mine"), follow=True).content.decode()


def test_no_reset_at_ones_own_level_or_above(client, people, seeded):
    province, city = people["province"], people["city"]
    client.force_login(city)
    assert client.get(reverse("accounts:reset", args=[province.pk])).status_code == 404
    peer = make_user(org("410100"), Role.REVIEWER)
    assert reset(client, peer).status_code == 403
    # Below in the tree but at the same level: a zone under a city acts at county level, as a
    # county does; a county reviewer may not reset the zone's reviewer.
    county = Org.objects.filter(parent__code="410100", kind=OrgKind.COUNTY).first()
    zone = Org.objects.create(
        code="T-ZONE-1", name="测试功能区", kind=OrgKind.ZONE, parent=county, division_code="410100"
    )
    assert zone.tier == county.tier
    county_rev = make_user(county, Role.REVIEWER)
    zone_rev = make_user(zone, Role.REVIEWER)
    client.force_login(county_rev)
    r = reset(client, zone_rev)
    assert r.status_code == 403
    assert not AuditEvent.objects.filter(action="user.password_reset").exists()
    # The level above still hands accounts down.
    client.force_login(province)
    assert reset(client, city).status_code == 302
    # Platform admins do not reset each other either.
    admin = make_user(org("410000"), Role.PLATFORM_ADMIN)
    other_admin = make_user(org("410000"), Role.PLATFORM_ADMIN)
    client.force_login(admin)
    assert reset(client, other_admin).status_code == 403


def test_recent_passwords_cannot_be_reused(client, seeded):
    user = make_user(org("410100"), Role.REVIEWER, username="history", password="Hist-2024-p0")
    client.force_login(user)
    current = "Hist-2024-p0"
    for n in range(1, 6):
        new = f"Hist-2024-p{n}"
        r = client.post(
            reverse("accounts:password_change"),
            {"old_password": current, "new_password1": new, "new_password2": new},
        )
        assert r.status_code == 302, r.content.decode()
        current = new
    # p1..p5 are the last five: each is refused, in Chinese, and nothing changes.
    for old in ("Hist-2024-p1", "Hist-2024-p3"):
        r = client.post(
            reverse("accounts:password_change"),
            {"old_password": current, "new_password1": old, "new_password2": old},
        )
        assert r.status_code == 200
        assert "不能与最近使用过的 5 个密码相同" in r.content.decode()
    user.refresh_from_db()
    assert user.check_password(current)
    # p0 is six passwords back: allowed again.
    r = client.post(
        reverse("accounts:password_change"),
        {"old_password": current, "new_password1": "Hist-2024-p0", "new_password2": "Hist-2024-p0"},
    )
    assert r.status_code == 302


def test_logins_failures_and_lockouts_are_audited(client, seeded, settings):
    make_user(org("410105"), Role.REVIEWER, username="audited", password="Right-pass-2024")
    login = reverse("accounts:login")
    client.post(
        login, {"username": "audited", "password": "Right-pass-2024"}, REMOTE_ADDR="10.1.1.1"
    )
    ok = AuditEvent.objects.get(action="auth.login")
    assert ok.actor_name == "audited" and ok.ip == "10.1.1.1"
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(login, {"username": "audited", "password": "wrong"}, REMOTE_ADDR="10.1.1.2")
    failed = AuditEvent.objects.filter(action="auth.login_failed")
    assert failed.count() == settings.AXES_FAILURE_LIMIT
    assert all(e.ip == "10.1.1.2" and e.after["username"] == "audited" for e in failed)
    assert not any("wrong" in str(e.after) for e in failed)  # never the password
    locked = AuditEvent.objects.get(action="auth.lockout")
    assert locked.after == {"username": "audited"} and locked.ip == "10.1.1.2"
    assert audit_verify().ok
