"""Deadline reminders: providers say what is due; each reminder goes out once."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from edupilot.core import notifications
from edupilot.core.models import Notification, ReminderSent
from edupilot.core.notifications import (
    DEFAULT_LEAD_DAYS,
    Reminder,
    ReminderRun,
    days_until_due,
    register_reminder_provider,
    reminder_lead_days,
    send_deadline_reminders,
    send_each_once,
)
from edupilot.orgs.models import Role
from tests.conftest import make_user, org

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Henan's city-level recommendation deadline: the end of 2019-09-27, Beijing time.
CITY_DEADLINE = dt.datetime(2019, 9, 27, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def providers():
    saved = dict(notifications._PROVIDERS)
    notifications._PROVIDERS.clear()
    try:
        yield
    finally:
        notifications._PROVIDERS.clear()
        notifications._PROVIDERS.update(saved)


class FakeProgramme:
    """Only what the hook reads: the loaded spec."""

    def __init__(self, spec):
        self.spec = spec


def test_days_until_due_uses_the_beijing_date():
    # 23:59:59 in Beijing is 15:59:59 UTC the same day; the reminder day is Beijing's.
    utc = CITY_DEADLINE.astimezone(dt.UTC)
    assert days_until_due(utc, dt.date(2019, 9, 24), (3, 1)) == 3
    assert days_until_due(utc, dt.date(2019, 9, 26), (3, 1)) == 1
    assert days_until_due(utc, dt.date(2019, 9, 25), (3, 1)) is None
    assert days_until_due(dt.date(2019, 9, 27), dt.date(2019, 9, 27), (0,)) == 0


def test_lead_days_come_from_the_programme_file_when_it_sets_them():
    assert (
        reminder_lead_days(FakeProgramme({}), "review_deadline")
        == DEFAULT_LEAD_DAYS["review_deadline"]
    )
    custom = FakeProgramme({"reminders": {"review_deadline": [1, 5, 5]}})
    assert reminder_lead_days(custom, "review_deadline") == (5, 1)
    broken = FakeProgramme({"reminders": {"review_deadline": ["soon"]}})
    assert reminder_lead_days(broken, "review_deadline") == DEFAULT_LEAD_DAYS["review_deadline"]


def test_reminders_are_sent_once_and_a_broken_provider_does_not_stop_the_others(
    seeded, providers, django_capture_on_commit_callbacks, mailoutbox
):
    zhengzhou = org("410100")
    reviewer = make_user(zhengzhou, Role.REVIEWER)
    reviewer.email = "zz@example.cn"
    reviewer.save()
    make_user(org("330100"), Role.REVIEWER)  # Hangzhou: must not be reminded

    @register_reminder_provider("test.broken")
    def broken(today):
        raise RuntimeError("provider bug")

    @register_reminder_provider("test.city_deadline")
    def city_deadline(today):
        n = days_until_due(CITY_DEADLINE, today, (3, 1))
        if n is not None:
            yield Reminder(
                key=f"test:henan-tencent-2019:school:city:{zhengzhou.pk}:{n}",
                event="review.deadline",
                title=f"距市级推荐截止还有 {n} 天",
                body="请在截止前完成推荐。",
                orgs=(zhengzhou,),
                roles=(Role.REVIEWER,),
            )

    with django_capture_on_commit_callbacks(execute=True):
        run = send_deadline_reminders(today=dt.date(2019, 9, 24))
    assert run.sent == 1 and run.notifications == 1 and run.failed_providers == ["test.broken"]
    assert Notification.objects.get().recipient == reviewer
    assert len(mailoutbox) == 1 and mailoutbox[0].subject == "【EduPilot】距市级推荐截止还有 3 天"

    # The hourly task runs again the same day: nothing new.
    again = send_deadline_reminders(today=dt.date(2019, 9, 24))
    assert again.sent == 0 and again.skipped == 1
    assert Notification.objects.count() == 1
    # A day with nothing due sends nothing; the last day before the deadline sends again.
    assert send_deadline_reminders(today=dt.date(2019, 9, 25)).sent == 0
    assert send_deadline_reminders(today=dt.date(2019, 9, 26)).sent == 1
    assert ReminderSent.objects.count() == 2
    assert ReminderSent.objects.get(key__endswith=":1").recipients == 1


def test_send_each_once_skips_keys_sent_before_and_repeated_in_one_run(
    seeded, django_capture_on_commit_callbacks
):
    # The pilots' report reminders and the registered providers share this loop.
    zhengzhou = org("410100")
    reviewer = make_user(zhengzhou, Role.REVIEWER)
    ReminderSent.objects.create(key="test:old", provider="test")

    def reminder(key):
        return Reminder(key=key, event="review.deadline", title="t", users=(reviewer,))

    due = [reminder("test:old"), reminder("test:new"), reminder("test:new")]
    with django_capture_on_commit_callbacks(execute=True):
        run = send_each_once(due, provider="test.once", run=ReminderRun())
    assert (run.sent, run.skipped, run.notifications) == (1, 2, 1)
    assert run.keys == ["test:new"]
    assert ReminderSent.objects.get(key="test:new").provider == "test.once"
    assert Notification.objects.get().recipient == reviewer
