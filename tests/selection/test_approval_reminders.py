"""Reminders before each review level's deadline, and the programme file's ``[reminders]``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from edupilot.applications.models import Application, AppState
from edupilot.core.models import Notification
from edupilot.core.notifications import send_deadline_reminders
from edupilot.orgs.models import Role
from edupilot.programmes import loader
from edupilot.selection import experts, reminders
from tests.conftest import make_school, org

from .test_experts_support import (
    RUBRIC_TOML,
    henan_file_text,
    henan_school,
    load_henan,
    submit_school,
    unit,
    who,
)

pytestmark = pytest.mark.django_db


def beijing_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def test_reminders_table_is_optional_validated_and_located():
    base = henan_file_text()
    assert loader.parse_text(base, "h.toml").spec.reminders is None
    spec = loader.parse_text(base + "\n[reminders]\ndays_before = [2, 5]\n", "h.toml").spec
    assert spec.reminders.days_before == [5, 2]
    for bad, message in (("[100]", "0 到 90"), ("[3, 3]", "重复"), ("[]", "至少")):
        with pytest.raises(loader.ProgrammeFileInvalid) as exc:
            loader.parse_text(base + f"\n[reminders]\ndays_before = {bad}\n", "h.toml")
        err = exc.value.errors[0]
        assert message in err.message and "reminders" in err.field
        assert err.line is not None and err.line > base.count("\n")
    with pytest.raises(loader.ProgrammeFileInvalid) as exc:
        loader.parse_text(
            base
            + RUBRIC_TOML.format(aggregate="mean", per_app=3)
            + '\n[[rubric.criteria]]\nkey = "plan"\nname = "重复"\nmax = 10\n',
            "h.toml",
        )
    assert "评分项 plan 重复" in exc.value.errors[0].message


def test_levels_remind_their_waiting_reviewers_n_days_before(programmes):
    henan = load_henan(extra="\n[reminders]\ndays_before = [5, 2]\n")
    assert reminders.lead_days(henan) == (5, 2)
    city_reviewer = who("郑州市", Role.REVIEWER)
    luoyang = who("洛阳市", Role.REVIEWER)
    waiting = [
        submit_school(henan, who(make_school(org("金水区"), stages=",primary,"))) for _ in range(2)
    ]
    returned = submit_school(henan, who(make_school(org("二七区"), stages=",primary,")))
    Application.objects.filter(pk=returned.pk).update(state=AppState.RETURNED, current_org=None)
    returned_applicant = who(returned.applicant_org)
    deadline = henan.level_deadline("school", "city")
    today = beijing_date(deadline) - dt.timedelta(days=5)
    due = list(reminders.level_reminders(henan, today))
    city_due = [r for r in due if r.orgs == (org("郑州市").pk,)]
    assert len(city_due) == 1 and "2 份申报" in city_due[0].body
    assert "5 天后截止" in city_due[0].title
    assert any(r.orgs == (returned.applicant_org_id,) for r in due)
    assert not list(reminders.level_reminders(henan, today - dt.timedelta(days=1)))
    run = send_deadline_reminders(today=today)
    assert run.sent >= 2
    assert (
        Notification.objects.filter(
            recipient=city_reviewer.user, event="review.deadline_reminder"
        ).count()
        == 1
    )
    assert Notification.objects.filter(
        recipient=returned_applicant.user, event="application.resubmit_reminder"
    ).exists()
    assert not Notification.objects.filter(recipient=luoyang.user).exists()
    # Sent once: a second run the same day sends nothing more.
    again = send_deadline_reminders(today=today)
    assert again.sent == 0 and again.skipped >= 2
    assert waiting[0].state == AppState.SUBMITTED


def test_experts_with_open_scores_are_reminded_before_the_issuers_deadline(programmes):
    henan = load_henan()
    issuer = who("410000", Role.PROGRAMME_ADMIN)
    app = henan_school(henan)
    e = who(unit("410000", "提醒大学"), Role.EXPERT)
    member = experts.expert_pool_add(
        programme=henan, membership=e.membership, scope=issuer.scope, actor=issuer.actor
    )
    experts.expert_assign(application=app, member=member, scope=issuer.scope, actor=issuer.actor)
    deadline = henan.level_deadline("school", "province")
    # No [reminders] table: the platform's default lead times for review deadlines.
    lead = reminders.lead_days(henan)[-1]
    today = beijing_date(deadline) - dt.timedelta(days=lead)
    due = list(reminders.level_reminders(henan, today))
    assert any(r.users == (e.user.pk,) for r in due)
    assert any(r.orgs == (org("410000").pk,) for r in due)  # the issuer itself has one waiting
