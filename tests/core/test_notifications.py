"""Notifications: who receives them, in-app rows, e-mail through a real SMTP server."""

import email
import re
import socket
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from edupilot.core.models import EmailStatus, Notification
from edupilot.core.notifications import (
    notification_mark_read,
    notify,
    recipients_for,
    unread_count,
)
from edupilot.orgs.models import Membership, Role
from tests.conftest import make_school, make_user, org


class Inbox:
    """An aiosmtpd handler that keeps what it receives and refuses one address."""

    refuse = "nobody@example.cn"

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.Message]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()


def subject_of(msg) -> str:
    return str(make_header(decode_header(msg["Subject"])))


def text_of(msg) -> str:
    return msg.get_payload(decode=True).decode(msg.get_content_charset() or "utf-8")


@pytest.fixture
def people(seeded):
    jinshui, erqi = org("金水区"), org("二七区")
    school = make_school(jinshui, "金水区通知小学")

    def person(o, role, mail):
        user = make_user(o, role)
        user.email = mail
        user.full_name = f"{o.name}{Role(role).label}"
        user.save()
        return user

    return {
        "rev_a": person(jinshui, Role.REVIEWER, "rev-a@example.cn"),
        "admin_a": person(jinshui, Role.PROGRAMME_ADMIN, "admin-a@example.cn"),
        "rev_b": person(erqi, Role.REVIEWER, "rev-b@example.cn"),
        "applicant": person(school, Role.APPLICANT, "school@example.cn"),
        "jinshui": jinshui,
        "school": school,
    }


def test_recipients_resolve_orgs_roles_and_users(people):
    jinshui = people["jinshui"]
    ids = {uid for uid, _ in recipients_for(orgs=[jinshui], roles=[Role.REVIEWER])}
    assert ids == {people["rev_a"].pk}
    ids = {uid for uid, _ in recipients_for(orgs=[jinshui])}  # no roles: every role
    assert ids == {people["rev_a"].pk, people["admin_a"].pk}
    ids = {
        uid
        for uid, _ in recipients_for(
            users=[people["applicant"], people["rev_a"].pk],
            orgs=[jinshui.pk],
            roles=[Role.REVIEWER],
            exclude_users=[people["admin_a"]],
        )
    }
    assert ids == {people["applicant"].pk, people["rev_a"].pk}  # merged, no duplicates
    # The acting user is passed as is: the system actor (no user) and an anonymous user
    # exclude nobody; a real user is left out.
    from django.contrib.auth.models import AnonymousUser

    everyone = {people["rev_a"].pk, people["admin_a"].pk}
    for nobody in (None, AnonymousUser()):
        got = recipients_for(orgs=[jinshui], exclude_users=[nobody])
        assert {uid for uid, _ in got} == everyone
    got = recipients_for(orgs=[jinshui], exclude_users=[people["rev_a"]])
    assert {uid for uid, _ in got} == {people["admin_a"].pk}
    # Inactive memberships and inactive users receive nothing.
    Membership.objects.filter(user=people["rev_a"]).update(is_active=False)
    people["admin_a"].is_active = False
    people["admin_a"].save()
    assert recipients_for(orgs=[jinshui]) == []


def test_notify_sends_chinese_mail_over_smtp(people, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rows = notify(
            orgs=[people["jinshui"]],
            roles=[Role.REVIEWER, Role.PROGRAMME_ADMIN],
            event="application.submitted",
            title="金水区通知小学提交了试点申报",
            body="请于9月27日前完成县级审核推荐。",
            link="/review/12/",
        )
        assert smtp.messages == []  # nothing leaves before the commit
    assert len(rows) == 2
    assert len(smtp.messages) == 2  # one message per person: addresses are not shared
    by_rcpt = {tuple(rcpts): msg for rcpts, msg in smtp.messages}
    msg = by_rcpt[("rev-a@example.cn",)]
    assert subject_of(msg) == "【EduPilot】金水区通知小学提交了试点申报"
    assert msg["To"] == "rev-a@example.cn"
    body = text_of(msg)
    assert "金水区审核人，您好" in body
    assert "请于9月27日前完成县级审核推荐。" in body
    assert "http://127.0.0.1:8000/review/12/" in body
    assert msg["Auto-Submitted"] == "auto-generated"
    statuses = set(
        Notification.objects.filter(pk__in=[r.pk for r in rows]).values_list(
            "email_status", flat=True
        )
    )
    assert statuses == {EmailStatus.SENT}


def test_a_refused_recipient_is_recorded_and_the_others_still_get_mail(
    people, smtp, django_capture_on_commit_callbacks
):
    people["rev_b"].email = Inbox.refuse
    people["rev_b"].save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[people["rev_a"], people["rev_b"]], event="t", title="审核提醒")
    assert [r for r, _ in smtp.messages] == [["rev-a@example.cn"]]
    failed = Notification.objects.get(recipient=people["rev_b"])
    assert failed.email_status == EmailStatus.FAILED and "550" in failed.email_error
    assert Notification.objects.get(recipient=people["rev_a"]).email_status == EmailStatus.SENT


def test_mail_server_down_never_breaks_the_caller(
    people, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens
    with django_capture_on_commit_callbacks(execute=True):
        rows = notify(users=[people["rev_a"]], event="t", title="审核提醒")
    n = Notification.objects.get(pk=rows[0].pk)
    assert n.email_status == EmailStatus.FAILED and n.email_error.startswith("connect:")
    assert n.read_at is None  # the in-app notification is there regardless


def test_rolled_back_change_notifies_nobody(people, smtp, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify(users=[people["rev_a"]], event="t", title="不应发出")
        raise RuntimeError("the change failed")
    assert not Notification.objects.filter(title="不应发出").exists()
    assert smtp.messages == []


def test_users_without_address_get_in_app_only(
    people, django_capture_on_commit_callbacks, mailoutbox
):
    people["rev_a"].email = ""
    people["rev_a"].save()
    with django_capture_on_commit_callbacks(execute=True):
        rows = notify(users=[people["rev_a"]], event="t", title="无邮箱\n也能收到", email=True)
    assert rows[0].email_status == EmailStatus.NONE and rows[0].title == "无邮箱 也能收到"
    assert mailoutbox == []


def badge(client) -> int:
    """The unread count the top bar shows (0 when it shows no badge)."""
    html = client.get(reverse("core:notification_list")).content.decode()
    found = re.search(r'<span class="sr-only">未读</span>(\d+)</span>', html)
    return int(found.group(1)) if found else 0


def test_page_badge_open_and_mark_read(people, client):
    user = people["rev_a"]
    notify(users=[user], event="t", title="第一条", link="/review/12/")
    notify(users=[user], event="t", title="第二条", link="https://evil.example/phish")
    notify(users=[people["rev_b"]], event="t", title="别人的通知")
    client.force_login(user)
    with CaptureQueriesContext(__import__("django.db").db.connection) as queries:
        html = client.get(reverse("core:notification_list")).content.decode()
    counts = [
        q
        for q in queries.captured_queries
        if "COUNT" in q["sql"] and "core_notification" in q["sql"] and "read_at" in q["sql"]
    ]
    assert counts == []  # the top-bar badge is the user row's counter: no query
    assert "第一条" in html and "第二条" in html and "别人的通知" not in html
    assert badge(client) == 2

    first = Notification.objects.get(recipient=user, title="第一条")
    response = client.get(reverse("core:notification_open", args=[first.pk]))
    assert response.status_code == 302 and response["Location"] == "/review/12/"
    first.refresh_from_db()
    assert first.read_at is not None
    assert badge(client) == 1
    client.get(reverse("core:notification_open", args=[first.pk]))  # already read: no change
    assert badge(client) == 1
    second = Notification.objects.get(recipient=user, title="第二条")
    response = client.get(reverse("core:notification_open", args=[second.pk]))
    assert response["Location"] == reverse("core:notification_list")  # no open redirect

    other = Notification.objects.get(title="别人的通知")
    assert client.get(reverse("core:notification_open", args=[other.pk])).status_code == 404
    client.post(reverse("core:notification_read"), {"id": [str(other.pk)]})
    assert Notification.objects.get(pk=other.pk).read_at is None  # not theirs to mark

    assert badge(client) == 0
    notify(users=[user], event="t", title="第三条")
    notify(users=[user], event="t", title="第四条")
    assert badge(client) == 2
    client.post(reverse("core:notification_read"), {"all": "1"})
    assert badge(client) == 0 and unread_count(user) == 0
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    html = client.get(reverse("core:notification_list") + "?unread=1").content.decode()
    assert "没有未读通知" in html and 'sr-only">未读' not in html


def test_badge_counter_survives_a_whole_user_save_and_matches_the_count(people, client):
    """The counter moves with each writer; a user object read before a notification and
    saved whole afterwards (a profile edit) does not write back its stale count."""
    user = people["rev_a"]
    stale = type(user).objects.get(pk=user.pk)
    notify(users=[user, user], event="t", title="一条")  # named twice, notified once
    notify(users=[user], event="t", title="两条")
    notify(users=[user, people["rev_b"]], event="t", title="再一条", exclude_users=[user])
    stale.full_name = "改名"
    stale.save()
    client.force_login(user)
    assert badge(client) == unread_count(user) == 2
    notification_mark_read(user=user, ids=[Notification.objects.filter(recipient=user)[0].pk])
    assert badge(client) == unread_count(user) == 1
    client.force_login(people["rev_b"])
    assert badge(client) == unread_count(people["rev_b"]) == 1
