from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TokensConfig(AppConfig):
    name = "edupilot.tokens"
    label = "tokens"
    verbose_name = _("接口令牌")

    def ready(self):
        from edupilot.core.navigation import register
        from edupilot.orgs.models import Role

        bureau = {Role.REVIEWER, Role.PROGRAMME_ADMIN, Role.PLATFORM_ADMIN}
        register("tokens:list", _("接口令牌"), bureau, order=95)
