from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render

from edupilot.orgs.models import Role

# Where each role lands after login; the first URL name that exists wins.
ROLE_HOME = {
    Role.APPLICANT: ["applications:home"],
    Role.REVIEWER: ["review:queue", "applications:reviewer_list"],
    Role.PROGRAMME_ADMIN: ["review:queue", "programmes:list"],
    Role.EXPERT: ["selection:expert_tasks"],
    Role.PLATFORM_ADMIN: ["programmes:list"],
}


def home(request):
    """Visitors see the public portal; a logged-in user goes to the desk of their role."""
    from django.urls import NoReverseMatch, reverse

    if not request.user.is_authenticated:
        from .public_views import portal

        return portal(request)
    role = request.scope.role
    for name in ROLE_HOME.get(role, []):
        try:
            return redirect(reverse(name))
        except NoReverseMatch:
            continue
    return render(request, "core/home.html", {})


def healthz(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})
