"""``{% review_links review %}``, ``{% review_chain review %}``, ``{% review_actions review
application %}`` and ``{% review_history review %}``: the application page's own buttons, its
chain of levels with their opinions, the acting level's quota and action forms, and the
record of every decision, each in one call.

They write what ``selectors.review_detail`` computed (its ``steps``, ``titles`` and
``decisions``) with the markup the template's loops wrote — same elements, classes and
texts, every value escaped — without the ~100 template nodes (each ``{% trans %}``,
``{% blocktrans %}`` and filter a context lookup) those loops rendered a request.
"""

from __future__ import annotations

from django import template
from django.template.defaultfilters import linebreaksbr
from django.template.defaulttags import CsrfTokenNode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from edupilot.accounts.templatetags.handover import handover_mark
from edupilot.core.html import escape as _e
from edupilot.core.html import local_minute as _when
from edupilot.core.links import url

register = template.Library()


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


@register.simple_tag(takes_context=True)
def review_links(context, review) -> str:
    """The page's own buttons in the top card: to the acting level's card, back to the
    queue (a reviewer), to the chain."""
    out = ["\n"]
    if review.acting_step:
        label = _e(_("本级审核"))
        out.append(f'<a class="button" href="#act-h">{label}</a>')
    out.append("\n")
    if context["request"].scope.is_reviewer:
        back = _e(_("返回审核列表"))
        out.append(f'<a class="button secondary" href="{url("review:queue")}">{back}</a>')
    chain = _e(_("审核流程与意见"))
    out.append(f'\n<a class="button secondary" href="#chain-h">{chain}</a>\n')
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


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


def _quota_line(qs) -> str:
    """One bucket of the acting level: its limit, use and places left."""
    out = [f"\n    <p>{_e(qs.name)}", _e(_("："))]
    if qs.unlimited:
        out.append(_e(_("不限")))
        out.append(_e(_("，已推荐 %(u)s 个") % {"u": qs.used}))
    else:
        out.append(
            _e(
                _("共 %(l)s 个，已用 %(u)s 个，剩余 %(r)s 个")
                % {"l": qs.limit, "u": qs.used, "r": qs.left}
            )
        )
        if qs.left == 0:
            full = _e(_("已满"))
            out.append(f' <span class="badge err">{full}</span>')
    out.append("</p>\n  ")
    return "".join(out)


def _form(action: str, csrf: str, legend: str, fields: str, button: str, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return (
        f'\n  <form method="post" action="{action}">{csrf}\n    <fieldset><legend>{legend}</legend>\n'
        f'{fields}\n      <button type="submit"{klass}>{button}</button>\n    </fieldset>\n  </form>\n  '
    )


def _recommend_fields(review) -> str:
    rank, hint = (
        _e(_("推荐排序（本级推荐中的名次）")),
        _e(_("填写已有的名次时，原名次及之后的推荐依次后移。")),
    )
    agree, n = _e(_("同意推荐。")), _e(review.next_rank)
    return (
        f'      <div class="field"><label for="rec-rank">{rank}</label>\n'
        f'        <input id="rec-rank" type="number" name="rank" min="1" max="{n}" value="{n}" style="max-width:8rem">\n'
        f'        <div class="help">{hint}</div></div>\n'
        f'      <div class="field"><label for="rec-opinion">{_e(review.acting_step.opinion_title)}</label>\n'
        f'        <textarea id="rec-opinion" name="opinion" rows="3" maxlength="2000" required>{agree}</textarea></div>'
    )


def _text_field(key: str, name: str, label: str) -> str:
    return (
        f'      <div class="field"><label for="{key}">{label}</label>\n'
        f'        <textarea id="{key}" name="{name}" rows="3" maxlength="2000" required></textarea></div>'
    )


@register.simple_tag(takes_context=True)
def review_actions(context, review, application) -> str:
    """The acting level's card ("本级审核"): its deadline, its quota buckets and the forms of
    the actions the reviewer may take now (``review.can``)."""
    step = review.acting_step
    heading = _e(_("本级审核：%(level)s") % {"level": step.name})
    deadline = _e(
        _("本级审核截止时间：%(d)s（北京时间），截止后不能再操作。") % {"d": _when(step.deadline)}
    )
    out = [
        '<section class="card" aria-labelledby="act-h">\n'
        f'  <h2 id="act-h">{heading}</h2>\n  <p class="muted">{deadline}</p>\n  '
    ]
    out.extend(_quota_line(qs) for qs in review.quota)
    out.append("\n\n  ")
    csrf = CsrfTokenNode().render(context)
    pk = application.pk
    if review.can["recommend"][0]:
        label = _e(_("推荐"))
        out.append(
            _form(
                url("review:recommend", pk),
                csrf,
                label,
                _recommend_fields(review),
                label,
            )
        )
    # The two refusals: one reason box each (action, its field's id and name, legend and
    # button, the box's label, the button's style).
    for action, key, name, label, why, css in (
        (
            "return",
            "ret-reasons",
            "reasons",
            _("退回修改"),
            _("退回理由（申报单位将看到）"),
            "secondary",
        ),
        ("not_recommend", "nr-reason", "reason", _("不予推荐"), _("理由"), "danger"),
    ):
        out.append("\n  ")
        if review.can[action][0]:
            label, fields = _e(label), _text_field(key, name, _e(why))
            out.append(_form(url(f"review:{action}", pk), csrf, label, fields, label, css))
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
