from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PilotsConfig(AppConfig):
    """The pilot period: plans, reports, inspections, acceptance, titles and awards."""

    name = "edupilot.pilots"
    label = "pilots"
    verbose_name = _("试点管理")

    def ready(self) -> None:
        from edupilot.core.navigation import register
        from edupilot.orgs.models import Role

        from . import (
            receivers,  # noqa: F401 - connects final_list_published
            tasks,  # noqa: F401 - the report reminders' periodic task
        )

        register(
            "pilots:list",
            _("试点管理"),
            [Role.APPLICANT, Role.REVIEWER, Role.PROGRAMME_ADMIN, Role.PLATFORM_ADMIN],
            order=40,
        )
