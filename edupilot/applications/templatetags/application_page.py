"""``{% application_head %}`` and ``{% version_list application %}``: the application page's
top (the breadcrumb, the heading, the card of its programme, state, links between rounds,
version and chain, and the applicant's actions) and its record of submissions, each in one
call.

They write what ``applications/detail.html`` wrote there — same elements, classes and texts,
every value escaped (the translated texts are the catalogue's, as ``{% blocktrans %}`` left
them) — without the ~120 template nodes (each ``{% trans %}``, ``{% url %}`` and filter a
context lookup) those parts rendered a request, on the applicant's page and the reviewer's.
"""

from __future__ import annotations

from django import template
from django.template import Engine
from django.template.defaulttags import CsrfTokenNode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from edupilot.core.html import escape as _e
from edupilot.core.html import local_minute as _when
from edupilot.core.links import url

register = template.Library()


def _handover_mark(user, when) -> str:
    """The ``handover`` library's ``handover_mark`` filter, as the template loaded it (accounts
    sits beside applications, not below: its filter is reached through the engine)."""
    library = Engine.get_default().template_libraries["handover"]
    return library.filters["handover_mark"](user, when)


def _chain(application) -> str:
    """The levels of the chain, the one reviewing now in bold."""
    opening, closing = _e(_("（")), _e(_("）"))
    acting = application.current_step if application.state == "submitted" else None
    parts = []
    for i, step in enumerate(application.chain):
        text = f"{_e(step['org_name'])}{opening}{_e(step['name'])}{closing}"
        parts.append(f"<strong>{text}</strong>" if i == acting else text)
    return " → ".join(parts)


def _rounds(application, forwarded_to, from_round) -> str:
    """Where a round's confirmed bid went, and which round a parent's bid came from."""
    out = []
    if forwarded_to:
        went = _("本级评选确认后，已推荐至上级项目“%(parent)s”，由上级继续审核。") % {
            "parent": _e(forwarded_to.programme.title)
        }
        state = forwarded_to.get_state_display()
        head, see = _e(_("推荐去向")), _e(_("查看上级项目中的申报"))
        out.append(
            f"<dt>{head}</dt><dd>{went} "
            f'<a href="{url("applications:detail", forwarded_to.pk)}">'
            f"{see}</a>{f'（{_e(state)}）' if state else ''}</dd>"
        )
    elif application.state == "forwarded":
        head, went = _e(_("推荐去向")), _e(_("本级评选确认后，已推荐至上级项目。"))
        out.append(f"<dt>{head}</dt><dd>{went}</dd>")
    out.append("\n    ")
    if from_round:
        came = _("经下级评选“%(round)s”确认后推荐报送。") % {
            "round": _e(from_round.programme.title)
        }
        head, see = _e(_("来源")), _e(_("查看下级评选中的申报"))
        out.append(
            f"<dt>{head}</dt><dd>{came} "
            f'<a href="{url("applications:detail", from_round.pk)}">'
            f"{see}</a></dd>"
        )
    return "".join(out)


def _actions(context, application) -> str:
    """The applicant's own buttons (edit, withdraw) and the form's PDF."""
    pk = application.pk
    out = ["\n    "]
    if context.get("can_edit"):
        edit = _e(_("修改申报"))
        out.append(f'<a class="button" href="{url("applications:edit", pk)}">{edit}</a>')
    out.append("\n    ")
    if context.get("can_withdraw"):
        withdraw = _e(_("撤回申报"))
        out.append(
            f'<form method="post" action="{url("applications:withdraw", pk)}" class="inline">'
            f'{CsrfTokenNode().render(context)}<button type="submit" class="secondary">'
            f"{withdraw}</button></form>"
        )
    pdf = _e(_("打印申报表（PDF）"))
    out.append(
        f'\n    <a class="button secondary" href="{url("documents:application_form", pk)}">'
        f"{pdf}</a>\n    "
    )
    return "".join(out)


@register.simple_tag(takes_context=True)
def application_head(context) -> str:
    """The breadcrumb, the heading and the top card up to the page's own actions (the
    template's ``extra_actions`` block follows)."""
    application, category = context["application"], context.get("category")
    programme = _e(application.programme.title)
    if context["request"].scope.is_applicant:
        back_url, back_label = url("applications:home"), _e(_("我的申报"))
    else:
        back_url, back_label = url("applications:org_list"), _e(_("申报列表"))
    back = f'<a href="{back_url}">{back_label}</a>'
    category_name = _e(category.name) if category is not None else ""
    programme_label, state_label = _e(_("项目")), _e(_("状态"))
    out = [
        f'<p class="muted">{back} / {programme}</p>\n'
        f"<h1>{_e(application.applicant_org.name)} · {category_name}</h1>\n"
        '<div class="card">\n  <dl class="kv">\n'
        f"    <dt>{programme_label}</dt><dd>{programme}</dd>\n"
        f'    <dt>{state_label}</dt><dd><span class="badge">'
        f"{_e(application.get_state_display())}</span>\n      "
    ]
    if application.current_org:
        where = _("当前在 %(org)s 审核") % {"org": _e(application.current_org.name)}
        out.append(f" {where}")
    out.append("</dd>\n    ")
    out.append(_rounds(application, context.get("forwarded_to"), context.get("from_round")))
    out.append("\n    ")
    if application.version:
        version = _("第 %(n)s 版，提交于 %(d)s") % {
            "n": _e(application.version),
            "d": _when(application.submitted_at),
        }
        label = _e(_("版本"))
        out.append(f"<dt>{label}</dt><dd>{version}</dd>")
    out.append("\n    ")
    if application.chain:
        label = _e(_("审核流程"))
        out.append(f"<dt>{label}</dt><dd>{_chain(application)}</dd>")
    out.append('\n  </dl>\n  <div class="actions">')
    out.append(_actions(context, application))
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


@register.simple_tag
def version_list(application) -> str:
    """The "提交记录" card: every submitted version, newest first ("" if none)."""
    versions = application.version_list
    if not versions:
        return ""
    heads = "".join(f"<th>{_e(label)}</th>" for label in (_("版本"), _("提交时间"), _("提交人")))
    see, title = _e(_("查看")), _e(_("提交记录"))
    rows = []
    for v in versions:
        user = v.submitted_by
        who = _e((user.display_name if user is not None else "") or "—")
        mark = _e(_handover_mark(user, v.submitted_at))
        number = _("第 %(n)s 版") % {"n": _e(v.number)}
        href = url("applications:version", application.pk, v.number)
        rows.append(
            f"<tr><td>{number}</td><td>{_when(v.submitted_at)}</td><td>{who}{mark}</td>\n"
            f'    <td><a href="{href}">{see}</a></td></tr>'
        )
    return mark_safe(  # noqa: S308 - every value above is escaped
        f'\n<section class="card">\n  <h2>{title}</h2>\n'
        f"  <table><thead><tr>{heads}<th></th></tr></thead>\n"
        f"  <tbody>{''.join(rows)}</tbody></table>\n</section>\n"
    )
