from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "edupilot.core"
    label = "core"

    def ready(self) -> None:
        # Imported for their Huey tasks: the worker only runs tasks it has seen registered.
        from . import jobs, notifications  # noqa: F401

        # Each app's jobs.py (register_job) and reminders.py (register_reminder_provider), so
        # that the worker process knows every job kind and reminder provider, like admin.py.
        autodiscover_modules("jobs", "reminders")
