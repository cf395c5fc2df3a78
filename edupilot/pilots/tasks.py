"""Periodic work of the pilot period. ``run_huey`` autodiscovers this module; PilotsConfig.ready()
imports it too, so any process that queues or runs tasks knows it."""

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from edupilot.core.notifications import REMINDER_HOUR, SHANGHAI

from .honours import honours_finalize
from .reports import report_reminders_send


@db_periodic_task(crontab(minute="15"))
def pilot_report_reminders_task() -> None:
    """Hourly from REMINDER_HOUR (Beijing): report reminders and escalations, each sent once."""
    if timezone.localtime(timezone.now(), SHANGHAI).hour >= REMINDER_HOUR:
        report_reminders_send()


@db_periodic_task(crontab(minute="23"))
def honours_finalize_task():
    # Titles whose 公示 period is over become final without waiting for the issuer.
    return honours_finalize()
