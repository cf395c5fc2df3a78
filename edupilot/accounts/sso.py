"""Single sign-on through a bureau's OpenID Connect provider (mozilla-django-oidc).

A login through the provider is matched to one existing, active account by one claim
(``EDUPILOT_OIDC_MATCH_CLAIM`` equal to ``User.<EDUPILOT_OIDC_MATCH_FIELD>``). It never creates
an account or a membership: an unknown (or ambiguous) subject is refused, the login page says
so, and Django's ``user_login_failed`` signal audits it like a failed password login
(signals.py). After a login the usual flows apply: a one-time password must still be changed,
and the membership is chosen as after a password login. Off unless configured
(docs/deployment.md, docs/decisions/0105-oidc-single-sign-on.md).
"""

from __future__ import annotations

import logging

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

logger = logging.getLogger(__name__)

# The account fields a claim may be matched against, and how.
MATCH_LOOKUPS = {"username": "username", "email": "email__iexact"}
REQUIRED_SETTINGS = (
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT",
    "OIDC_RP_CLIENT_ID",
    "OIDC_RP_CLIENT_SECRET",
)
SUBJECT_LIMIT = 150


def sso_enabled() -> bool:
    return all(getattr(settings, name, "") for name in REQUIRED_SETTINGS)


def sso_label() -> str:
    return settings.EDUPILOT_OIDC_LABEL or _("统一身份认证登录")


def _match_lookup() -> str:
    field = settings.EDUPILOT_OIDC_MATCH_FIELD
    if field not in MATCH_LOOKUPS:
        raise SuspiciousOperation(
            f"EDUPILOT_OIDC_MATCH_FIELD {field!r} is not one of {MATCH_LOOKUPS}"
        )
    return MATCH_LOOKUPS[field]


class OIDCBackend(OIDCAuthenticationBackend):
    """Matches a provider's subject to an existing account; never creates one.

    Acts only on the callback's ``authenticate(request, nonce=..., code_verifier=...)``: a
    password login (username/password) passes it by. Leaves on the request what the login
    page and the audit need: ``sso_subject`` (the claim's value) and ``sso_refused``."""

    def __init__(self, *args, **kwargs):
        self.enabled = sso_enabled()
        if self.enabled:
            super().__init__(*args, **kwargs)
        else:
            self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        if not self.enabled or request is None or "nonce" not in kwargs:
            return None
        request.sso_subject = ""
        try:
            return super().authenticate(request, **kwargs)
        except (requests.RequestException, jwt.PyJWTError, ValueError, KeyError) as exc:
            # The provider is down or answered nonsense: a failed login, not a server error.
            logger.warning("OIDC login failed: %s", exc)
            request.sso_unavailable = True
            return None

    def verify_claims(self, claims) -> bool:
        return bool(str(claims.get(settings.EDUPILOT_OIDC_MATCH_CLAIM) or "").strip())

    def filter_users_by_claims(self, claims):
        value = str(claims.get(settings.EDUPILOT_OIDC_MATCH_CLAIM) or "").strip()
        self.request.sso_subject = value[:SUBJECT_LIMIT]
        if not value:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(**{_match_lookup(): value}, is_active=True)

    def get_or_create_user(self, access_token, id_token, payload):
        try:
            user = super().get_or_create_user(access_token, id_token, payload)
        except SuspiciousOperation:
            user = None  # no claim, or two accounts answer to it: refuse rather than guess
        if user is None:
            self.request.sso_refused = True
        return user

    def create_user(self, claims):
        raise SuspiciousOperation("single sign-on never creates accounts")


class _OnlyWhenEnabled(View):
    def setup(self, request, *args, **kwargs):
        if not sso_enabled():
            raise Http404
        super().setup(request, *args, **kwargs)


class SSOLoginView(_OnlyWhenEnabled, OIDCAuthenticationRequestView):
    """Sends the browser to the provider (state, nonce and PKCE kept in the session)."""

    def __init__(self, *args, **kwargs):
        View.__init__(self, *args, **kwargs)
        if sso_enabled():
            self.OIDC_OP_AUTH_ENDPOINT = settings.OIDC_OP_AUTHORIZATION_ENDPOINT
            self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID


class SSOCallbackView(_OnlyWhenEnabled, OIDCAuthenticationCallbackView):
    """The provider's answer: log in the matched account, or back to the login page saying why."""

    def get(self, request):
        try:
            return super().get(request)
        except SuspiciousOperation:  # a state this browser did not start (replay, old tab)
            return self.login_failure()

    def login_failure(self):
        request = self.request
        if getattr(request, "sso_refused", False):
            messages.error(
                request,
                _(
                    "统一身份认证账号“%(name)s”在本平台没有对应的账号，无法登录。"
                    "请联系上级教育部门开通账号，或使用用户名和密码登录。"
                )
                % {"name": getattr(request, "sso_subject", "") or "?"},
            )
        elif getattr(request, "sso_unavailable", False):
            messages.error(
                request, _("统一身份认证服务暂时无法访问，请稍后重试，或使用用户名和密码登录。")
            )
        else:
            messages.error(request, _("统一身份认证登录未完成，请重试，或使用用户名和密码登录。"))
        return redirect(settings.LOGIN_URL)
