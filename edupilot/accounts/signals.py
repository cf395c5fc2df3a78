"""Logins, failed logins and lockouts go into the audit chain (issue 12 §3).

Django sends ``user_logged_in`` / ``user_login_failed``; django-axes sends ``user_locked_out``.
A failed login names the username that was typed, never the password. Connected in
``AccountsConfig.ready``.
"""

from __future__ import annotations

from edupilot.audit.services import Actor, audit_record, client_ip

USERNAME_LIMIT = 150


def _ip(request) -> str | None:
    return client_ip(request) if request is not None else None


def _sso_subject(request) -> str | None:
    """The identity provider's name for who tried a single sign-on (accounts/sso.py), if any."""
    return getattr(request, "sso_subject", None)


def on_logged_in(sender, request, user, **kwargs):
    after = {"one_time_password": bool(user.must_change_password)}
    if _sso_subject(request) is not None:
        after["method"] = "oidc"
    audit_record(
        actor=Actor(user=user, ip=_ip(request)), action="auth.login", obj=user, after=after
    )


def on_login_failed(sender, credentials, request=None, **kwargs):
    subject = _sso_subject(request)
    username = str((credentials or {}).get("username", "") or subject or "")[:USERNAME_LIMIT]
    after = {"username": username, "path": getattr(request, "path", "")}
    if subject is not None:
        after["method"] = "oidc"
    audit_record(
        actor=Actor(ip=_ip(request)),
        action="auth.login_failed",
        object_type="accounts.user",
        object_id=username[:64],
        after=after,
    )


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    username = str(username or "")[:USERNAME_LIMIT]
    audit_record(
        actor=Actor(ip=ip_address or _ip(request)),
        action="auth.lockout",
        object_type="accounts.user",
        object_id=username[:64],
        after={"username": username},
    )


def connect() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_login_failed

    user_logged_in.connect(on_logged_in, dispatch_uid="edupilot.audit.login")
    user_login_failed.connect(on_login_failed, dispatch_uid="edupilot.audit.login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="edupilot.audit.lockout")
