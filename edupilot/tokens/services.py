"""Creating, revoking and checking API tokens.

The secret is ``edp_`` + 43 random URL-safe characters; the database keeps its SHA-256 and its
first 12 characters. A use is checked by hash (one indexed read), then against expiry,
revocation and the membership and user still being active; each use is audited with the
token's name.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record, client_ip
from edupilot.core.errors import Denied, Refused
from edupilot.orgs.models import Membership

from .models import ApiToken

PREFIX = "edp_"
SHOWN = 12  # characters of the secret kept in clear, to tell tokens apart
LIFETIMES_DAYS = (30, 90, 180, 365)
MAX_LIVE_PER_MEMBERSHIP = 10
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def token_create(
    *, membership: Membership, name: str, read_only: bool, days: int, actor: Actor
) -> NewToken:
    if days not in LIFETIMES_DAYS:
        raise Refused(_("请选择有效期。"), errors={"days": [_("请选择有效期。")]})
    name = name.strip()
    if not name:
        raise Refused(_("请填写令牌名称。"), errors={"name": [_("请填写令牌名称。")]})
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if not membership.is_active or not membership.user.is_active:
            raise Denied(_("该身份已停用，不能创建令牌。"))
        now = timezone.now()
        live = membership.api_tokens.filter(revoked_at__isnull=True, expires_at__gt=now)
        if live.count() >= MAX_LIVE_PER_MEMBERSHIP:
            raise Refused(
                _("每个身份最多同时持有 %(n)s 个有效令牌，请先撤销不用的令牌。")
                % {"n": MAX_LIVE_PER_MEMBERSHIP}
            )
        secret = PREFIX + secrets.token_urlsafe(32)
        token = ApiToken.objects.create(
            name=name,
            membership=membership,
            read_only=read_only,
            prefix=secret[:SHOWN],
            token_hash=token_hash(secret),
            expires_at=now + timedelta(days=days),
        )
        audit_record(
            actor=actor,
            action="tokens.create",
            obj=token,
            after={
                "name": token.name,
                "membership": membership.pk,
                "read_only": read_only,
                "expires_at": token.expires_at,
            },
        )
    return NewToken(token, secret)


def token_revoke(*, token: ApiToken, actor: Actor) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="tokens.revoke", obj=token, after={"name": token.name})
    return token


def token_resolve(secret: str) -> ApiToken | None:
    """The live token with this secret, its membership's user still active; else None."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = (
        ApiToken.objects.select_related("membership__org", "membership__user")
        .filter(token_hash=token_hash(secret))
        .first()
    )
    if token is None or not token.is_live():
        return None
    m = token.membership
    if not (m.is_active and m.user.is_active and m.org.is_active):
        return None
    return token


def token_use(token: ApiToken, request) -> None:
    """Audit one use (the token's name, method and path), and refuse a write with a read-only
    token (403): the use is recorded either way."""
    refused = token.read_only and request.method not in SAFE_METHODS
    now = timezone.now()
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        audit_record(
            actor=Actor(
                user=token.membership.user, org=token.membership.org, ip=client_ip(request)
            ),
            action="tokens.use",
            obj=token,
            after={
                "name": token.name,
                "method": request.method,
                "path": request.path[:300],
                **({"refused": "read_only"} if refused else {}),
            },
        )
    if refused:
        raise Denied(_("该令牌为只读令牌，不能修改数据。"))
