from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificationConfig(AppConfig):
    name = "edupilot.certification"
    label = "certification"
    verbose_name = _("智慧校园认定")

    def ready(self):
        from edupilot.core.navigation import register
        from edupilot.orgs.models import Role

        from . import jobs  # noqa: F401 - registers the background jobs

        register(
            "certification:home",
            _("智慧校园认定"),
            [Role.APPLICANT, Role.REVIEWER, Role.PROGRAMME_ADMIN, Role.EXPERT, Role.PLATFORM_ADMIN],
            order=60,
        )
