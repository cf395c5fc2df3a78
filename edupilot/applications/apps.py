from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "edupilot.applications"
    label = "applications"

    def ready(self):
        from edupilot.core.navigation import register
        from edupilot.orgs.models import Role

        register("applications:home", _("我的申报"), [Role.APPLICANT], order=10)
        register(
            "applications:org_list",
            _("申报列表"),
            [Role.REVIEWER, Role.PROGRAMME_ADMIN, Role.PLATFORM_ADMIN],
            order=30,
        )
