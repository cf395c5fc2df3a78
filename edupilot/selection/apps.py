from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SelectionConfig(AppConfig):
    """Experts, the issuer's approval and announcements (公示), after the review chain."""

    name = "edupilot.selection"
    label = "selection"
    verbose_name = _("遴选与公示")

    def ready(self) -> None:
        from edupilot.core.navigation import register
        from edupilot.orgs.models import Role
        from edupilot.review.hooks import register_confirmed_count, register_issuer_check

        # Imported for their side effects: the receiver of application_submitted, and the
        # periodic close of announcements (Huey only runs tasks it has seen registered).
        # The reminder provider (reminders.py) is imported by edupilot.core.
        # cascade: a round's final list becomes recommendations in its parent programme.
        from . import cascade, receivers, tasks  # noqa: F401
        from .selectors import issuer_acted
        from .sets import confirmed_count

        register_issuer_check(issuer_acted)
        register_confirmed_count(confirmed_count)
        register("selection:selection_home", _("遴选与公示"), [Role.PROGRAMME_ADMIN], order=30)
        register("selection:expert_tasks", _("评审任务"), [Role.EXPERT], order=20)

        from edupilot.core import public

        from . import views_public

        public.register(
            public.PublicSection(
                "announcements",
                _("公示"),
                "selection_public:list",
                items=views_public.announcements_in_period,
                order=20,
                intro=_("拟立项名单在公示期内接受书面异议。"),
                url_query="state=published",
            )
        )
        public.register(
            public.PublicSection(
                "final-lists",
                _("最终名单"),
                "selection_public:list",
                items=views_public.final_lists,
                order=30,
                intro=_("公示期满后公布的立项名单。"),
                url_query="state=closed",
            )
        )
