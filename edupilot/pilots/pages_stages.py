"""The pilot page's sections for inspections, acceptance, titles, awards and cases; the
issuer's titles-and-awards page, the form pages, and the public list.

Buttons come from the transition tables (``INSPECTION`` / ``HONOUR``) or from the stage
predicates (``permissions.py``), each allowed or greyed out with the reason; templates read
these and do not look at states themselves.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from edupilot.core.workflow import Action

from .acceptance import acceptance_summary
from .inspections import MODE_LABELS
from .models import (
    AcceptanceReview,
    Award,
    AwardBudget,
    Honour,
    HonourState,
    Pilot,
    PilotState,
    Submission,
    SubmissionState,
)
from .permissions import (
    can_assign_acceptance_expert,
    can_decide_acceptance,
    can_grant_award,
    can_manage_honours,
    can_record_honour_objection,
    can_schedule_inspection,
    is_inspector,
    is_pilot_unit,
)
from .workflows import HONOUR, INSPECTION

TEMPLATE = "pilots/_stages.html"


def _action(name, label, result, url, pk, style="primary") -> Action:
    ok, reason = result
    return Action(name, str(label), ok, reason, url, style, pk)


def _inspection_section(scope, pilot, stage) -> dict:
    rows = []
    for i in pilot.inspections.select_related("org").prefetch_related("evidence").all():
        i.pilot = pilot
        rows.append({"inspection": i, "mode": MODE_LABELS.get(i.mode, i.mode),
                     "actions": INSPECTION.actions(scope, i), "evidence": list(i.evidence.all())})  # fmt: skip
    return {
        "template": TEMPLATE, "kind": "inspection", "stage": stage, "rows": rows,
        "schedule": _action("schedule", INSPECTION["schedule"].label,
                            can_schedule_inspection(scope, pilot), "pilots:inspection_schedule",
                            pilot.pk),
    }  # fmt: skip


def _acceptance_section(scope, pilot, stage) -> dict:
    sub = (
        Submission.objects.filter(pilot=pilot, stage=stage.key)
        .prefetch_related(
            Prefetch("reviews", AcceptanceReview.objects.select_related("expert", "expert_org"))
        )
        .first()
    )
    section = {"template": TEMPLATE, "kind": "acceptance", "stage": stage, "submission": sub}
    if sub is None:
        return section
    sub.pilot = pilot
    section["summary"] = acceptance_summary(sub)
    section["reviews"] = [r for r in sub.reviews.all() if r.is_active]
    section["assign"] = _action("assign", _("分配专家"), can_assign_acceptance_expert(scope, sub),
                                "pilots:acceptance_assign", sub.pk)  # fmt: skip
    section["decide"] = _action("decide", _("评定验收等级"), can_decide_acceptance(scope, sub),
                                "pilots:acceptance_decide", sub.pk)  # fmt: skip
    if section["assign"].allowed:
        from edupilot.selection.models import ExpertPoolMember

        section["pool"] = list(
            ExpertPoolMember.objects.filter(programme=pilot.programme, is_active=True)
            .select_related("membership__user", "membership__org")
            .order_by("pk")
        )
    return section


def _appraisal_section(scope, pilot, stage) -> dict:
    return {
        "template": TEMPLATE, "kind": "appraisal", "stage": stage,
        "honours": list(pilot.honours.filter(stage=stage.key)),
        "honours_programme": pilot.programme_id,
        "propose": _action("propose", _("拟认定"), can_manage_honours(scope, pilot.programme),
                           "pilots:honour_propose", pilot.pk),
    }  # fmt: skip


def _awards_section(scope, pilot, stage) -> dict:
    return {
        "template": TEMPLATE, "kind": "awards", "stage": stage,
        "award": pilot.awards.filter(stage=stage.key).first(),
        "grant": _action("grant", _("授予奖补"), can_grant_award(scope, pilot),
                         "pilots:award_grant", pilot.pk),
        "amount": stage.by_grade.get(pilot.grade) if stage.by_grade else None,
    }  # fmt: skip


BUILDERS = {
    "inspection": _inspection_section,
    "acceptance": _acceptance_section,
    "appraisal": _appraisal_section,
    "awards": _awards_section,
}


def stage_sections(scope, pilot) -> list[dict]:
    spec = pilot.spec
    if spec is None:
        return []
    return [BUILDERS[s.kind](scope, pilot, s) for s in spec.pipeline if s.kind in BUILDERS]


# --- form pages -------------------------------------------------------------------------------


def _f(name, label, type_="text", **kw) -> dict:
    return {"name": name, "label": label, "type": type_, **kw}


def schedule_form(scope, pilot) -> dict:
    stage = pilot.spec.stage_of("inspection")
    modes = [(m, MODE_LABELS[m]) for m in (stage.modes if stage else [])]
    return {
        "title": _("安排检查"), "subject": pilot.unit.name,
        "fields": [_f("mode", _("检查方式"), "choice", options=modes),
                   _f("scheduled_for", _("检查日期"), "date"),
                   _f("team", _("检查组成员"), help=_("姓名，用顿号分隔"))],
        "action": _action("schedule", _("安排检查"), can_schedule_inspection(scope, pilot), "", 0),
        "permitted": is_inspector(scope, pilot)[0],
    }  # fmt: skip


def _inspection_form(scope, inspection, transition, title, fields, shown=(), who=is_inspector):
    """The form of an inspection's step: what it shows, its button from the table, and who
    the form is for (the inspector, or the pilot unit)."""
    return {
        "title": title, "subject": inspection.pilot.unit.name, "shown": list(shown),
        "fields": fields,
        "action": _table_action(scope, inspection, transition),
        "permitted": who(scope, inspection.pilot)[0],
    }  # fmt: skip


def record_form(scope, inspection) -> dict:
    fields = [
        _f("findings", _("检查意见"), "longtext"),
        _f("demands", _("整改要求"), "longtext", help=_("不需整改的留空，检查即结束")),
        _f("rectify_days", _("整改期限（天）"), "number"),
    ]
    return _inspection_form(scope, inspection, "record", _("填写检查意见"), fields)


def respond_form(scope, inspection) -> dict:
    fields = [_f("response", _("整改情况"), "longtext"),
              _f("evidence", _("佐证材料（PDF，可选多个）"), "files")]  # fmt: skip
    shown = [(_("整改要求"), inspection.demands), (_("整改期限"), inspection.rectify_by)]
    return _inspection_form(
        scope, inspection, "respond", _("提交整改情况"), fields, shown, who=is_pilot_unit
    )


def close_form(scope, inspection) -> dict:
    again = [("0", _("整改验收，结束检查")), ("1", _("整改不到位，继续整改"))]
    fields = [
        _f("conclusion", _("意见"), "longtext"),
        _f("again", _("结论"), "choice", options=again),
        _f("rectify_days", _("继续整改期限（天）"), "number"),
    ]
    shown = [(_("整改要求"), inspection.demands), (_("整改情况"), inspection.response)]
    return _inspection_form(scope, inspection, "close", _("整改验收"), fields, shown)


def _table_action(scope, obj, name) -> Action:
    t = INSPECTION[name]
    if not t.leaves(obj.state):
        return Action(name, str(t.label), False, _("当前状态不能办理。"), None, t.style, obj.pk)
    ok, reason = t.check_permission(scope, obj)
    return Action(name, str(t.label), ok, reason, None, t.style, obj.pk)


def score_form(scope, review) -> dict:
    from .permissions import can_score_acceptance

    sub = review.submission
    stage = sub.pilot.spec.stage(sub.stage)
    current = {s.criterion: s.score for s in review.scores.all()}
    fields = [_f(c.key, f"{c.name}（0–{c.max}）", "number", value=current.get(c.key, ""))
              for c in stage.criteria]  # fmt: skip
    fields += [_f("comment", _("评审意见"), "longtext", value=review.comment),
               _f("submit", _("提交方式"), "choice",
                  options=[("0", _("暂存")), ("1", _("提交（提交后不能修改）"))])]  # fmt: skip
    return {
        "title": _("验收评分"), "subject": f"{sub.pilot.unit.name} · {stage.name}",
        "shown": [(k, v) for k, v in sub.data.items() if isinstance(v, str)][:20],
        "fields": fields,
        "action": _action("score", _("保存"), can_score_acceptance(scope, review), "", review.pk),
    }  # fmt: skip


# --- the issuer's titles and awards page ---------------------------------------------------


def honours_page(scope, programme) -> dict:
    spec = programme.parsed.pilot
    stages = [s for s in (spec.pipeline if spec else []) if s.kind == "appraisal"]
    out = []
    for s in stages:
        rows = []
        for h in (
            Honour.objects.filter(pilot__programme=programme, stage=s.key)
            .select_related("pilot", "pilot__unit", "pilot__programme")
            .prefetch_related("objections")
        ):
            rows.append({
                "honour": h,
                "actions": HONOUR.actions(scope, h, names=["withdraw"]),
                "objections": list(h.objections.all()),
                "can_object": can_record_honour_objection(scope, h)[0],
            })  # fmt: skip
        out.append({"stage": s, "rows": rows})
    page = awards_page(scope, programme)
    return {"programme": programme, "appraisals": out, "awards": page["stages"]}


def awards_page(scope, programme) -> dict:
    spec = programme.parsed.pilot
    stages = [s for s in (spec.pipeline if spec else []) if s.kind == "awards"]
    out = []
    for s in stages:
        budget = AwardBudget.objects.filter(programme=programme, stage=s.key).first()
        awards = list(
            Award.objects.filter(pilot__programme=programme, stage=s.key)
            .select_related("pilot", "pilot__unit", "pilot__programme")
            .order_by("rank", "pk")
        )
        granted = budget.granted if budget else 0
        total = budget.budget if budget else s.budget  # the row, once made, is the budget
        out.append({"stage": s, "awards": awards, "granted": granted, "budget": total,
                    "remaining": total - granted})  # fmt: skip
    return {"programme": programme, "stages": out}


# --- public ------------------------------------------------------------------------------


def public_page() -> dict:
    """Final titles and accepted cases: unit names, titles and case texts only."""
    honours = (
        Honour.objects.filter(state=HonourState.FINAL)
        .select_related("pilot__unit", "pilot__programme")
        .order_by("-final_at", "pk")[:500]
    )
    cases = []
    for sub in (
        Submission.objects.filter(kind="cases", state=SubmissionState.ACCEPTED)
        .select_related("pilot__unit", "pilot__programme")
        .order_by("-decided_at", "pk")[:200]
    ):
        stage = sub.pilot.spec.stage(sub.stage)
        texts = [(f.label, sub.data.get(f.key)) for f in (stage.fields if stage else [])
                 if f.type in ("text", "longtext") and isinstance(sub.data.get(f.key), str)]  # fmt: skip
        if not texts and isinstance(sub.data.get("summary"), str):
            texts = [(_("案例"), sub.data["summary"])]
        cases.append({"submission": sub, "stage": stage, "texts": texts})
    accepted = Pilot.objects.filter(state=PilotState.ACCEPTED).count()
    return {"honours": honours, "cases": cases, "accepted": accepted}
