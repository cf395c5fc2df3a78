from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgrammesConfig(AppConfig):
    name = "edupilot.programmes"
    label = "programmes"

    def ready(self):
        from edupilot.core.navigation import register
        from edupilot.orgs.models import Role

        admins = [Role.PROGRAMME_ADMIN, Role.PLATFORM_ADMIN]
        register("programmes:list", _("项目"), admins, order=20)
        register("programmes:lists", _("参与单位名单"), admins, order=25)

        from edupilot.core import public as portal

        from . import public

        portal.register(
            portal.PublicSection(
                "calls",
                _("征集通知"),
                "programmes_public:list",
                items=public.section_items,
                order=10,
                intro=_("各级教育部门发布的试点申报通知。"),
            )
        )
