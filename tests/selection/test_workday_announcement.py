"""A 公示 of five working days (issue 11 §5): published on Wednesday 2026-09-30, before the
National Day holiday (Oct 1–7, Saturday Oct 10 worked), it ends on Tuesday 2026-10-13, not on
Monday Oct 5 as five calendar days would; objections received after it are refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from edupilot.orgs.models import Role
from edupilot.programmes.schema import SHANGHAI
from edupilot.selection import announcements as ann
from edupilot.selection import approval
from edupilot.selection.errors import SelectionError

from .test_experts_support import henan_school, load_henan, who

pytestmark = pytest.mark.django_db

HENAN_PERIOD = "objection_days = 5  # notice silent"
PUBLISHED = dt.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)


def at(day: int, month: int = 10, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


@pytest.fixture
def published(programmes):
    henan = load_henan(replace={HENAN_PERIOD: 'objection_days = "5 个工作日"  # notice silent'})
    issuer = who("410000", Role.PROGRAMME_ADMIN)
    app = henan_school(henan, name="郑州市金水区工作日公示小学")
    approval.selection_approve(application=app, scope=issuer.scope, actor=issuer.actor)
    a = ann.announcement_publish(
        programme=henan, scope=issuer.scope, actor=issuer.actor, now=PUBLISHED
    )
    return henan, issuer, a


def record(issuer, a, when: dt.datetime, text="该校材料与实际不符"):
    return ann.objection_record(
        announcement=a,
        entry=a.entries.get(),
        text=text,
        received_at=when,
        scope=issuer.scope,
        actor=issuer.actor,
        now=when,
    )


def test_five_working_days_end_after_the_holiday_and_later_objections_are_refused(published):
    henan, issuer, a = published
    until = timezone.localtime(a.objection_until, SHANGHAI)
    assert until == dt.datetime(2026, 10, 13, 23, 59, 59, tzinfo=SHANGHAI)
    # Within the period: during the holiday, on the make-up Saturday, on its last evening.
    for when in (at(5), at(10), at(13, hour=22)):
        record(issuer, a, when)
    assert a.objections.count() == 3
    # The next morning the period is over: refused, naming its end.
    with pytest.raises(SelectionError) as refused:
        record(issuer, a, at(14, hour=9))
    assert "异议须在公示期内提出（截至 2026-10-13 23:59）" in str(refused.value.errors)
    assert a.objections.count() == 3


def test_the_pages_say_working_days(client, published, programmes):
    henan, issuer, a = published
    other = henan_school(henan, name="郑州市金水区工作日第二小学")
    approval.selection_approve(application=other, scope=issuer.scope, actor=issuer.actor)
    client.force_login(issuer.user)
    url = reverse("selection:announcements", args=[henan.pk])
    assert "公示期 5 个工作日（自发布次日起算）" in client.get(url).content.decode()
    confirm = client.post(url, {"title": "第二批公示", "intro": ""}).content.decode()
    assert "公示期 5 个工作日" in confirm


def test_calendar_days_are_still_the_default(programmes):
    henan = load_henan()
    issuer = who("410000", Role.PROGRAMME_ADMIN)
    app = henan_school(henan, name="郑州市金水区自然日公示小学")
    approval.selection_approve(application=app, scope=issuer.scope, actor=issuer.actor)
    a = ann.announcement_publish(
        programme=henan, scope=issuer.scope, actor=issuer.actor, now=PUBLISHED
    )
    assert timezone.localtime(a.objection_until, SHANGHAI).date() == dt.date(2026, 10, 5)
