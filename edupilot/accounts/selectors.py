"""Scoped reads for account pages."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.http import Http404

from edupilot.orgs.models import Membership, Org
from edupilot.orgs.scoping import Scope, get_or_404, scoped

from .models import AdminAccountRequest, User


def access_user(scope: Scope, pk) -> User:
    """A user that holds an active role at an org the scope sees, or 404."""
    if scope.is_applicant or not scope.is_authenticated:
        raise Http404
    visible = scoped(Org.objects.all(), scope).filter(pk=OuterRef("org_id"))
    memberships = Membership.objects.filter(user=OuterRef("pk"), is_active=True).filter(
        Exists(visible)
    )
    user = (
        User.objects.filter(pk=pk)
        .filter(Exists(memberships))
        .prefetch_related("memberships__org__parent")
        .first()
    )
    if user is None:
        raise Http404
    return user


def admin_requests_for(scope: Scope):
    return scoped(
        AdminAccountRequest.objects.select_related("programme", "programme__issuer", "org"),
        scope,
        org_field="org",
    )


def access_admin_request(scope: Scope, pk) -> AdminAccountRequest:
    return get_or_404(admin_requests_for(scope), pk=pk)


def programmes_accepting_requests(scope: Scope):
    """Active programmes with an admin-account request form whose issuer is above the scope."""
    from edupilot.programmes.selectors import programmes_concerning

    qs = (
        programmes_concerning(scope, lineage_only=True)
        .filter(is_active=True)
        .select_related("issuer")
        .order_by("-updated_at")
    )
    return [p for p in qs if p.parsed.admin_account_requests is not None]


def own_active_membership(user, pk) -> Membership | None:
    """One of ``user``'s own active memberships (the only ones a user may switch to)."""
    return Membership.objects.filter(pk=pk, user=user, is_active=True).select_related("org").first()
