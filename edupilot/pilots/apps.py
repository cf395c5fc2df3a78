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

        from edupilot.core import public

        from . import public as pilots_public

        public.register(
            public.PublicSection(
                "pilot-titles",
                _("试点成果与称号"),
                "pilots_public:honours",
                items=pilots_public.final_honours,
                order=40,
                intro=_("试点验收后经公示认定的称号和成果名单。"),
            )
        )
        public.register(
            public.PublicSection(
                "pilot-cases",
                _("典型案例"),
                "pilots_public:honours",
                items=pilots_public.accepted_cases,
                order=50,
                intro=_("发文单位审核通过、向社会推广的试点典型案例。"),
            )
        )
