from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    """Each region's dashboard: a programme's progress, deadlines, reporting and certification
    by the region's children, as charts, tables and XLSX."""

    name = "edupilot.dashboards"
    label = "dashboards"
    verbose_name = _("统计看板")

    def ready(self) -> None:
        from edupilot.core.navigation import register
        from edupilot.orgs.models import Role

        from .permissions import can_view_dashboard

        register(
            "dashboards:home",
            _("统计看板"),
            [Role.REVIEWER, Role.PROGRAMME_ADMIN, Role.PLATFORM_ADMIN],
            order=35,
            when=can_view_dashboard,
        )
