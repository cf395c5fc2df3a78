"""Periodic work of selection. ``run_huey`` autodiscovers this module; SelectionConfig.ready()
imports it too, so any process that queues or runs tasks knows it."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .announcements import announcements_close_due


@db_periodic_task(crontab(minute="*/10"))
def announcements_close_task() -> None:
    """Publish the final list of every announcement whose objection period has ended."""
    announcements_close_due()
