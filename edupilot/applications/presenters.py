"""Turn a programme form and an application's data into what templates show."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from edupilot.orgs.models import Org

from . import files, formspec, prefill
from .models import Application, ApplicationVersion, Attachment
from .selectors import round_links
from .services import can_withdraw, edit_deadline


@dataclass(frozen=True)
class TopicChoice:
    """A topic the category offers; a sub-direction knows its direction (``[[topics]]``
    ``parent``)."""

    code: str
    name: str
    direction: str = ""  # the direction's name, for a sub-direction

    @property
    def label(self) -> str:
        return f"{self.direction} / {self.name}" if self.direction else self.name


def offered_topics(spec, category) -> list[TopicChoice]:
    """The category's topics in the file's order, each sub-direction with its direction."""
    names = {t.code: t.name for t in spec.topics}
    return [
        TopicChoice(t.code, t.name, names.get(t.parent, "") if t.parent else "")
        for t in spec.topics
        if t.code in category.topics
    ]


@dataclass
class FieldView:
    spec: object
    value: object = None
    errors: list[str] = field(default_factory=list)
    display: str = ""
    chars: int | None = None
    rows: list[dict] = field(default_factory=list)  # groups: [{"index": i, "cells": [FieldView]}]
    attachments: list = field(default_factory=list)
    members: list = field(default_factory=list)
    topics: list = field(default_factory=list)
    # The org tree knows this value (``locked`` in the form): shown, not typed.
    locked: bool = False

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def topic_groups(self) -> list[tuple[str, list[TopicChoice]]]:
        """The topic picker's groups: ``(direction, its sub-directions)``, a topic without a
        direction in a group of its own with no label (a two-level select, no script)."""
        groups: list[tuple[str, list[TopicChoice]]] = []
        by_direction: dict[str, list[TopicChoice]] = {}
        for t in self.topics:
            if not t.direction:
                groups.append(("", [t]))
            elif t.direction in by_direction:
                by_direction[t.direction].append(t)
            else:
                by_direction[t.direction] = [t]
                groups.append((t.direction, by_direction[t.direction]))
        return groups

    @property
    def type(self) -> str:
        return self.spec.type

    @property
    def name(self) -> str:
        return f"f-{self.spec.key}"

    # Attachment fields: what the file picker offers, the kinds named, how many are wanted.
    @property
    def picker_accept(self) -> str:
        return files.picker_accept(self.spec.accept)

    @property
    def accept_label(self) -> str:
        return files.accept_label(self.spec.accept)

    @property
    def count_hint(self) -> str:
        need = max(self.spec.min_count, 1 if self.spec.required else 0)
        if need > 1 and self.spec.max_count > need:
            return _("至少 %(min)s 个、最多 %(max)s 个文件") % {
                "min": need,
                "max": self.spec.max_count,
            }
        if need > 1:
            return _("须上传 %(n)s 个文件") % {"n": need}
        if self.spec.max_count > 1:
            return _("最多 %(max)s 个文件") % {"max": self.spec.max_count}
        return ""

    @property
    def selected(self) -> list:
        if isinstance(self.value, list):
            return [str(v) for v in self.value]
        return [] if self.value in (None, "") else [str(self.value)]

    @property
    def char_state(self) -> str:
        s = self.spec
        if self.chars is None or s.type != "longtext":
            return ""
        if s.max_chars and self.chars > s.max_chars:
            return "over"
        if s.min_chars and self.chars < s.min_chars:
            return "under"
        return ""


def display_value(spec, value, topics=None) -> str:
    if value in (None, "", []):
        return ""
    if spec.type == "choice":
        labels = {o.value: o.label for o in spec.options}
        values = value if isinstance(value, list) else [value]
        return _("、").join(labels.get(str(v), str(v)) for v in values)
    if spec.type == "topic":
        labels = {t.code: getattr(t, "label", t.name) for t in topics or []}  # or schema Topics
        return labels.get(value, str(value))
    if spec.type == "bool":
        return _("是") if value is True else _("否")
    if spec.type == "number" and getattr(spec, "unit", ""):
        return f"{value} {spec.unit}"
    return str(value)


def _posted(posted, key: str, multiple: bool):
    if posted is None:
        return None
    if multiple:
        return posted.getlist(key)
    return posted.get(key)


def detail_context(application: Application, scope) -> dict:
    """What an application's page shows of it, the applicant's page and the review page alike:
    its category, form and filled-in sections, and whether the applicant may withdraw or edit
    it now (and until when)."""
    category = application.category_spec
    may_withdraw, _why = can_withdraw(application)
    return {
        "application": application,
        "category": category,
        "sections": form_context(application)["sections"],
        "form": application.programme.parsed.form_for(category),
        "can_withdraw": may_withdraw and scope.is_applicant,
        "can_edit": application.is_editable and scope.is_applicant,
        "deadline": edit_deadline(application),
        **round_links(scope, application),
    }


def form_context(
    application: Application,
    *,
    errors: dict | None = None,
    posted=None,
    extra_rows: dict | None = None,
    attachments: list[Attachment] | None = None,
    member_orgs: list[Org] | None = None,
    editing: bool = False,
) -> dict:
    """Sections of field views for the edit page (``editing``: locked fields shown as the
    org's record has them) and, read-only, the detail page."""
    errors = errors or {}
    extra_rows = extra_rows or {}
    programme = application.programme
    spec = programme.parsed
    category = spec.category(application.category)
    form = spec.form_for(category)
    topics = offered_topics(spec, category)
    data = application.data or {}
    locked = (
        prefill.locked_values(form, application.applicant_org)
        if editing and any(f.locked for f in form.all_fields())
        else {}
    )
    if attachments is None:
        attachments = getattr(application, "current_attachments", None)
    if attachments is None:
        attachments = list(
            Attachment.objects.filter(application=application, is_current=True).select_related(
                "blob"
            )
        )
    if member_orgs is None:
        member_orgs = getattr(application, "member_orgs", None)
    if member_orgs is None:
        member_orgs = list(
            Org.objects.filter(memberships_in_bids__application=application).order_by("path")
        )
    by_field: dict[str, list[Attachment]] = {}
    for a in attachments:
        by_field.setdefault(a.field_key, []).append(a)
    sections = []
    for section in form.sections:
        views = []
        for f in section.fields:
            multiple = f.type == "choice" and f.multiple
            raw = _posted(posted, f"f-{f.key}", multiple)
            value = (
                raw
                if posted is not None and f.type not in ("group", "attachment", "members")
                else data.get(f.key)
            )
            if f.type == "topic" and value in (None, ""):
                value = application.topic
            if f.key in locked:
                value = locked[f.key]
            view = FieldView(spec=f, value=value, errors=errors.get(f.key, []), topics=topics)
            view.locked = f.key in locked
            view.display = display_value(f, value, topics)
            if f.type == "longtext":
                view.chars = formspec.count_chars(value or "", f.count)
            elif f.type == "attachment":
                view.attachments = by_field.get(f.key, [])
            elif f.type == "members":
                view.members = member_orgs
            elif f.type == "group":
                items = list(value or [])
                n = max(len(items), f.min_items) + extra_rows.get(f.key, 0)
                if not items and n == 0:
                    n = 1
                for i in range(min(n, f.max_items)):
                    item = items[i] if i < len(items) else {}
                    cells = []
                    for sub in f.fields:
                        sub_value = item.get(sub.key)
                        cell = FieldView(
                            spec=sub,
                            value=sub_value,
                            errors=errors.get(f"{f.key}.{i}.{sub.key}", []),
                        )
                        cell.display = display_value(sub, sub_value)
                        cells.append(cell)
                    view.rows.append({"index": i, "cells": cells, "prefix": f"f-{f.key}-{i}-"})
                view.errors = errors.get(f.key, []) + [
                    m for k, msgs in errors.items() if k.startswith(f"{f.key}.") for m in msgs
                ]
            views.append(view)
        sections.append({"spec": section, "fields": views})
    return {
        "application": application,
        "programme": programme,
        "category": category,
        "form": form,
        "sections": sections,
        "rule_errors": errors.get("__rules__", []),
        # The fields with errors, in form order: the page's one error summary links to them.
        "error_fields": [v for s in sections for v in s["fields"] if v.errors],
        "revision": application.revision,
        # One token per rendered form page; see Application.last_editor.
        "editor": posted.get("editor", "") if posted is not None else uuid.uuid4().hex,
    }


def version_sections(application: Application, version: ApplicationVersion) -> list[dict]:
    """A submitted version shown with the form's labels."""
    spec = application.programme.parsed
    category = spec.category(application.category)
    form = spec.form_for(category)
    topics = offered_topics(spec, category)
    out = []
    for section in form.sections:
        rows = []
        for f in section.fields:
            if f.type == "attachment":
                files = [
                    {**a, "is_image": a.get("content_type", "").startswith("image/")}
                    for a in version.attachments
                    if a["field"] == f.key
                ]
                rows.append({"label": f.label, "files": files, "type": f.type})
            elif f.type == "members":
                rows.append({"label": f.label, "members": version.members, "type": f.type})
            elif f.type == "group":
                items = version.data.get(f.key) or []
                table = [
                    [display_value(sub, item.get(sub.key)) for sub in f.fields] for item in items
                ]
                rows.append(
                    {
                        "label": f.label,
                        "headers": [s.label for s in f.fields],
                        "table": table,
                        "type": f.type,
                    }
                )
            else:
                value = version.data.get(f.key)
                if f.type == "topic" and not value:
                    value = version.topic
                rows.append(
                    {"label": f.label, "value": display_value(f, value, topics), "type": f.type}
                )
        out.append({"title": section.title, "rows": rows})
    return out


def version_diff(
    application: Application, old: ApplicationVersion, new: ApplicationVersion
) -> list[dict]:
    """Field-by-field differences between two submitted versions, in form order."""
    spec = application.programme.parsed
    category = spec.category(application.category)
    form = spec.form_for(category)
    topics = offered_topics(spec, category)
    changes = []
    for f in form.all_fields():
        if f.type == "attachment":
            before = sorted(
                (a["filename"], a["sha256"]) for a in old.attachments if a["field"] == f.key
            )
            after = sorted(
                (a["filename"], a["sha256"]) for a in new.attachments if a["field"] == f.key
            )
            if before != after:
                changes.append(
                    {
                        "label": f.label,
                        "before": _("、").join(n for n, _sha in before),
                        "after": _("、").join(n for n, _sha in after),
                    }
                )
        elif f.type == "members":
            before = {m["code"]: m["name"] for m in old.members}
            after = {m["code"]: m["name"] for m in new.members}
            if before != after:
                added = [after[c] for c in after.keys() - before.keys()]
                removed = [before[c] for c in before.keys() - after.keys()]
                changes.append(
                    {
                        "label": f.label,
                        "before": _("移出：%(names)s") % {"names": _("、").join(removed)}
                        if removed
                        else "",
                        "after": _("新增：%(names)s") % {"names": _("、").join(added)}
                        if added
                        else "",
                    }
                )
        else:
            b, a = old.data.get(f.key), new.data.get(f.key)
            if f.type == "topic":
                b, a = b or old.topic, a or new.topic
            if b != a:
                if f.type == "group":
                    changes.append(
                        {
                            "label": f.label,
                            "before": _("%(n)s 行") % {"n": len(b or [])},
                            "after": _("%(n)s 行（内容有修改）") % {"n": len(a or [])},
                        }
                    )
                else:
                    changes.append(
                        {
                            "label": f.label,
                            "before": display_value(f, b, topics),
                            "after": display_value(f, a, topics),
                            "long": f.type == "longtext",
                        }
                    )
    return changes


def title_line(application: Application, data: dict | None = None) -> tuple[str, str] | None:
    """How to show what names the application: ``(label, value)`` from the form field it
    came from, so a school's name is shown as 学校名称 and not as 项目名称; None when there
    is nothing to add to the applicant's own name (the page's heading already says it)."""
    category = application.category_spec
    if category is None:
        return None
    data = application.data if data is None else data
    f = formspec.title_field(application.programme.parsed.form_for(category), data or {})
    if f is None:
        return None
    value = str(data[f.key])
    if value == application.applicant_org.name and f.key not in formspec.TITLE_KEYS:
        return None
    return str(f.label), value
