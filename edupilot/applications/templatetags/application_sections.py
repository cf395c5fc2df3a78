"""``{% read_sections sections application %}``: an application's filled-in form, read-only.

The application page (the applicant's and the reviewer's) showed each section and field
through ~260 template nodes a request. Here the parts that come from the programme file —
each section's heading, each field's label, each group's header row — are escaped once per
programme version and category (:data:`_SKELETONS`, keyed by the file's sha256: a programme
loaded again with other labels gets a new key) and only the values are written per request.
The markup is the template's: same elements, same classes, every value escaped.
"""

from __future__ import annotations

from django import template
from django.template.defaultfilters import filesizeformat
from django.utils.html import linebreaks
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from edupilot.core.html import escape as _esc
from edupilot.core.links import url

register = template.Library()

# (programme sha256, category code) -> [(section head, [(field head, group header or "")])]
_SKELETONS: dict[tuple[str, str], list[tuple[str, list[tuple[str, str]]]]] = {}


def skeleton(programme, category_code: str, sections: list[dict]) -> list:
    """The sections' fixed markup for this programme version and category (cached)."""
    key = (programme.source_sha256, category_code)
    found = _SKELETONS.get(key)
    if found is None:
        found = []
        for section in sections:
            head = f'<section class="card">\n  <h2>{_esc(section["spec"].title)}</h2>\n  <dl class="kv">\n'
            fields = []
            for f in section["fields"]:
                group = ""
                if f.type == "group":
                    ths = "".join(f"<th>{_esc(sub.label)}</th>" for sub in f.spec.fields)
                    group = f'<div class="table-wrap"><table><thead><tr>{ths}</tr></thead><tbody>'
                fields.append((f"    <dt>{_esc(f.spec.label)}</dt>\n    <dd>\n      ", group))
            found.append((head, fields))
        if len(_SKELETONS) > 512:
            _SKELETONS.clear()
        _SKELETONS[key] = found
    return found


def _scan_check(a) -> str:
    # Messages are taken outside the f-strings: xgettext does not read inside one.
    if a.scan_check == "verified":
        ok = _("二维码已核验：本申报当前版本")
        return f' <span class="badge ok">{_esc(ok)}</span>'
    if a.scan_check == "no_code":
        missing, hint = _("未识别到二维码"), _("请人工核对盖章表格是否为本申报的当前版本。")
        return (
            f' <span class="badge warn">{_esc(missing)}</span>'
            f' <span class="muted small">{_esc(hint)}</span>'
        )
    return ""


def _attachments(application, f) -> str:
    if not f.attachments:
        none = _("未上传")  # outside the f-string: xgettext does not read inside one
        return f'<span class="muted">{_esc(none)}</span>'
    out = []
    for a in f.attachments:
        href = url("applications:attachment", application.pk, a.pk)
        name = _esc(a.filename)
        if a.blob.is_image:
            thumb = url("applications:attachment_thumb", application.pk, a.pk)
            icon = (
                f'<a href="{href}"><img class="thumb" src="{thumb}" alt="{name}"'
                f' loading="lazy"></a>'
            )
        else:
            icon = "📄"
        out.append(
            f'<div>{icon} <a href="{href}">{name}</a> <span class="muted">'
            f"{_esc(filesizeformat(a.blob.size))}</span>{_scan_check(a)}</div>"
        )
    return "".join(out)


def _value(application, f, group: str) -> str:
    if f.type == "attachment":
        return _attachments(application, f)
    if f.type == "members":
        n = len(f.members)
        names = _esc(_("、")).join(_esc(m.name) for m in f.members)
        count = ngettext("%(n)s 所", "%(n)s 所", n) % {"n": n}
        colon = _("：")
        return f"{_esc(count)}{_esc(colon)}{names}"
    if f.type == "group":
        rows = "".join(
            "<tr>" + "".join(f"<td>{_esc(cell.display)}</td>" for cell in row["cells"]) + "</tr>"
            for row in f.rows
        )
        return f"{group}{rows}</tbody></table></div>"
    if f.type == "longtext":
        chars = _esc(_("%(n)s 字") % {"n": f.chars})
        return (
            f'<div class="longtext">{linebreaks(f.display, autoescape=True)}</div>'
            f'<span class="muted">{chars}</span>'
        )
    return _esc(f.display) if f.display else "—"


@register.simple_tag
def read_sections(sections: list[dict], application) -> str:
    """Every section of the form with its fields' values (``presenters.form_context``)."""
    fixed = skeleton(application.programme, application.category, sections)
    out = []
    for (head, heads), section in zip(fixed, sections, strict=True):
        out.append(head)
        for (field_head, group), f in zip(heads, section["fields"], strict=True):
            out.append(f"{field_head}{_value(application, f, group)}\n    </dd>\n")
        out.append("  </dl>\n</section>\n")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
