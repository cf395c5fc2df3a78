"""One school's assessment for display: each applicable standard, each indicator with its
status, value, threshold and where the value came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from .. import engine
from ..models import Entry, ImportRun, Indicator, SelfAssessment, Standard
from ..permissions import can_self_assess
from ..selfgate import gate_reason, rules_for
from ..services import BatchPlan, closed_reason, plain_values, self_items
from ..standards import fmt_threshold


@dataclass
class IndicatorRow:
    indicator: Indicator
    status: str
    value_text: str
    threshold_text: str
    advanced_text: str
    advanced_met: bool
    source_text: str
    as_of: str
    finding: Any = None
    points: float = 0.0  # what the data, an expert's score or the site check gives
    self_points: str | None = None  # the school's own score, where it assessed itself

    @property
    def status_label(self) -> str:
        if self.indicator.optional and self.status != engine.MET:
            return "未达到（可选项）" if self.status == engine.UNMET else "缺数据（可选项）"
        return engine.STATUS_LABELS[self.status]

    @property
    def badge(self) -> str:
        if self.status == engine.MET:
            return "ok"
        if self.indicator.optional:
            return ""
        return "err" if self.status == engine.UNMET else "warn"


@dataclass
class StandardSection:
    standard: Standard
    passed: bool
    incomplete: bool
    score: float
    max_score: float
    rows: list[IndicatorRow] = field(default_factory=list)
    is_base: bool = False
    rule_error: str = ""
    # (name, points, maximum) per dimension; (name, passed) per module; the grade and why
    # the school does not pass.
    dimensions: list[tuple[str, float, float]] = field(default_factory=list)
    modules: list[tuple[str, bool]] = field(default_factory=list)
    grade_name: str = ""
    reasons: list[str] = field(default_factory=list)


@dataclass
class EntryView:
    entry: Entry
    sections: list[StandardSection]
    provisional: str
    grade_name: str = ""
    # The batch's application gate: its rules (None: no self-assessment asked), the school's
    # self-assessment, and why the gate keeps it out ("" when it does not).
    self_rules: Any = None
    self_assessment: SelfAssessment | None = None
    gate: str = ""

    @property
    def unmet_rows(self) -> list[tuple[StandardSection, IndicatorRow]]:
        return [
            (s, r)
            for s in self.sections
            if not s.is_base
            for r in s.rows
            if r.status != engine.MET and not r.indicator.optional
        ]


def source_labels(entry: Entry) -> dict[str, str]:
    srcs = {item[1] for item in entry.data.values()}
    runs = ImportRun.objects.filter(
        pk__in=[int(s[1:]) for s in srcs if s.startswith("i") and s[1:].isdigit()]
    ).select_related("source")
    out = {f"i{r.pk}": f"{r.source.name}（{r.filename}）" for r in runs}
    for s in srcs:
        if s.startswith("c"):
            out[s] = "学校更正（已采纳）"
    return out


def entry_view(entry: Entry) -> EntryView:
    """Each applicable standard with each indicator: status, value, threshold and source."""
    plan = BatchPlan(entry.batch)
    stages = entry.stage_list
    values = plain_values(entry.data)
    findings = {}
    finding_objs = {}
    for visit in entry.visits.order_by("assigned_at", "pk").prefetch_related(
        "findings", "findings__evidence"
    ):
        for f in visit.findings.all():
            findings[f.indicator] = f.met
            finding_objs[f.indicator] = f
    labels = source_labels(entry)
    rules = rules_for(entry.batch)
    sa = SelfAssessment.objects.filter(entry=entry).first() if rules is not None else None
    self_scores = sa.scores if sa is not None else {}
    compiled = plan.standards_for(entry.certifier_id, stages)
    chain_len = len(plan.by_certifier.get(entry.certifier_id, plan.default_chain))
    sections = []
    outcomes = []
    for n, cs in enumerate(compiled):
        standard = plan.standard_objs[cs.code]
        names = {d["key"]: d.get("name", d["key"]) for d in standard.dimensions}
        outcome = cs.assess(values, stages, findings=findings, detail=True)
        outcomes.append(outcome)
        section = StandardSection(
            standard,
            outcome.passed,
            outcome.incomplete,
            outcome.score,
            outcome.max_score,
            is_base=0 < n < chain_len,
            rule_error=outcome.rule_error,
            dimensions=[
                (names.get(k, k), got, top) for k, (got, top) in outcome.dimensions.items()
            ],
            modules=[
                (m.get("name", m["key"]), outcome.modules.get(m["key"], False))
                for m in standard.rule.get("modules") or []
            ],
            grade_name=outcome.grade_name,
            reasons=outcome.reasons,
        )
        for ind in plan.indicator_rows[standard.pk]:
            o = outcome.indicators[ind.code]
            item = entry.data.get(ind.code)
            source = ""
            if o.source == "finding":
                source = "实地核查"
            elif item is not None:
                source = labels.get(item[1], item[1])
            section.rows.append(
                IndicatorRow(
                    indicator=ind,
                    status=o.status,
                    value_text=engine.format_value(ind.measure, o.value, ind.unit),
                    threshold_text=fmt_threshold(ind, o.threshold),
                    advanced_text=fmt_threshold(ind, ind.advanced)
                    if ind.advanced is not None
                    else "",
                    advanced_met=o.advanced,
                    source_text=source,
                    as_of=item[2] if item else "",
                    finding=finding_objs.get(ind.code),
                    points=o.points,
                    self_points=self_scores.get(ind.code),
                )
            )
        sections.append(section)
    result = engine.combine(outcomes)
    if rules is not None:
        result = engine.apply_gate(result, gate_reason(rules, sa))
    return EntryView(entry, sections, result.provisional, result.grade_name, rules, sa, result.gate)


def self_assessment_page(scope, entry: Entry, typed=None, errors=None) -> dict:
    """The school's self-assessment form: each indicator with its range and the points saved
    (or just typed, when they could not be saved), and whether it may still change."""
    rules = rules_for(entry.batch)
    sa = SelfAssessment.objects.filter(entry=entry).first() if rules is not None else None
    items = self_items(entry) if rules is not None else []
    values = typed if typed is not None else (sa.scores if sa is not None else {})
    errors = errors or {}
    rows = [
        {"item": i, "value": values.get(i.code, ""), "errors": errors.get(i.code, [])}
        for i in items
    ]
    closed = closed_reason(entry, rules, timezone.localdate())
    return {
        "entry": entry,
        "batch": entry.batch,
        "rules": rules,
        "sa": sa,
        "rows": rows,
        "max_total": sum((i.max for i in items), 0),
        "closed": closed,
        "may_edit": not closed and can_self_assess(scope, entry)[0],
        "gate": gate_reason(rules, sa) if rules is not None else "",
        "closes": rules.closes_on(entry.batch) if rules is not None else None,
    }
