"""``{% home_bid_rows applications %}`` and ``{% home_calls choices %}``: the applicant home's
table of bids and its open calls with each category's deadline, bid, start form or reasons.

Written here in one call each instead of through the template's loops (``{% regroup %}``,
``{% blocktrans %}``, ``{% url %}`` and the filters per category and per bid: half the page's
template time). The markup is the template's — same elements, classes, links and texts,
every value escaped; tests/applications/test_home_tags.py compares both.
"""

from __future__ import annotations

from functools import cache
from itertools import groupby

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from edupilot.applications.models import AppState
from edupilot.core.html import escape
from edupilot.core.html import local_minute as _when
from edupilot.core.links import url

register = template.Library()

STATE_LABELS = dict(AppState.choices)


def _state(application) -> str:
    """``get_state_display`` without its per-call flattening of the field's choices."""
    return escape(STATE_LABELS.get(application.state, application.state))


def _open(application) -> str:
    """An application's link, as ``{% url %}`` writes it: its form while the applicant may
    still edit it, its page otherwise."""
    if application.is_editable:
        href, text = url("applications:edit", application.pk), _("继续填写")
    else:
        href, text = url("applications:detail", application.pk), _("查看")
    return f'<a href="{href}">{text}</a>'


@register.simple_tag
def home_bid_rows(applications) -> str:
    out = []
    for a in applications:
        version = ""
        if a.version:
            version = ' <span class="muted">%s</span>' % (_("第 %(n)s 版") % {"n": a.version})
        out.append(
            "<tr>\n"
            f"<td>{escape(a.programme.title)}</td>\n"
            f"<td>{escape(a.category_name)}</td>\n"
            f'<td><span class="badge">{_state(a)}</span>{version}</td>\n'
            f"<td>{_when(a.updated_at)}</td>\n"
            f"<td>{_open(a)}</td>\n"
            "</tr>\n"
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


@cache
def _bids_labels(language: str | None) -> tuple[str, str, str]:
    """The section's heading, its table's head and its empty text in one language, escaped
    (gettext's catalogue is fixed at run time)."""
    heads = (_("项目"), _("类别"), _("状态"), _("更新时间"))
    return (
        escape(_("我的申报")),
        "".join(f"<th>{escape(h)}</th>" for h in heads) + "<th></th>",
        escape(_("尚未发起任何申报。")),
    )


@register.simple_tag
def home_bids(applications) -> str:
    """The "my applications" section: its heading and the table of bids, or that there is
    none (the template's markup, white space included)."""
    heading, heads, none = _bids_labels(get_language())
    if not applications:
        return mark_safe(f'<h2>{heading}</h2>\n\n<p class="muted">{none}</p>\n')  # noqa: S308
    return mark_safe(  # noqa: S308 - every value is escaped
        f"<h2>{heading}</h2>\n\n"
        '<div class="table-wrap"><table>\n'
        f"  <thead><tr>{heads}</tr></thead>\n"
        "  <tbody>\n  "
        f"{home_bid_rows(applications)}\n"
        "  </tbody>\n</table></div>\n"
    )


def _choice(choice, start_url: str, csrf: str) -> str:
    category = choice.category
    out = [f'<div class="category">\n<strong>{escape(category.name)}</strong>']
    if category.description:
        out.append(f' <span class="muted">— {escape(category.description)}</span>')
    closes = _("申报截止：%(d)s（北京时间）") % {"d": _when(choice.closes_at)}
    out.append(f'\n<div class="muted">{closes}</div>\n')
    if choice.application:
        state = _state(choice.application)
        out.append(f'<p><span class="badge">{state}</span>\n{_open(choice.application)}</p>\n')
    elif choice.eligible:
        start = escape(_("开始申报"))
        out += [f'<p class="badge warn">{escape(w.message)}</p>' for w in choice.warnings]
        out.append(
            f'\n<form method="post" action="{start_url}">{csrf}\n'
            f'<input type="hidden" name="programme" value="{escape(choice.programme.code)}">\n'
            f'<input type="hidden" name="category" value="{escape(category.code)}">\n'
            f'<button type="submit">{start}</button>\n</form>\n'
        )
    else:
        reasons = "".join(f"<li>{escape(f.message)}</li>" for f in choice.failures)
        cannot = escape(_("本单位不能申报此类别："))
        out.append(f'<p class="muted">{cannot}</p>\n<ul class="errorlist">{reasons}</ul>\n')
    out.append("</div>\n")
    return "".join(out)


@register.simple_tag(takes_context=True)
def home_calls(context, choices) -> str:
    """Each open call (the choices come call by call) with its categories."""
    # ``{% csrf_token %}``: nothing without a token or with Django's "not provided" marker.
    csrf_value = context.get("csrf_token")
    csrf = ""
    if csrf_value and csrf_value != "NOTPROVIDED":
        csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_value)}">'
    start_url = reverse("applications:start")
    out = []
    for programme, group in groupby(choices, key=lambda c: c.programme):
        doc_no = f" · {escape(programme.doc_no)}" if programme.doc_no else ""
        out.append(
            f'<section class="card">\n<h3>{escape(programme.title)}</h3>\n'
            f'<p class="muted">{escape(programme.issuers_text)}{doc_no}</p>\n'
        )
        out += [_choice(choice, start_url, csrf) for choice in group]
        out.append("</section>\n")
    if not out:
        none = escape(_("目前没有面向本单位的、处于申报期内的项目。"))
        out.append(f'<p class="muted">{none}</p>')
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
