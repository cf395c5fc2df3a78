"""``{% review_chain review %}`` and ``{% review_history review %}``: the application page's
chain of levels with their opinions, and the record of every decision, each in one call.

They write what ``selectors.review_detail`` computed (its ``steps``, ``titles`` and
``decisions``) with the markup the template's loops wrote — same elements, classes and
texts, every value escaped — without the ~100 template nodes (each ``{% trans %}``,
``{% blocktrans %}`` and filter a context lookup) those loops rendered a request.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from edupilot.accounts.templatetags.handover import handover_mark

register = template.Library()


def _e(value) -> str:
    return str(conditional_escape(value))


def _when(moment: dt.datetime | None) -> str:
    """The ``date:"Y-m-d H:i"`` filter: local time, "" for none."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _rank(rank) -> str:
    return _e(_("第 %(r)s 名") % {"r": rank})


def _version(n) -> str:
    return _e(_("第 %(n)s 版") % {"n": n})


def _said(decision) -> str:
    """The opinion of a recommendation, the reasons of any other decision."""
    text = decision.opinion if decision.action == "recommend" else decision.reasons
    return linebreaksbr(text, autoescape=True)


def _who(decision, default: str) -> str:
    user = decision.decided_by
    name = (user.display_name if user is not None else "") or default
    return _e(name) + _e(handover_mark(user, decision.decided_at))


def _heads(*labels: str) -> str:
    """A header row of (translated) labels."""
    return "".join(f"<th>{_e(label)}</th>" for label in labels)


def _step_row(s) -> str:
    d = s.decision
    cells = [f"<tr>\n      <td>{_e(s.name)}</td>\n      <td>{_e(s.org_name)}</td>\n"]
    cells.append(f"      <td>{_when(s.deadline) or '—'}</td>\n      <td>")
    if d is not None:
        css = "ok" if s.status == "done" else "err" if s.status == "stopped" else ""
        cells.append(f'<span class="badge {css}">{_e(d.get_action_display())}')
        if d.rank:
            cells.append(f" · {_rank(d.rank)}")
        cells.append("</span>")
        if not d.active and d.action == "recommend":
            cells.append(
                f' <span class="muted small">{_e(d.get_deactivated_reason_display())}</span>'
            )
    elif s.status == "current":
        current = _e(_("审核中"))
        cells.append(f'<span class="badge warn">{current}</span>')
    else:
        cells.append('<span class="muted">—</span>')
    if s.opinions:
        cells.append('<ul class="small">')
        for o in s.opinions:
            cells.append(f"<li>{_e(o.org.name)}：")
            if o.verdict:
                cells.append(_e(o.get_verdict_display()))
                if o.opinion:
                    cells.append(f"（{_e(o.opinion)}）")
            else:
                waiting = _e(_("待发表意见"))
                cells.append(f'<span class="muted">{waiting}</span>')
            cells.append("</li>")
        cells.append("</ul>")
    cells.append("</td>\n      <td>")
    if d is not None:
        cells.append(_said(d))
    cells.append("</td>\n      <td>")
    if d is not None:
        cells.append(_who(d, ""))
    cells.append(f"</td>\n      <td>{_when(d.decided_at) if d is not None else ''}</td>\n    </tr>")
    return "".join(cells)


@register.simple_tag
def review_chain(review) -> str:
    """The "审核流程与各级意见" card: the unit's titles, then one row per level."""
    heading = _e(_("审核流程与各级意见"))
    out = [
        f'<section class="card" aria-labelledby="chain-h">\n  <h2 id="chain-h">{heading}</h2>\n  '
    ]
    if review.titles:
        sep, lead = _e(_("；")), _e(_("申报单位所获称号："))
        titles = sep.join(
            f'<span class="badge ok">{_e(t["name"])}</span> <span class="muted small">{_e(t["text"])}</span>'
            for t in review.titles
        )
        out.append(f"<p>{lead}{titles}</p>")
    out.append("\n  ")
    if review.steps:
        heads = _heads(
            _("层级"),
            _("审核单位"),
            _("截止时间"),
            _("结果"),
            _("意见 / 理由"),
            _("审核人"),
            _("时间"),
        )
        out.append(
            f'\n  <div class="table-wrap"><table>\n    <thead><tr>{heads}</tr></thead>\n    <tbody>'
        )
        out.extend(_step_row(s) for s in review.steps)
        out.append("</tbody>\n  </table></div>\n  ")
    else:
        none = _e(_("尚未提交。"))
        out.append(f'<p class="muted">{none}</p>')
    out.append("\n</section>")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


@register.simple_tag
def review_history(review) -> str:
    """The "审核记录" card: every decision on the application, all versions ("" if none)."""
    if not review.decisions:
        return ""
    heads = _heads(
        _("版本"), _("审核单位"), _("结果"), _("意见 / 理由"), _("审核人"), _("时间"), _("状态")
    )
    heading = _e(_("审核记录"))
    out = [
        '<section class="card" aria-labelledby="hist-h">\n'
        f'  <h2 id="hist-h">{heading}</h2>\n'
        f'  <div class="table-wrap"><table>\n    <thead><tr>{heads}</tr></thead>\n    <tbody>'
    ]
    valid = _e(_("有效"))
    for d in review.decisions:
        result = _e(d.get_action_display()) + (f" · {_rank(d.rank)}" if d.rank else "")
        state = (
            valid
            if d.active
            else f'<span class="muted">{_e(d.get_deactivated_reason_display())}</span>'
        )
        out.append(
            "<tr>\n"
            f"      <td>{_version(d.version)}</td>\n"
            f"      <td>{_e(d.org.name)}</td>\n"
            f"      <td>{result}</td>\n"
            f"      <td>{_said(d)}</td>\n"
            f"      <td>{_who(d, '—')}</td>\n"
            f"      <td>{_when(d.decided_at)}</td>\n"
            f"      <td>{state}</td>\n    </tr>"
        )
    out.append("</tbody>\n  </table></div>\n</section>")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
