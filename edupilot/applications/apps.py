from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "edupilot.applications"
    label = "applications"

    def ready(self):
        from edupilot.core.navigation import register
        from edupilot.orgs.models import Role
        from edupilot.orgs.signals import subtree_moved
        from edupilot.programmes.services import register_submission_counter

        from .receivers import follow_org_move, submissions_of

        subtree_moved.connect(follow_org_move, dispatch_uid="applications.follow_org_move")
        register_submission_counter(submissions_of)

        register("applications:home", _("我的申报"), [Role.APPLICANT], order=10)
        register(
            "applications:org_list",
            _("申报列表"),
            [Role.REVIEWER, Role.PROGRAMME_ADMIN, Role.PLATFORM_ADMIN],
            order=30,
        )
