from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "edupilot.documents"
    label = "documents"
    verbose_name = _("文档")

    def ready(self) -> None:
        from edupilot.core.navigation import register
        from edupilot.orgs.models import Role

        from .pdf import check_cjk_fonts

        checks.register(check_cjk_fonts, "documents")

        register(
            "documents:index",
            _("表格下载"),
            [Role.REVIEWER, Role.PROGRAMME_ADMIN, Role.PLATFORM_ADMIN],
            order=40,
        )
