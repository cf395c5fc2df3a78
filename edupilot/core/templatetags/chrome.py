"""The page header every page writes (base.html), in one tag.

base.html's header took about 0.8–1.0 ms a page as template nodes (the nav loop, the
membership switcher, three ``{% csrf_token %}``, eight ``{% url %}``). ``{% site_header %}``
writes the same markup from the context processor's data: its URLs reversed once per
process (they do not depend on the request), values escaped with ``conditional_escape``
as autoescape does, the CSRF token through Django's own ``CsrfTokenNode`` (the request's,
never cached). Test: tests/core/test_site_header.py (equal to the former template's HTML).
"""

from __future__ import annotations

from functools import cache

from django import template
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template.defaulttags import CsrfTokenNode
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils.html import conditional_escape as esc
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()

CURRENT = ' aria-current="page"'

_URL_NAMES = (
    "core:home",
    "public_index",
    "accounts:login",
    "accounts:switch_membership",
    "core:notification_list",
    "accounts:logout",
    "core:set_language",
)


@cache
def _urls(prefix: str) -> dict[str, str]:
    return {name: esc(reverse(name)) for name in _URL_NAMES}


@cache
def _labels(language: str | None) -> dict[str, str]:
    """The header's texts in one language, escaped (gettext's catalogue is fixed at run time)."""
    texts = {
        "nav": _("主导航"),
        "public": _("公开信息"),
        "login": _("登录"),
        "identity": _("当前身份"),
        "switch": _("切换"),
        "unread": _("未读"),
        "notices": _("通知"),
        "logout": _("退出"),
    }
    return {key: esc(text) for key, text in texts.items()}


def _memberships(context) -> list:
    found = context.get("memberships") or []
    return found() if callable(found) else found


def _who(context, request, user, url, csrf, t) -> list[str]:
    out = []
    memberships = _memberships(context)
    current = getattr(request, "membership", None)
    if len(memberships) > 1:
        selected = current.pk if current is not None else None
        options = "".join(
            f'<option value="{esc(m.pk)}"{" selected" if m.pk == selected else ""}>'
            f"{esc(m.org.name)} · {esc(m.get_role_display())}</option>"
            for m in memberships
        )
        out.append(
            f'<form method="post" action="{url["accounts:switch_membership"]}" class="inline">'
            f'{csrf}<label class="sr-only" for="membership-switch">{t["identity"]}</label>'
            f'<select id="membership-switch" name="membership" data-autosubmit>{options}'
            f'</select><noscript><button type="submit">{t["switch"]}</button></noscript>'
            "</form>"
        )
    elif current:
        out.append(
            f'<span class="muted">{esc(current.org.name)} · '
            f"{esc(current.get_role_display())}</span>"
        )
    unread = context.get("notifications_unread")
    badge = (
        f' <span class="badge warn"><span class="sr-only">{t["unread"]}</span>{esc(unread)}</span>'
        if unread
        else ""
    )
    out.append(
        f'<a class="notif-link" href="{url["core:notification_list"]}">{t["notices"]}'
        f"{badge}</a>"
        f'<span class="username">{esc(user.display_name)}</span>'
        f'<form method="post" action="{url["accounts:logout"]}" class="inline">{csrf}'
        f'<button type="submit" class="link">{t["logout"]}</button></form>'
    )
    return out


# The scripts and style sheet every page loads, as base.html's {% static %} tags wrote them.
_ASSETS = (
    ('<link rel="stylesheet" href="{}">', "css/edupilot.css"),
    ('<script src="{}" defer></script>', "vendor/htmx-2.0.11/htmx.min.js"),
    ('<script src="{}" defer></script>', "js/edupilot.js"),
    ('<script src="{}" defer></script>', "js/a11y.js"),
)


@cache
def _assets(static_url: str, storage: str) -> str:
    return "\n  ".join(markup.format(esc(static(path))) for markup, path in _ASSETS)


@register.simple_tag
def site_assets() -> str:
    """The page's style sheet and scripts (``{% static %}`` of each, ~15 µs apiece on every
    page): their URLs depend on the static storage and its manifest, fixed for a process."""
    return mark_safe(_assets(settings.STATIC_URL, type(staticfiles_storage).__qualname__))  # noqa: S308


@register.simple_tag(takes_context=True)
def site_header(context) -> str:
    """``<header class="topbar">``: brand, navigation, who is signed in, language switch."""
    request = context.get("request")
    user = context.get("user")
    url = _urls(get_script_prefix())
    csrf = CsrfTokenNode().render(context)
    t = _labels(get_language())
    signed_in = user is not None and user.is_authenticated
    if signed_in:
        nav = "".join(
            f'<a href="{esc(item["url"])}"{CURRENT if item.get("active") else ""}>'
            f"{esc(item['label'])}</a>"
            for item in context.get("nav_items") or []
        )
    else:
        here = CURRENT if request.path[:8] == "/public/" else ""
        nav = (
            f'<a href="{url["public_index"]}"{here}>{t["public"]}</a>'
            f'<a href="{url["accounts:login"]}">{t["login"]}</a>'
        )
    who = _who(context, request, user, url, csrf, t) if signed_in else []
    if get_language() == "zh-hans":
        lang = '<button name="language" value="en" class="link">English</button>'
    else:
        lang = '<button name="language" value="zh-hans" class="link">中文</button>'
    return mark_safe(  # noqa: S308 -- every value above is escaped
        f'<header class="topbar"><a class="brand" href="{url["core:home"]}">EduPilot</a>'
        f'<nav class="mainnav" aria-label="{t["nav"]}">{nav}</nav>'
        f'<div class="who">{"".join(who)}'
        f'<form action="{url["core:set_language"]}" method="post" class="inline lang">{csrf}'
        f'<input name="next" type="hidden" value="{esc(request.get_full_path())}">{lang}'
        "</form></div></header>"
    )
