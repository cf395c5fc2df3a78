"""Resolve the membership a request acts through, and force first-login password changes."""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from edupilot.core.prepared import prepared
from edupilot.orgs.models import Membership
from edupilot.orgs.scoping import Scope

SESSION_KEY = "active_membership_id"


@prepared
def _memberships(user_id: int):
    return (
        Membership.objects.filter(user_id=user_id, is_active=True)
        .select_related("org")
        .order_by("id")
    )


def user_memberships(request) -> list[Membership]:
    """The user's active memberships with their orgs: one query, kept on the request (every
    authenticated request asks it: compiled once per process)."""
    if not request.user.is_authenticated:
        return []
    return list(_memberships(request.user.pk))


def active_membership(request, memberships: list[Membership] | None = None):
    if memberships is None:
        memberships = user_memberships(request)
    if not memberships:
        return None
    wanted = request.session.get(SESSION_KEY)
    for m in memberships:
        if m.pk == wanted:
            return m
    return memberships[0]


class ActiveMembershipMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # One query per authenticated request; the scope is what every selector filters by,
        # and it carries the org loaded here (Scope.org), so views need not fetch it again.
        request.memberships = user_memberships(request)
        membership = active_membership(request, request.memberships)
        request.membership = membership
        if membership is not None:
            request.scope = Scope.for_membership(membership)
        else:
            request.scope = Scope(
                user_id=request.user.pk if request.user.is_authenticated else None
            )
        return self.get_response(request)


class ForcePasswordChangeMiddleware:
    """A user with a one-time password may only change it, or log out, until it does."""

    allowed_names = ("accounts:password_change", "accounts:logout", "core:set_language")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.must_change_password:
            allowed = {reverse(n) for n in self.allowed_names}
            if request.path not in allowed and not request.path.startswith(("/static/", "/i18n/")):
                if request.path.startswith("/api/"):
                    # An API client cannot follow a redirect to a form: say what to do.
                    return JsonResponse(
                        {"message": _("请先在网页上修改一次性密码，然后再使用接口。")}, status=403
                    )
                return redirect("accounts:password_change")
        return self.get_response(request)
