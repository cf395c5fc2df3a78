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

        from edupilot.core import public

        from .views.public import section_items

        public.register(
            public.PublicSection(
                "certified",
                _("智慧校园认定名单"),
                "certification_public:index",
                items=section_items,
                order=40,
                intro=_("按批次公布的认定学校名单。"),
            )
        )
