"""The dashboard pages and their XLSX: thin, ``selectors`` computes every number."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from . import selectors
from .tables import TableExport

ECHARTS_STATIC = "vendor/echarts-6.1.0/echarts.min.js"


def _page(request, org):
    data = selectors.dashboard(request.scope, org, request.GET)
    query = request.GET.urlencode()
    return render(
        request,
        "dashboards/dashboard.html",
        {"data": data, "query": query, "echarts": ECHARTS_STATIC},
    )


@login_required
def dashboard_home(request):
    return _page(request, selectors.dashboard_org(request.scope))


@login_required
def dashboard_org(request, code):
    return _page(request, selectors.dashboard_org(request.scope, code))


@login_required
def dashboard_export(request, code, table):
    if table not in selectors.TABLE_KEYS:
        raise Http404
    org = selectors.dashboard_org(request.scope, code)
    data = selectors.dashboard(request.scope, org, request.GET, only=table)
    found = data.table(table)
    if found is None:
        raise Http404
    return TableExport(found, f"{org.name}{found.title}").response()
