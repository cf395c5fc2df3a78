"""Bulk provisioning, credential sheets shown once, resets by upper orgs."""

from __future__ import annotations

import io
import os
import stat

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from edupilot.accounts import credentials, services
from edupilot.accounts.models import CredentialSheet, User
from edupilot.audit.models import AuditEvent
from edupilot.audit.services import Actor
from edupilot.orgs.models import Membership, Org, OrgKind, Role
from edupilot.orgs.scoping import Scope
from tests.conftest import make_school, make_user, org


@pytest.fixture
def county_schools(seeded):
    county = org("410122")  # 中牟县
    schools = [make_school(county) for _ in range(4)]
    closed = make_school(county, is_active=False)
    other = make_school(org("410105"))
    return {"county": county, "schools": schools, "closed": closed, "other": other}


def scope_of(user) -> Scope:
    return Scope.for_membership(Membership.objects.filter(user=user).first())


def test_provision_opens_one_account_per_school_once(county_schools):
    county = county_schools["county"]
    creds = services.accounts_provision(root=county, actor=Actor.system())
    codes = {c.org_code for c in creds}
    assert codes == {s.code for s in county_schools["schools"]}  # the closed school has none
    for c in creds:
        user = User.objects.get(username=c.username)
        assert c.username == c.org_code
        assert user.password.startswith("argon2$argon2id$")
        assert user.must_change_password and user.check_password(c.password)
        assert Membership.objects.get(user=user).role == Role.APPLICANT
        assert len(c.password) == 14 and not set(c.password) & set("01ilo")
    assert services.accounts_provision(root=county, actor=Actor.system()) == []
    event = AuditEvent.objects.filter(action="accounts.provision").last()
    assert event.after["created"] == 4 and "password" not in str(event.after)


def test_a_taken_username_gets_a_suffix(county_schools):
    school = county_schools["schools"][0]
    User.objects.create_user(username=school.code, password="x")  # an old, unrelated account
    creds = services.accounts_provision(root=county_schools["county"], actor=Actor.system())
    mine = next(c for c in creds if c.org_code == school.code)
    assert mine.username == f"{school.code}-2"


def test_reissue_gives_unused_accounts_new_passwords(county_schools):
    county = county_schools["county"]
    first = {
        c.username: c.password
        for c in services.accounts_provision(root=county, actor=Actor.system())
    }
    used = User.objects.get(username=next(iter(first)))
    used.last_login = timezone.now()
    used.save()
    again = services.accounts_provision(root=county, actor=Actor.system(), reissue_unused=True)
    assert {c.username for c in again} == set(first) - {used.username}
    for c in again:
        user = User.objects.get(username=c.username)
        assert user.check_password(c.password) and not user.check_password(first[c.username])


def test_provisioning_outside_scope_is_refused(county_schools):
    reviewer = make_user(org("410105"), Role.REVIEWER)
    with pytest.raises(PermissionDenied):
        services.accounts_provision(
            root=county_schools["county"], actor=Actor.system(), scope=scope_of(reviewer)
        )
    school_user = make_user(county_schools["schools"][0])
    with pytest.raises(PermissionDenied):
        services.accounts_provision(
            root=county_schools["schools"][0], actor=Actor.system(), scope=scope_of(school_user)
        )


def test_page_shows_the_list_once_and_keeps_no_plaintext(client, county_schools):
    reviewer = make_user(org("410100"), Role.REVIEWER)
    client.force_login(reviewer)
    r = client.get(reverse("accounts:provision"), {"org": "410122"})
    assert r.status_code == 200 and r.context["missing_count"] == 4
    r = client.post(reverse("accounts:provision"), {"org": "410122", "kinds": ["school", "unit"]})
    assert r.status_code == 302
    sheet = CredentialSheet.objects.get()
    assert r["Location"] == reverse("accounts:credentials", args=[sheet.pk])
    cookie = r.cookies[credentials.COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["path"] == r["Location"]
    page = client.get(r["Location"])
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    entries = page.context["entries"]
    assert len(entries) == 4
    for e in entries:
        assert e.password in page.content.decode()
        # The database holds only ciphertext; no password appears in any stored field.
        assert e.password.encode() not in bytes(sheet.ciphertext)
    assert "password" not in str(
        AuditEvent.objects.filter(action="accounts.provision").last().after
    )
    xlsx = client.get(reverse("accounts:credentials_xlsx", args=[sheet.pk]))
    assert xlsx.status_code == 200 and "no-store" in xlsx["Cache-Control"]
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(xlsx.content)).get_sheet_by_index(0).to_python()
    )
    table = {row[4]: row[5] for row in rows[4:]}
    for e in entries:
        assert check_password(table[e.username], User.objects.get(username=e.username).password)
    sheet.refresh_from_db()
    assert sheet.downloaded_at is not None
    r = client.post(reverse("accounts:credentials_destroy", args=[sheet.pk]))
    assert r.status_code == 302
    sheet.refresh_from_db()
    assert sheet.ciphertext is None and sheet.destroyed_at is not None
    gone = client.get(reverse("accounts:credentials", args=[sheet.pk]))
    assert gone.status_code == 410 and "已销毁" in gone.content.decode()


def test_sheet_needs_its_creator_its_browser_and_time(client, county_schools):
    creds = services.accounts_provision(root=county_schools["county"], actor=Actor.system())
    owner = make_user(org("410100"), Role.REVIEWER)
    sheet, key = credentials.sheet_create(entries=creds, created_by=owner, purpose="provision")
    url = reverse("accounts:credentials", args=[sheet.pk])
    # Another user, even with the key, gets a 404.
    client.force_login(make_user(org("410100"), Role.REVIEWER))
    client.cookies[credentials.COOKIE_NAME] = key
    assert client.get(url).status_code == 404
    # The owner from another browser (no key) is told where the list can be read.
    client.cookies.clear()
    client.force_login(owner)
    r = client.get(url)
    assert r.status_code == 410 and "生成它的浏览器" in r.content.decode()
    client.cookies[credentials.COOKIE_NAME] = "not-the-key"
    assert client.get(url).status_code == 410
    client.cookies[credentials.COOKIE_NAME] = key
    assert client.get(url).status_code == 200
    # Expired: the ciphertext is erased by the next read.
    CredentialSheet.objects.filter(pk=sheet.pk).update(expires_at=timezone.now())
    assert client.get(url).status_code == 410
    sheet.refresh_from_db()
    assert sheet.ciphertext is None


def test_purge_erases_expired_sheets_only(county_schools):
    owner = make_user(org("410100"), Role.REVIEWER)
    old, _ = credentials.sheet_create(entries=[], created_by=owner, purpose="reset")
    new, _ = credentials.sheet_create(entries=[], created_by=owner, purpose="reset")
    CredentialSheet.objects.filter(pk=old.pk).update(expires_at=timezone.now())
    assert credentials.credential_sheets_purge() == 1
    assert CredentialSheet.objects.get(pk=new.pk).ciphertext is not None


def test_command_writes_a_private_credential_file(county_schools, tmp_path):
    target = tmp_path / "zhongmou.xlsx"
    out = io.StringIO()
    call_command("accounts", "provision", "--org", "410122", "--xlsx", str(target), stdout=out)
    assert "已开通 4 个账号" in out.getvalue()
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert len(rows) == 4 + 4
    with pytest.raises(Exception, match="已存在"):
        call_command("accounts", "provision", "--org", "410122", "--xlsx", str(target))


def test_upper_org_resets_a_school_password(client, county_schools):
    school = county_schools["schools"][0]
    user = make_user(school, username="zm-school")
    client.force_login(make_user(org("410122"), Role.REVIEWER))
    r = client.post(
        reverse("accounts:reset", args=[user.pk]),
        {"reason": "学校管理员调动", "password": "pass-Word-123"},
    )
    assert r.status_code == 302
    page = client.get(r["Location"])
    cred = page.context["entries"][0]
    user.refresh_from_db()
    assert user.check_password(cred.password) and user.must_change_password
    assert not user.check_password("pass-Word-123")
    assert AuditEvent.objects.filter(action="user.password_reset", object_id=str(user.pk)).exists()


def test_resets_across_scope_are_refused(client, county_schools):
    in_other_county = make_user(county_schools["other"], username="jinshui-school")
    reviewer = make_user(org("410122"), Role.REVIEWER)
    client.force_login(reviewer)
    assert client.post(reverse("accounts:reset", args=[in_other_county.pk])).status_code == 404
    # A user with a role above the reviewer (or at its own level) is not the reviewer's.
    both = make_user(county_schools["schools"][0], username="two-hats")
    Membership.objects.create(user=both, org=org("410100"), role=Role.REVIEWER)
    assert client.post(reverse("accounts:reset", args=[both.pk])).status_code == 403
    peer = make_user(org("410122"), Role.REVIEWER)
    assert client.post(reverse("accounts:reset", args=[peer.pk])).status_code == 403
    # Applicants reset nobody.
    client.force_login(make_user(county_schools["schools"][1]))
    target = make_user(county_schools["schools"][2])
    assert client.post(reverse("accounts:reset", args=[target.pk])).status_code == 404
    assert Org.objects.filter(kind=OrgKind.SCHOOL).exists()
