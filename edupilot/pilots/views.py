"""The pilots list per level and one pilot's page. Thin: selectors and pages compute."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from . import pages, selectors


def _require_org_role(request):
    scope = request.scope
    if not (scope.is_applicant or scope.is_reviewer or scope.is_platform_admin):
        raise Http404


@login_required
def pilot_list(request):
    _require_org_role(request)
    data = selectors.pilot_list(request.scope, request.GET, request.GET.get("page") or 1)
    return render(request, "pilots/list.html", {"data": data})


@login_required
def pilot_detail(request, pk):
    _require_org_role(request)
    pilot = selectors.access_pilot(request.scope, pk)
    return render(request, "pilots/detail.html", pages.pilot_page(request.scope, pilot))
