from edupilot.orgs.models import Membership

from .navigation import items_for


def edupilot(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "memberships": []}

    def memberships():
        return list(
            Membership.objects.filter(user=user, is_active=True)
            .select_related("org")
            .order_by("id")
        )

    return {"nav_items": items_for(request), "memberships": memberships}
