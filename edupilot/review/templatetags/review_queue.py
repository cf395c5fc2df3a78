"""``{% queue_rows q pending passed detail_base %}``: the queue's 50 table rows in one call;
``{% queue_filters q %}`` and ``{% queue_head q pending passed %}``: its filter form and
table header (some 40 ``{% trans %}`` and ``{% if %}`` nodes a page, each translation looked
up through the request's thread-local, written here as one string).

The rows arrive as dicts of display strings (``queue._queue_row``); writing their cells
here instead of with ``{% for %}``/``{% if %}`` over each cell takes ~1,100 template node
renders off a page (half the view's time was the row loop). The markup is the template's:
same cells, same attributes, every value escaped.
"""

import functools
from html import escape as _escape

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from edupilot.core.templatetags.ui import options

register = template.Library()


def escape(value) -> str:
    # The standard library's escape (what django.utils.html.escape calls, without the lazy
    # wrapper that costs more than the escaping itself at ~500 values a page).
    return _escape(str(value), quote=True)


@register.simple_tag
def queue_rows(q, pending: bool, passed: bool, detail_base: str) -> str:
    rank_label = escape(_("推荐排序"))
    closed = escape(_("已截止"))
    base = escape(detail_base)
    show_programme = not q.programme
    show_topic = bool(q.topics)
    out = []
    # Most cells repeat from row to row (the parent, programme, category, state, level, lower
    # level, deadline): each distinct text is escaped once a page.
    escaped: dict = {}

    def esc(value) -> str:
        text = escaped.get(value)
        if text is None:
            text = escaped[value] = _escape(str(value), quote=True)
        return text

    for a in q.rows:
        pk = int(a["pk"])
        name = esc(a["name"])
        cells = ["<tr><td>"]
        if a["selectable"]:
            cells.append(f'<input type="checkbox" name="sel" value="{pk}" aria-label="{name}">')
        cells.append("</td>")
        if pending:
            cells.append("<td>")
            if a["rankable"]:
                cells.append(
                    f'<input type="number" name="rank-{pk}" min="1" step="1" style="width:4.5rem"'
                    f' aria-label="{rank_label}">'
                )
            cells.append("</td>")
        cells.append(f'<td><a href="{base}{pk}/">{name}</a>')
        if a["badge"]:  # the unit's titles (``[[categories.titles]]``)
            cells.append(f' <span class="badge ok">{esc(a["badge"])}</span>')
        if a["title"]:
            cells.append(f'<div class="muted small">{esc(a["title"])}</div>')
        cells.append(f"</td><td>{esc(a['parent'])}</td>")
        if show_programme:
            cells.append(f"<td>{esc(a['programme'])}</td>")
        cells.append(f"<td>{esc(a['category'])}</td>")
        if show_topic:
            cells.append(f"<td>{esc(a['topic'])}</td>")
        cells.append(f'<td><span class="badge">{esc(a["state_label"])}</span>')
        if a["level"]:
            cells.append(f'<div class="muted small">{esc(a["level"])}</div>')
        if a["version"]:
            cells.append(f' <span class="badge warn">{esc(a["version"])}</span>')
        cells.append(f"</td><td>{esc(a['lower'])}</td>")
        if passed:
            cells.append(f'<td class="num">{esc(a["my_rank"])}</td>')
        cells.append(f"<td>{esc(a['submitted'])}</td><td>{esc(a['deadline'])}")
        if a["late"]:
            cells.append(f' <span class="badge err">{closed}</span>')
        cells.append("</td></tr>\n")
        out.append("".join(cells))
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def _select(name: str, label: str, choices, selected, everything: str | None) -> str:
    """A filter's field: its label and ``<select>`` (``everything``: the "all" option)."""
    blank = f'<option value="">{escape(everything)}</option>' if everything is not None else ""
    return (
        f'<div class="field"><label for="f-{name}">{escape(label)}</label>\n'
        f'    <select id="f-{name}" name="{name}">{blank}{options(choices, selected)}</select></div>'
    )


def _programmes(q) -> str:
    """The programme filter: a choice among several, the one shown kept, or nothing."""
    if len(q.programmes) > 1:
        chosen = "" if q.filters.programme is None else str(q.filters.programme)
        choices = "".join(
            f'<option value="{int(p.pk)}"{" selected" if str(p.pk) == chosen else ""}>'
            f"{escape(p.parsed.short_title or p.title)}</option>"
            for p in q.programmes
        )
        label, everything = escape(_("项目")), escape(_("全部项目"))
        return (
            f'\n  <div class="field"><label for="f-programme">{label}</label>\n'
            f'    <select id="f-programme" name="programme"><option value="">{everything}'
            f"</option>\n      {choices}\n    </select></div>\n  "
        )
    if q.programme:
        return f'<input type="hidden" name="programme" value="{int(q.programme.pk)}">'
    return ""


@register.simple_tag
def queue_filters(q) -> str:
    """The queue's filter form (the programmes, the tab, the category, topic, county, stage,
    the name searched, the order), what was chosen selected; every value escaped."""
    f = q.filters
    everything = _("全部")
    title, search, name = escape(_("筛选")), escape(_("输入名称搜索")), escape(_("单位名称"))
    clear = escape(_("清除"))
    out = [
        f'<form method="get" class="filters card" role="search" aria-label="{title}">\n  ',
        _programmes(q),
        "\n  ",
        _select("state", _("范围"), q.states, f.state, None),
        "\n  ",
        _select("category", _("类别"), q.categories, f.category, everything)
        if q.categories
        else "",
        "\n  ",
        _select("topic", _("选题"), q.topics, f.topic, everything) if q.topics else "",
        "\n  ",
        _select("area", _("县（市、区）"), q.areas, f.area, everything) if q.areas else "",
        "\n  ",
        _select("stage", _("学段"), q.stages, f.stage, everything),
        f'\n  <div class="field"><label for="f-q">{name}</label><input id="f-q" type="search"'
        f' name="q" value="{escape(f.q)}" placeholder="{search}"></div>\n  ',
        _select("sort", _("排序"), q.sorts, f.sort, None),
        f'\n  <button type="submit">{title}</button>\n'
        f'  <a href="{escape(reverse("review:queue"))}" class="button secondary">{clear}</a>\n'
        "</form>",
    ]
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


@register.simple_tag
def queue_head(q, pending: bool, passed: bool) -> str:
    """The queue table's header row: the columns ``queue_rows`` writes."""
    choose, rank, unit, parent = _("选择"), _("推荐排序"), _("申报单位"), _("所属")
    programme, category, topic, state = _("项目"), _("类别"), _("选题"), _("状态")
    lower, mine, submitted, deadline = _("下级推荐"), _("本级排序"), _("提交时间"), _("本级截止")
    rank = f"<th>{escape(rank)}</th>" if pending else ""
    programme = "" if q.programme else f"<th>{escape(programme)}</th>"
    topic = f"<th>{escape(topic)}</th>" if q.topics else ""
    mine = f'<th class="num">{escape(mine)}</th>' if passed else ""
    return mark_safe(  # noqa: S308 - every label is escaped
        f'<thead><tr>\n    <th><span class="sr-only">{escape(choose)}</span></th>\n    {rank}\n'
        f"    <th>{escape(unit)}</th><th>{escape(parent)}</th>{programme}"
        f"<th>{escape(category)}</th>{topic}\n"
        f"    <th>{escape(state)}</th><th>{escape(lower)}</th>{mine}<th>{escape(submitted)}</th>"
        f"<th>{escape(deadline)}</th>\n  </tr></thead>"
    )


@register.simple_tag
def queue_bulk(q) -> str:
    """The bulk actions under the pending rows (at the deciding level, ``q.deciding``, only
    returning): the same for every page, written once per language."""
    return _bulk_form(get_language(), bool(q.deciding))


@functools.cache
def _bulk_form(language: str | None, deciding: bool) -> str:
    # As ``{% trans %}`` of a literal wrote them: the catalogue's texts as they are; but the
    # placeholder is an attribute value, escaped (the English has quotes, which ended the
    # attribute early in the template's version).
    legend, action, text = _("批量操作（所选申报全部成功或全部不变）"), _("操作"), _("意见 / 理由")
    if deciding:
        help_ = _("本级为审定层级：同意或不同意立项请在审定页面进行；此处可批量退回修改。")
        help_ = f'<p class="help muted">{help_}</p>\n  '
        recommend = not_recommend = ""
    else:
        help_ = _("批量推荐按“推荐排序”栏填写的顺序（未填的按勾选顺序）排在本级已有推荐之后。")
        help_ = f'<p class="help muted">{help_}</p>'
        recommend, not_recommend = _("推荐所选（在名额内）"), _("不予推荐")
        recommend = f'<option value="recommend">{recommend}</option>'
        not_recommend = f'<option value="not_recommend">{not_recommend}</option>'
    back = _("退回修改")
    hint = _escape(
        _("推荐时为推荐意见（默认“同意推荐。”）；退回或不予推荐时必须填写理由"), quote=True
    )
    run = _("执行")
    return mark_safe(  # noqa: S308 - the catalogue's texts, as {% trans %} writes them
        f"\n<fieldset>\n  <legend>{legend}</legend>\n  {help_}\n"
        f'  <div class="field"><label for="bulk-action">{action}</label>\n'
        f'    <select id="bulk-action" name="action">\n      {recommend}\n'
        f'      <option value="return">{back}</option>\n      {not_recommend}\n'
        f'    </select></div>\n  <div class="field"><label for="bulk-text">{text}</label>\n'
        f'    <textarea id="bulk-text" name="text" rows="3" maxlength="2000"'
        f' placeholder="{hint}"></textarea></div>\n'
        f'  <button type="submit">{run}</button>\n</fieldset>\n'
    )
