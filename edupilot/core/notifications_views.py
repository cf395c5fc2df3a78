"""The notifications page: list, open (marks read, follows the link), mark read."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .models import Notification
from .notifications import notification_mark_read


@login_required
def notification_list(request):
    qs = Notification.objects.filter(recipient=request.user)
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs.only("id", "title", "body", "link", "read_at", "created_at"), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "core/notification_list.html",
        {"page": page, "unread_only": unread_only},
    )


@login_required
def notification_open(request, pk: int):
    # Another user's notification is a 404, like any row outside one's reach.
    n = get_object_or_404(Notification, pk=pk, recipient=request.user)
    if n.read_at is None:
        notification_mark_read(user=request.user, ids=[n.pk])
    # Links are paths inside EduPilot; anything else would make this an open redirect.
    if n.link and url_has_allowed_host_and_scheme(
        n.link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(n.link)
    return redirect("core:notification_list")


@require_POST
@login_required
def notification_read(request):
    if request.POST.get("all") == "1":
        notification_mark_read(user=request.user)
    else:
        ids = [int(v) for v in request.POST.getlist("id") if v.isdigit()]
        notification_mark_read(user=request.user, ids=ids)
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return redirect("core:notification_list")
