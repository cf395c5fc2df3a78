"""Reads of tokens: a person sees only the tokens of their own memberships."""

from __future__ import annotations

from django.http import Http404

from .models import ApiToken


def tokens_of(user):
    return (
        ApiToken.objects.filter(membership__user=user)
        .select_related("membership__org")
        .order_by("-created_at")
    )


def own_token(user, pk) -> ApiToken:
    token = tokens_of(user).filter(pk=pk).first()
    if token is None:
        raise Http404
    return token
