from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "edupilot.accounts"
    label = "accounts"

    def ready(self):
        from edupilot.core.navigation import register

        from . import signals

        signals.connect()
        from edupilot.orgs.models import Role

        bureau = {Role.REVIEWER, Role.PROGRAMME_ADMIN, Role.PLATFORM_ADMIN}
        register("accounts:provision", _("账号开通"), bureau, order=70)
        register("accounts:admin_requests", _("管理员账号申请"), bureau, order=75)
