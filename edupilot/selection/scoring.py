"""Scoring: the expert's rubric scores, each expert's total, the aggregate, the ranking, and
the expert group's opinion (专家组意见).

An expert's scores may be saved as a draft; submitting freezes them. Without a rubric in the
programme file the expert gives its opinion only. The issuer sees one :class:`ScoreLine` per
application: the submitted totals, their aggregate (mean or trimmed mean), the spread and
whether the experts disagree beyond the rubric's threshold.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from edupilot.applications.models import Application
from edupilot.audit.services import Actor, audit_record
from edupilot.core.errors import check
from edupilot.core.inputs import PointsWords, read_points
from edupilot.orgs.scoping import Scope
from edupilot.programmes import schema
from edupilot.programmes.grading import GradeSpec, grade_for
from edupilot.review.services import review_panel_done

from .errors import SelectionDenied, SelectionError
from .models import ExpertAssignment, ExpertGroupOpinion, ExpertScore
from .permissions import (
    at_panel,
    can_score_assignment,
    group_opinion_state,
    is_assigned_expert,
    panel_step,
)
from .rules import (
    check_manage,
    check_scoring_deadline,
    lock_application,
    panel_stage,
    rubric_of,
)

TWO_PLACES = Decimal("0.01")


# --- one expert's scores ----------------------------------------------------------------------


def expert_total(rubric: schema.Rubric, scores: Mapping[str, Decimal]) -> Decimal | None:
    """One expert's score on a 100-point scale: Σ weight×score / Σ weight×max × 100.

    None until every criterion is scored.
    """
    num = Decimal(0)
    den = Decimal(0)
    for c in rubric.criteria:
        if scores.get(c.key) is None:
            return None
        num += c.weight * Decimal(scores[c.key])
        den += c.weight * c.max
    return (num * 100 / den).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def self_assessment(
    rubric: schema.Rubric | None, data: Mapping
) -> tuple[list[Decimal | None], Decimal | None] | None:
    """The applicant's own scores (``self_field`` of each criterion, from its form data) and
    their total on the experts' 100-point scale; None when the rubric asks for none."""
    if rubric is None or not any(c.self_field for c in rubric.criteria):
        return None
    scores: dict[str, Decimal] = {}
    for c in rubric.criteria:
        raw = data.get(c.self_field) if c.self_field else None
        try:
            value = Decimal(str(raw)) if raw not in (None, "") else None
        except InvalidOperation:
            value = None
        if value is not None and value.is_finite():
            scores[c.key] = min(max(value, Decimal(0)), c.max)
    return [scores.get(c.key) for c in rubric.criteria], expert_total(rubric, scores)


def trims(rubric, count: int, needed: int = 0) -> bool:
    """Whether ``count`` scores are combined as a trimmed mean: the rubric asks for one, there
    are more than 2×trim of them, and at least the ``needed`` ones (the stage's
    ``min_scores``): a trimmed mean of a panel not yet complete is not the panel's score."""
    return (
        rubric.aggregate == "trimmed_mean"
        and bool(rubric.trim)
        and count > 2 * rubric.trim
        and count >= needed
    )


def aggregate(rubric: schema.Rubric, totals: list[Decimal], needed: int = 0) -> Decimal | None:
    """Mean, or trimmed mean (drop ``trim`` highest and lowest) when there are enough scores.

    With 2×trim scores or fewer a trimmed mean would drop everything, and with fewer than
    ``needed`` the panel is not complete: it is the plain mean (:func:`trims`).
    """
    if not totals:
        return None
    values = sorted(totals)
    if trims(rubric, len(values), needed):
        values = values[rubric.trim : len(values) - rubric.trim]
    return (sum(values, Decimal(0)) / len(values)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


# str.format templates (read_points fills them), translated when a refusal is worded.
SCORE_WORDS = PointsWords(
    required=gettext_lazy("请为“{name}”打分（0–{max} 分）"),
    not_number=gettext_lazy("“{name}”的分数应为数字"),
    out_of_range=gettext_lazy("“{name}”的分数应在 0 到 {max} 之间"),
    too_precise=gettext_lazy("“{name}”的分数最多保留一位小数"),
)


def parse_scores(
    rubric: schema.Rubric, raw: Mapping[str, str], *, complete: bool
) -> tuple[dict[str, Decimal], dict[str, list[str]]]:
    """Read posted scores; errors name the criterion. Blank is allowed unless ``complete``."""
    items = [(c.key, c.name, c.max) for c in rubric.criteria]
    return read_points(items, raw, words=SCORE_WORDS, places=Decimal("0.1"), complete=complete)


@transaction.atomic
def expert_scores_save(
    *,
    assignment: ExpertAssignment,
    scores: Mapping[str, str],
    comment: str,
    submit: bool,
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> ExpertAssignment:
    """Save the expert's scores and comment; ``submit`` freezes them (every criterion needed)."""
    now = now or timezone.now()
    a = ExpertAssignment.objects.select_for_update().get(pk=assignment.pk)
    check(is_assigned_expert(scope, a), SelectionDenied)
    app = a.application = lock_application(a.application)
    check(can_score_assignment(scope, a), SelectionError)
    check_scoring_deadline(app, now)
    rubric = rubric_of(app.programme)
    # Without a rubric in the programme file the expert gives its opinion only.
    values, errors = (
        parse_scores(rubric, scores, complete=submit) if rubric is not None else ({}, {})
    )
    comment = (comment or "").strip()
    if submit and not comment:
        errors["comment"] = [_("请填写评审意见")]
    if len(comment) > 5000:
        errors["comment"] = [_("评审意见最多 5000 字")]
    if errors:
        raise SelectionError(_("评分有需要修改的地方，见各项提示；本次未保存。"), errors)
    before = {s.criterion: str(s.score) for s in a.scores.all()}
    keep = set(values)
    a.scores.exclude(criterion__in=keep).delete()
    for key, value in values.items():
        ExpertScore.objects.update_or_create(assignment=a, criterion=key, defaults={"score": value})
    a.comment = comment
    a.saved_at = now
    a.total = expert_total(rubric, values) if rubric is not None else None
    fields = ["comment", "saved_at", "total"]
    if submit:
        a.submitted_at = now
        fields.append("submitted_at")
    a.save(update_fields=fields)
    audit_record(
        actor=actor,
        action="expert.submit" if submit else "expert.save",
        obj=a,
        before={"scores": before} if before else None,
        after={
            "scores": {k: str(v) for k, v in values.items()},
            "total": str(a.total) if a.total is not None else None,
        },
    )
    if submit:
        _panel_maybe_done(app, rubric, actor, now)
    return a


def _panel_maybe_done(app: Application, rubric, actor: Actor, now: dt.datetime) -> None:
    """Where the panel is a stage of the chain, the application moves on by itself once it has
    the file's ``min_scores`` submitted scores for its current version."""
    stage = panel_stage(app)
    if stage is None:
        return
    done = list(
        ExpertAssignment.objects.filter(
            application=app, version=app.version, is_active=True, submitted_at__isnull=False
        ).values_list("total", flat=True)
    )
    if len(done) < max(stage.min_scores, 1):
        return
    totals = [t for t in done if t is not None]
    score = aggregate(rubric, totals) if rubric is not None and totals else None
    opinion = f"{stage.name}完成：{len(done)} 份评分" + (f"，综合得分 {score}。" if score else "。")
    review_panel_done(application=app, actor=actor, opinion=opinion, now=now)
    # The step is closed: the tasks not submitted by then are withdrawn, not left dangling.
    for open_task in ExpertAssignment.objects.select_for_update().filter(
        application=app, is_active=True, submitted_at__isnull=True
    ):
        open_task.withdraw(now)
        audit_record(
            actor=actor,
            action="expert.panel_closed",
            obj=open_task,
            before={"is_active": True},
            after={"is_active": False, "reason": f"{stage.name}已完成"},
        )


# --- aggregation and ranking ---------------------------------------------------------------


@dataclass
class ScoreLine:
    """What the issuer sees of one application's expert review."""

    application: Application
    assignments: list[ExpertAssignment] = field(default_factory=list)
    totals: list[Decimal] = field(default_factory=list)
    score: Decimal | None = None
    spread: Decimal | None = None
    disagreement: bool = False
    rank: int | None = None
    tied: bool = False
    # The stage's min_scores (0: none), and whether ``score`` is a trimmed mean.
    needed: int = 0
    trimmed: bool = False
    # The panel's score per criterion and per group (a share of the group's points), the
    # mandatory criteria and group minimums not reached, and the grade (``[rubric] grades``).
    criteria: dict[str, Decimal] = field(default_factory=dict)
    groups: dict[str, Decimal] = field(default_factory=dict)
    mandatory_unmet: list[str] = field(default_factory=list)
    grade: GradeSpec | None = None
    graded: bool = False
    # (name, score, maximum) per criterion, then (name, share %, 100) per group, for pages.
    subtotals: list[tuple] = field(default_factory=list)

    @property
    def short(self) -> bool:
        """Fewer submitted scores than the stage needs before approval."""
        return self.submitted < self.needed

    @property
    def submitted(self) -> int:
        return len(self.totals)

    @property
    def assigned(self) -> int:
        return len(self.assignments)


def needs_criterion_scores(rubric: schema.Rubric | None) -> bool:
    """Whether ranking reads each criterion's score: for grades, groups or mandatory items."""
    return rubric is not None and bool(rubric.grades or rubric.groups or _has_mandatory(rubric))


def current_assignments_prefetch(*, light: bool = False, scores: bool = False) -> Prefetch:
    """Active assignments onto ``active_assignments``; ``light``: only what ranking needs
    (``scores``: with the criterion scores, which grades are read from)."""
    qs = ExpertAssignment.objects.filter(is_active=True).order_by("pk")
    if light:
        qs = qs.only("pk", "application_id", "version", "total", "submitted_at", "expert_id")
        if scores:
            qs = qs.prefetch_related("scores")
    else:
        qs = qs.select_related("expert", "expert_org").prefetch_related("scores")
    return Prefetch("expert_assignments", queryset=qs, to_attr="active_assignments")


def needed_scores(application: Application) -> int:
    """Completed scores the application needs before approval: its category's expert stage's
    ``min_scores`` (0 without one)."""
    category = application.programme.parsed.category(application.category)
    stage = category.stage_of("expert_scoring") if category else None
    return stage.min_scores if stage is not None else 0


def score_line(application: Application, rubric: schema.Rubric | None) -> ScoreLine:
    """One application's scores; needs ``active_assignments`` prefetched (else one query)."""
    items = getattr(application, "active_assignments", None)
    if items is None:
        items = list(
            application.expert_assignments.filter(is_active=True)
            .select_related("expert", "expert_org")
            .prefetch_related("scores")
        )
    items = [a for a in items if a.version == application.version]
    line = ScoreLine(application, items, needed=needed_scores(application))
    line.totals = [a.total for a in items if a.submitted_at is not None and a.total is not None]
    if rubric is not None and line.totals:
        line.score = aggregate(rubric, line.totals, line.needed)
        line.trimmed = trims(rubric, len(line.totals), line.needed)
        line.spread = max(line.totals) - min(line.totals)
        line.disagreement = len(line.totals) > 1 and line.spread > rubric.disagreement_threshold
    if needs_criterion_scores(rubric):
        _grade_line(line, rubric, [a for a in items if a.submitted_at is not None])
    return line


def _has_mandatory(rubric: schema.Rubric) -> bool:
    return any(c.mandatory_min is not None for c in rubric.criteria)


def _grade_line(line: ScoreLine, rubric: schema.Rubric, submitted: list) -> None:
    """Per criterion the panel's score (aggregated as the totals are), per group its share,
    what mandatory items fall short, and the grade: none while the panel is short."""
    line.graded = bool(rubric.grades)
    if not submitted:
        return
    by_criterion: dict[str, list[Decimal]] = defaultdict(list)
    for a in submitted:
        for s in a.scores.all():
            by_criterion[s.criterion].append(s.score)
    for c in rubric.criteria:
        value = aggregate(rubric, by_criterion.get(c.key, []), line.needed)
        if value is not None:
            line.criteria[c.key] = value
        line.subtotals.append((c.name, value, c.max))
        if c.mandatory_min is not None and (value is None or value < c.mandatory_min):
            line.mandatory_unmet.append(c.name)
    for g in rubric.groups:
        members = [c for c in rubric.criteria if c.group == g.key]
        top = sum((c.weight * c.max for c in members), Decimal(0))
        got = sum((c.weight * line.criteria.get(c.key, 0) for c in members), Decimal(0))
        share = (got * 100 / top).quantize(TWO_PLACES, rounding=ROUND_HALF_UP) if top else None
        if share is not None:
            line.groups[g.key] = share
        line.subtotals.append((_("%(group)s（%%）") % {"group": g.name}, share, 100))
        if g.min_percent is not None and (share is None or share < g.min_percent):
            line.mandatory_unmet.append(
                _("%(group)s（不低于 %(min)s%%）") % {"group": g.name, "min": g.min_percent}
            )
    if rubric.grades and line.score is not None and not line.short:
        line.grade = grade_for(rubric.grades, line.score, mandatory_met=not line.mandatory_unmet)


def rank_lines(lines: list[ScoreLine]) -> list[ScoreLine]:
    """Order by aggregate score, best first; equal scores share a rank (1, 2, 2, 4).

    Unscored applications come last without a rank, in org order.
    """
    scored = sorted(
        (ln for ln in lines if ln.score is not None),
        key=lambda ln: (-ln.score, ln.application.applicant_org.path),
    )
    unscored = sorted(
        (ln for ln in lines if ln.score is None), key=lambda ln: ln.application.applicant_org.path
    )
    counts: dict[Decimal, int] = defaultdict(int)
    for ln in scored:
        counts[ln.score] += 1
    previous = None
    for i, ln in enumerate(scored, start=1):
        ln.rank = previous.rank if previous is not None and previous.score == ln.score else i
        ln.tied = counts[ln.score] > 1
        previous = ln
    return scored + unscored


def ranking(applications: Iterable[Application], rubric: schema.Rubric | None) -> list[ScoreLine]:
    return rank_lines([score_line(a, rubric) for a in applications])


# --- expert group opinion ----------------------------------------------------------------------


@transaction.atomic
def expert_group_opinion_record(
    *,
    application: Application,
    text: str,
    signed_by: str = "",
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> ExpertGroupOpinion:
    """Record the expert group's opinion (专家组意见); a new record supersedes the last one."""
    now = now or timezone.now()
    app = lock_application(application)
    check_manage(scope, app.programme)
    check(group_opinion_state(app), SelectionError)
    if not panel_step(app) or at_panel(app):
        check_scoring_deadline(app, now)
    text = (text or "").strip()
    if not text:
        raise SelectionError(_("请填写专家组意见。"), {"text": [_("请填写专家组意见")]})
    if len(text) > 5000:
        raise SelectionError(
            _("专家组意见最多 5000 字。"), {"text": [_("最多 %(limit)s 字") % {"limit": 5000}]}
        )
    previous = app.expert_group_opinions.order_by("-recorded_at", "-id").first()
    opinion = ExpertGroupOpinion.objects.create(
        application=app,
        text=text,
        signed_by=(signed_by or "").strip()[:300],
        recorded_by=actor.user,
    )
    audit_record(
        actor=actor,
        action="expert.group_opinion",
        obj=app,
        before={"text": previous.text} if previous else None,
        after={"text": text, "signed_by": opinion.signed_by},
    )
    return opinion
