"""What the programme pages show, assembled from the parsed file (no queries but the quotas)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from edupilot.orgs.models import OrgKind, Stage, Tier

from . import schema
from .flow import resolved_stages
from .models import Programme
from .pilot_schema import due_rule
from .quotas import formula_text

TIER_LABEL = dict(Tier.choices)
STAGE_KIND_LABELS = {
    "tier_review": _("按层级审核"),
    "org_review": _("指定单位审核"),
    "joint_review": _("联合审核"),
    "expert_scoring": _("专家评审"),
    "approval": _("审定"),
    "announcement": _("公示"),
}
KIND_LABEL = dict(OrgKind.choices)
STAGE_LABEL = dict(Stage.choices)
TYPE_LABEL = {
    "text": _("文本"),
    "longtext": _("长文本"),
    "number": _("数字"),
    "choice": _("选择"),
    "date": _("日期"),
    "phone": _("电话"),
    "email": _("电子邮箱"),
    "bool": _("确认项"),
    "topic": _("选题"),
    "attachment": _("附件"),
    "members": _("成员学校"),
    "group": _("重复组"),
}


@dataclass
class FieldView:
    label: str
    type: str
    required: bool
    details: list[str] = field(default_factory=list)
    outline: list[str] = field(default_factory=list)


def field_view(f) -> FieldView:
    v = FieldView(f.label, str(TYPE_LABEL.get(f.type, f.type)), f.required)
    if f.type == "longtext":
        if f.target_chars:
            v.details.append(f"约 {f.target_chars} 字")
        if f.min_chars or f.max_chars:
            v.details.append(f"{f.min_chars or 0}–{f.max_chars or '不限'} 字")
        v.outline = list(f.outline)
    elif f.type == "choice":
        v.details.append(
            "、".join(o.label for o in f.options) + ("（可多选）" if f.multiple else "")
        )
    elif f.type == "number" and f.unit:
        v.details.append(f.unit)
    elif f.type == "attachment":
        kinds = "、".join(k.upper() for k in f.accept)
        v.details.append(f"{kinds}，≤{f.max_mb}MB，{f.min_count}–{f.max_count} 个")
    elif f.type == "members":
        v.details.append(f"至少 {f.min_items} 所")
    elif f.type == "phone":
        v.details.append(
            {"mobile": "手机", "landline": "固定电话", "any": "手机或固定电话"}[f.kind]
        )
    if f.help:
        v.details.append(f.help)
    return v


def form_view(key: str, form: schema.Form) -> dict:
    return {
        "key": key,
        "title": form.title,
        "instructions": form.instructions,
        "sections": [
            {"title": s.title, "fields": [field_view(f) for f in s.fields]} for s in form.sections
        ],
        "opinions": form.opinions,
    }


def category_view(programme: Programme, spec: schema.Programme, c: schema.Category) -> dict:
    return {
        "code": c.code,
        "name": c.name,
        "description": c.description,
        "kinds": [KIND_LABEL.get(k, k) for k in c.applicant_kinds],
        "stages": [STAGE_LABEL.get(s, s) for s in c.stages],
        "topics": [spec.topic_label(t) for t in c.topics],
        "cap": c.cap,
        "closes_at": programme.category_closes_at(c.code),
        "form": spec.forms[c.form].title,
        "rules": c.rules,
        "flow": [
            {"stage": r, "kind": STAGE_KIND_LABELS[r.kind], "spec": c.stage(r.key)}
            for r in resolved_stages(programme, c)
        ],
        "quotas": [
            {
                "level": TIER_LABEL.get(q.level, q.level),
                "formula": formula_text(q),
                "declared_total": q.declared_total,
                "unlisted": q.unlisted,
                "note": q.note,
            }
            for q in c.quotas
        ],
        "set_rules": [{"message": r.message, "text": r.describe()} for r in c.set_rules]
        + [{"message": t.describe(), "text": ""} for t in c.titles],
    }


def programme_view(programme: Programme) -> dict:
    spec = programme.parsed
    pilot = spec.pilot
    return {
        "spec": spec,
        "categories": [category_view(programme, spec, c) for c in spec.categories],
        "forms": [form_view(k, f) for k, f in spec.forms.items()],
        "pilot": pilot,
        "pilot_stages": [
            {"name": s.name, "kind": s.kind_label, "rule": due_rule(s)} for s in pilot.pipeline
        ]
        if pilot
        else [],
        "batches": [
            {
                "batch": programme.batch_spec(b.code),  # its dates moved like the programme's
                "categories": [spec.category(x).name for x in b.categories],
            }
            for b in spec.batches
        ],
        "summary_tables": spec.summary_tables,
    }
