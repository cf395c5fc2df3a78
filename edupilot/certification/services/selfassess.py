"""A school's self-assessment (学校自评) with its application to a batch that asks for one.

The school gives its own points per indicator, 0 to the item's maximum (its weight plus any
bonus), for the indicators of the standards that apply to it. It may save a draft; once it
submits, the bureau counts it: the batch's gate (``selfgate``) lets it be assessed and
certified, or keeps it out with the reason. Saving a submitted self-assessment submits it
again. Nothing can change once the batch is frozen, the school decided, or the day past.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from edupilot.audit.services import Actor, audit_record
from edupilot.core.inputs import PointsWords, read_points
from edupilot.core.notifications import notify
from edupilot.orgs.scoping import Scope

from ..models import Entry, EntryState, SelfAssessment
from ..permissions import BUREAU_ROLES, can_self_assess
from ..selfgate import SelfRules, gate_reason, rules_for
from .assessment import BatchPlan, assess_entries
from .common import Refused, check, entry_link

TWO = Decimal("0.01")


class SelfAssessmentInvalid(Refused):
    """Points that cannot be saved; ``errors`` maps indicator code → its message."""


@dataclass(frozen=True)
class SelfItem:
    """One indicator the school scores itself on, and its range."""

    code: str
    name: str
    dimension: str
    dimension_name: str
    max: Decimal
    standard: str


def self_items(entry: Entry, plan: BatchPlan | None = None) -> list[SelfItem]:
    """The indicators of the standards that apply to the school (the most derived of the
    main chain, and each additional standard), each once, with its maximum points."""
    plan = plan or BatchPlan(entry.batch)
    stages = entry.stage_list
    compiled = plan.standards_for(entry.certifier_id, stages)
    chain_len = len(plan.by_certifier.get(entry.certifier_id, plan.default_chain))
    items: dict[str, SelfItem] = {}
    for n, cs in enumerate(compiled):
        if 0 < n < chain_len:
            continue  # a base of the chain: the leaf carries its indicators
        standard = plan.standard_objs[cs.code]
        names = {d["key"]: d.get("name", d["key"]) for d in standard.dimensions}
        for ind in cs.indicators:
            top = Decimal(str(ind.weight + ind.bonus)).quantize(TWO)
            if ind.code in items or top <= 0:
                continue
            items[ind.code] = SelfItem(
                ind.code,
                ind.name,
                ind.dimension,
                names.get(ind.dimension, ind.dimension),
                top,
                standard.title,
            )
    return list(items.values())


def closed_reason(entry: Entry, rules: SelfRules | None, today: dt.date) -> str:
    """Why the school may not (or no longer) fill in its self-assessment; empty: it may."""
    if rules is None:
        return "本批次不要求学校自评"
    if entry.state == EntryState.EXEMPT:
        return "本校已自动认定，无需自评"
    if entry.state != EntryState.QUEUED:
        return "认定单位已作出结论，自评不能再修改"
    if entry.batch.is_frozen:
        return "本批次数据已冻结，自评不能再修改"
    closes = rules.closes_on(entry.batch)
    if today > closes:
        return f"自评已于 {closes:%Y-%m-%d} 截止"
    return ""


SELF_WORDS = PointsWords(
    required=gettext_lazy("请为“{name}”自评打分（0–{max:f} 分）"),
    not_number=gettext_lazy("“{name}”的自评分应为数字（0–{max:f} 分）"),
    out_of_range=gettext_lazy("“{name}”的自评分应在 0 到 {max:f} 之间，不能为 {text}"),
    too_precise=gettext_lazy("“{name}”的自评分最多保留两位小数"),
)


def parse_self_scores(
    items: list[SelfItem], raw: Mapping[str, str], *, complete: bool
) -> tuple[dict[str, Decimal], dict[str, list[str]]]:
    """Read the typed points: each within 0..the item's maximum, at most two decimals.
    A blank item is allowed in a draft, not in a submission."""
    # normalize(): the maximum is shown as 10, not 10.00.
    points = [(i.code, i.name, i.max.normalize()) for i in items]
    return read_points(points, raw, words=SELF_WORDS, places=TWO, complete=complete)


def _totals(items: list[SelfItem], values: dict[str, Decimal]):
    total = sum(values.values(), Decimal(0))
    top = sum((i.max for i in items), Decimal(0))
    dims: dict[str, list] = {}
    for i in items:
        row = dims.setdefault(i.dimension, [i.dimension_name, Decimal(0), Decimal(0)])
        row[1] += values.get(i.code, Decimal(0))
        row[2] += i.max
    return total, top, [[name, float(got), float(m)] for name, got, m in dims.values()]


@transaction.atomic
def self_assessment_save(
    *,
    entry: Entry,
    scores: Mapping[str, str],
    submit: bool,
    scope: Scope | None,
    actor: Actor,
    now: dt.datetime | None = None,
) -> SelfAssessment:
    """Save the school's self-assessment (a draft), or submit it: then the batch's gate is
    checked on it and the school re-assessed. Every item must be scored to submit."""
    now = now or timezone.now()
    entry = (
        Entry.objects.select_for_update(of=("self",))  # the programme may be null: lock the row
        .select_related("batch", "batch__programme", "school", "certifier")
        .get(pk=entry.pk)
    )
    check(can_self_assess(scope, entry))  # who acts (403), then whether now
    rules = rules_for(entry.batch)
    reason = closed_reason(entry, rules, timezone.localdate(now))
    if reason:
        raise Refused(reason)
    sa = SelfAssessment.objects.select_for_update().filter(entry=entry).first()
    submit = submit or (sa is not None and sa.submitted_at is not None)
    items = self_items(entry)
    values, errors = parse_self_scores(items, scores, complete=submit)
    if errors:
        raise SelfAssessmentInvalid(_("自评有需要修改的地方，见各项提示；本次未保存。"), errors)
    before = None
    if sa is None:
        sa = SelfAssessment(entry=entry)
    else:
        before = {"scores": sa.scores, "total": sa.total, "submitted": bool(sa.submitted_at)}
    sa.scores = {k: str(v) for k, v in values.items()}
    sa.total, sa.max_total, sa.dimensions = _totals(items, values)
    sa.updated_by = actor.user
    if submit:
        sa.submitted_at, sa.submitted_by = now, actor.user
    sa.save()
    gate = gate_reason(rules, sa)
    audit_record(
        actor=actor,
        action="certification.self_submit" if submit else "certification.self_save",
        obj=entry,
        before=before,
        after={"scores": sa.scores, "total": sa.total, "max": sa.max_total, "gate": gate},
    )
    if submit:
        assess_entries(batch=entry.batch, entry_ids=[entry.pk])
        notify(
            orgs=[entry.certifier_id],
            roles=BUREAU_ROLES,
            event="certification.self_submitted",
            title=f"{entry.school.name}已提交学校自评",
            body=f"自评总分 {sa.total}/{sa.max_total}。" + (gate or "符合本批次申报条件。"),
            link=entry_link(entry),
        )
    return sa
