from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewConfig(AppConfig):
    name = "edupilot.review"
    label = "review"
    verbose_name = _("审核推荐")

    def ready(self) -> None:
        from edupilot.core.navigation import register
        from edupilot.orgs.models import Role

        # Connects the receiver of applications.signals.application_submitted.
        from . import receivers, services  # noqa: F401

        register("review:queue", _("审核推荐"), [Role.REVIEWER, Role.PROGRAMME_ADMIN], order=20)
