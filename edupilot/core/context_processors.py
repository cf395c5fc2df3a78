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

    return {
        "nav_items": items_for(request),
        "memberships": memberships,
        # Kept on the user row by core.notifications: no query for the badge.
        "notifications_unread": getattr(user, "unread_notifications", 0),
    }
