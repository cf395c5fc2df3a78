from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "edupilot.orgs"
    label = "orgs"

    def ready(self):
        from edupilot.core.navigation import register

        from .models import Role

        register(
            "orgs:browse",
            _("学校与机构"),
            {Role.REVIEWER, Role.PROGRAMME_ADMIN, Role.PLATFORM_ADMIN},
            order=60,
        )
        register("orgs:mine", _("本单位信息"), {Role.APPLICANT}, order=60)
