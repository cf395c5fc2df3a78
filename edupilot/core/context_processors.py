from functools import cache

from edupilot.orgs.models import Membership

from .navigation import items_for


def edupilot(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "memberships": [], "notifications_unread": 0}

    def memberships():
        # The middleware's list (the same query); a request built without it asks once.
        found = getattr(request, "memberships", None)
        if found is None:
            found = request.memberships = list(
                Membership.objects.filter(user=user, is_active=True)
                .select_related("org")
                .order_by("id")
            )
        return found

    @cache
    def notifications_unread():
        # One indexed COUNT, run only when a template shows the badge.
        from .notifications import unread_count

        return unread_count(user)

    return {
        "nav_items": items_for(request),
        "memberships": memberships,
        "notifications_unread": notifications_unread,
    }
