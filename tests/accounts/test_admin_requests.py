"""Henan notice, attachment 2: lower orgs ask the issuer for a programme admin account."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from edupilot.accounts import services
from edupilot.accounts.models import AdminAccountRequest, AdminRequestState, User
from edupilot.audit.models import AuditEvent
from edupilot.audit.services import Actor
from edupilot.core.models import Notification
from edupilot.orgs.models import Membership, Role
from edupilot.programmes.models import Programme
from edupilot.programmes.services import programme_load
from tests.conftest import make_user, org

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOTICE_DEADLINE = dt.datetime(2019, 9, 2, 23, 59, 59, tzinfo=SHANGHAI)  # “9月2日前”
PERSON = {
    "full_name": "张伟",
    "gender": "male",
    "unit": "郑州市电化教育馆",
    "position": "信息部主任",
    "phone": "13800000001",
    "wechat": "zhangwei_zz",
}


@pytest.fixture
def henan(seeded) -> Programme:
    """The Henan programme, dated so that admin-account requests are open for 30 more days."""
    path = settings.EDUPILOT_PROGRAMMES_DIR / "henan-tencent-smart-campus-2019.toml"
    shift = (timezone.now() - NOTICE_DEADLINE).days + 30
    return programme_load(path, actor=Actor.system(), time_shift_days=shift).programme


def cred_password_not_in(text: str, client, sheet_url: str) -> bool:
    password = client.get(sheet_url).context["entries"][0].password
    return password not in text


def submit(programme, org_code, **overrides):
    return services.admin_request_submit(
        programme=programme, org=org(org_code), actor=Actor.system(), **{**PERSON, **overrides}
    )


def test_city_files_the_form_and_the_issuer_approves(client, henan):
    city_reviewer = make_user(org("410100"), Role.REVIEWER)
    issuer_admin = make_user(org("410000"), Role.PROGRAMME_ADMIN)
    client.force_login(city_reviewer)
    r = client.get(reverse("accounts:admin_request_new"))
    assert r.status_code == 200 and "申请截止" in r.content.decode()
    r = client.post(reverse("accounts:admin_request_new"), {"programme": henan.code, **PERSON})
    assert r.status_code == 302
    req = AdminAccountRequest.objects.get()
    assert req.org.code == "410100" and req.state == AdminRequestState.PENDING
    assert req.requested_by == city_reviewer
    assert (
        AuditEvent.objects.filter(action="admin_request.submit").last().after["phone"]
        == PERSON["phone"]
    )
    assert Notification.objects.filter(
        recipient=issuer_admin, event="admin_request.submitted", link__endswith=f"/{req.pk}/"
    ).exists()
    # The city sees its request but cannot decide it.
    assert client.get(reverse("accounts:admin_request", args=[req.pk])).status_code == 200
    r = client.post(reverse("accounts:admin_request", args=[req.pk]), {"decision": "approve"})
    assert r.status_code == 403
    # The issuer's programme admin approves; the account is created with a one-time password.
    client.force_login(issuer_admin)
    r = client.post(reverse("accounts:admin_request", args=[req.pk]), {"decision": "approve"})
    assert r.status_code == 302 and "/accounts/credentials/" in r["Location"]
    note = Notification.objects.get(recipient=city_reviewer, event="admin_request.approved")
    assert "初始密码" in note.body and cred_password_not_in(note.body, client, r["Location"])
    cred = client.get(r["Location"]).context["entries"][0]
    req.refresh_from_db()
    assert req.state == AdminRequestState.APPROVED and req.user is not None
    user = User.objects.get(username=cred.username)
    assert user == req.user and user.full_name == "张伟" and user.phone == "13800000001"
    assert user.must_change_password and user.password.startswith("argon2$argon2id$")
    assert Membership.objects.filter(
        user=user, org=org("410100"), role=Role.PROGRAMME_ADMIN
    ).exists()
    assert user.check_password(cred.password)
    event = AuditEvent.objects.filter(action="admin_request.approve").last()
    assert event.after["username"] == user.username
    with pytest.raises(services.AdminRequestRefused, match="已开通"):
        services.admin_request_approve(request=req, actor=Actor.system())


def test_province_administered_county_may_ask_but_an_ordinary_county_may_not(henan):
    req = submit(henan, "巩义市", phone="13800000002")
    assert req.org.name == "巩义市" and req.state == AdminRequestState.PENDING
    with pytest.raises(services.AdminRequestRefused, match="只受理市级"):
        submit(henan, "410105", phone="13800000003")  # 金水区 is a county of Zhengzhou
    with pytest.raises(services.AdminRequestRefused, match="管辖范围"):
        submit(henan, "330100", phone="13800000004")  # 杭州市 is not under Henan's centre
    with pytest.raises(services.AdminRequestRefused, match="等待审批"):
        submit(henan, "巩义市", phone="13800000002")


def test_late_requests_are_refused_with_the_deadline(client, henan):
    deadline = services.admin_request_deadline(henan)
    assert deadline.date() == (NOTICE_DEADLINE + dt.timedelta(days=henan.time_shift_days)).date()
    submit(henan, "410200", phone="13800000005", now=deadline - dt.timedelta(minutes=1))
    with pytest.raises(services.AdminRequestRefused) as exc:
        submit(henan, "410300", phone="13800000006", now=deadline + dt.timedelta(seconds=1))
    shown = timezone.localtime(deadline, SHANGHAI).strftime("%Y年%m月%d日 %H:%M")
    assert f"截止时间（{shown}，北京时间）" in str(exc.value)
    # Through the page, with the programme's real 2019 dates: the form says why, keeps the
    # typed data, and nothing is stored.
    Programme.objects.filter(pk=henan.pk).update(time_shift_days=0)
    client.force_login(make_user(org("410300"), Role.REVIEWER))
    r = client.post(reverse("accounts:admin_request_new"), {"programme": henan.code, **PERSON})
    body = r.content.decode()
    assert r.status_code == 200 and "2019年09月02日 23:59" in body and "张伟" in body
    assert not AdminAccountRequest.objects.filter(org=org("410300")).exists()


def test_rejection_needs_a_reason(client, henan):
    req = submit(henan, "410200", phone="13800000007")
    with pytest.raises(services.AdminRequestRefused, match="理由"):
        services.admin_request_reject(request=req, reason=" ", actor=Actor.system())
    client.force_login(make_user(org("410000"), Role.PROGRAMME_ADMIN))
    url = reverse("accounts:admin_request", args=[req.pk])
    r = client.post(url, {"decision": "reject", "reason": ""})
    assert r.status_code == 200
    r = client.post(url, {"decision": "reject", "reason": "该市已有项目管理员"})
    assert r.status_code == 302
    req.refresh_from_db()
    assert req.state == AdminRequestState.REJECTED and req.decision_reason == "该市已有项目管理员"
    assert req.user is None


def test_admins_of_other_regions_cannot_see_or_decide(client, henan):
    req = submit(henan, "410100", phone="13800000008")
    url = reverse("accounts:admin_request", args=[req.pk])
    # Another province's programme admin, and another city's, do not even see it.
    for code in ("330000", "410200"):
        client.force_login(make_user(org(code), Role.PROGRAMME_ADMIN))
        assert client.get(url).status_code == 404
        assert client.post(url, {"decision": "approve"}).status_code == 404
        assert req.full_name not in client.get(reverse("accounts:admin_requests")).content.decode()
    # The requesting city's own programme admin is not the issuer.
    client.force_login(make_user(org("410100"), Role.PROGRAMME_ADMIN))
    assert client.post(url, {"decision": "approve"}).status_code == 403
    # Schools never reach the list.
    client.force_login(make_user(org("410105")))
    assert client.get(url).status_code == 403
    req.refresh_from_db()
    assert req.state == AdminRequestState.PENDING
    # A city reviewer may not file for another city.
    from django.core.exceptions import PermissionDenied

    from edupilot.orgs.scoping import Scope

    kaifeng = make_user(org("410200"), Role.REVIEWER)
    scope = Scope.for_membership(Membership.objects.get(user=kaifeng))
    with pytest.raises(PermissionDenied):
        services.admin_request_submit(
            programme=henan, org=org("410100"), actor=Actor.system(), scope=scope, **PERSON
        )


def test_form_checks_phone_and_wechat(client, henan):
    client.force_login(make_user(org("410100"), Role.REVIEWER))
    r = client.post(
        reverse("accounts:admin_request_new"),
        {"programme": henan.code, **PERSON, "phone": "0371-123", "wechat": "1a"},
    )
    form = r.context["form"]
    assert "11 位手机号码" in form.errors["phone"][0]
    assert "微信号" in form.errors["wechat"][0]
    assert not AdminAccountRequest.objects.exists()
