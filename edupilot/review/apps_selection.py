"""Start-up of the selection part of review, called from ReviewConfig.ready()."""

from django.utils.translation import gettext_lazy as _


def ready() -> None:
    from edupilot.core.navigation import register
    from edupilot.orgs.models import Role

    # Imported for their side effects: the periodic close of announcements (Huey only runs
    # tasks it has seen registered) and the provider of review-deadline reminders.
    from . import announcements, approval  # noqa: F401

    register("review:selection_home", _("遴选与公示"), [Role.PROGRAMME_ADMIN], order=30)
    register("review:expert_tasks", _("评审任务"), [Role.EXPERT], order=20)
