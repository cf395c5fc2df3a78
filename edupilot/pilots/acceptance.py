"""Acceptance (验收): the issuer's expert panel scores the unit's acceptance submission, the
issuer decides a grade of the file's ``grades``.

- :func:`acceptance_assign`: an expert of the programme's pool reviews a submitted acceptance
  submission, unless the expert's org lies in the unit's lineage or subtree (selection's
  conflict-of-interest rule, :func:`edupilot.selection.experts.conflict_reason`);
- :func:`acceptance_score`: the expert scores the stage's criteria (0..max) with a comment,
  saved or submitted (then frozen);
- :func:`acceptance_summary`: the submitted totals, their mean, and the grade its score band
  suggests;
- :func:`acceptance_decide`: once ``min_scores`` experts submitted, the issuer's grade: a pass
  grade closes the pilot ACCEPTED, a rectify grade sends it to RECTIFYING (the submission goes
  back to RETURNED, due again in ``rectify_days``), a fail grade closes it FAILED.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from edupilot.audit.services import Actor, audit_record
from edupilot.core.errors import Refused, check, posted_text
from edupilot.core.inputs import PointsWords, read_points
from edupilot.core.notifications import notify
from edupilot.orgs.models import Role
from edupilot.orgs.scoping import Scope
from edupilot.selection.experts import conflict_reason
from edupilot.selection.models import ExpertPoolMember
from edupilot.selection.scoring import aggregate

from .models import AcceptanceReview, AcceptanceScore, Pilot, PilotState, Submission
from .models import SubmissionState as S
from .permissions import (
    can_assign_acceptance_expert,
    can_decide_acceptance,
    can_score_acceptance,
    is_assigned_expert,
    is_issuer_admin,
)
from .workflows import PILOT, SUBMISSION

TWO = Decimal("0.01")
TEXT_MAX = 5000
RESULT_STATE = {
    "pass": PilotState.ACCEPTED,
    "rectify": PilotState.RECTIFYING,
    "fail": PilotState.FAILED,
}


class AcceptanceError(Refused):
    pass


def _lock(submission: Submission) -> Submission:
    sub = (
        Submission.objects.select_for_update()
        .select_related("pilot", "pilot__programme", "pilot__programme__issuer", "pilot__unit")
        .get(pk=submission.pk)
    )
    if sub.kind != "acceptance":
        raise AcceptanceError(_("这不是验收材料。"))
    return sub


def _link(sub: Submission) -> str:
    return reverse("pilots:detail", args=[sub.pilot_id]) + "#acceptance"


@transaction.atomic
def acceptance_assign(
    *, submission: Submission, member: ExpertPoolMember, scope: Scope, actor: Actor
) -> AcceptanceReview:
    sub = _lock(submission)
    pilot = sub.pilot
    check(is_issuer_admin(scope, pilot.programme))  # who acts (403), then whether now
    check(can_assign_acceptance_expert(scope, sub), AcceptanceError)
    member = (
        ExpertPoolMember.objects.select_related("membership", "membership__org", "membership__user")
        .filter(pk=member.pk, programme_id=pilot.programme_id, is_active=True)
        .first()
    )
    if member is None:
        raise AcceptanceError(_("请从本项目的专家库中选择专家。"), {"member": [_("请选择专家")]})
    user = member.membership.user
    reason = conflict_reason(user.pk, pilot.unit)
    if reason:
        raise AcceptanceError(reason, {"member": [reason]})
    active = AcceptanceReview.objects.filter(submission=sub, is_active=True)
    if active.filter(expert=user).exists():
        raise AcceptanceError(
            _("专家“%(expert)s”已分配。") % {"expert": user.get_full_name() or user.username}
        )
    stage = pilot.spec.stage(sub.stage)
    if active.count() >= stage.experts:
        raise AcceptanceError(
            _("验收专家组为 %(experts)s 人，已分配满。") % {"experts": stage.experts}
        )
    review = AcceptanceReview.objects.create(
        submission=sub, expert=user, expert_org=member.membership.org, assigned_by=actor.user
    )
    audit_record(
        actor=actor,
        action="pilot.acceptance.assign",
        obj=review,
        after={"submission": sub.pk, "pilot": pilot.pk, "expert": user.pk},
    )
    notify(
        users=[user],
        event="pilot.acceptance.assign",
        title="新的验收评审任务",
        body=f"{pilot.programme.title}：{pilot.unit.name}的{stage.name}，请评分。",
        link=reverse("pilots:acceptance_score", args=[review.pk]),
    )
    return review


# A blank score reads as "not scored yet": every criterion is needed even to save.
SCORE_WORDS = PointsWords(
    required=gettext_lazy("请为“{name}”打分（0–{max} 分）"),
    not_number=gettext_lazy("请为“{name}”打分（0–{max} 分）"),
    out_of_range=gettext_lazy("“{name}”的分数应在 0 到 {max} 之间"),
)


def parse_scores(stage, raw) -> tuple[dict[str, Decimal], dict[str, list[str]]]:
    items = [(c.key, c.name, c.max) for c in stage.criteria]
    return read_points(items, raw, words=SCORE_WORDS, places=TWO, complete=True)


@transaction.atomic
def acceptance_score(
    *,
    review: AcceptanceReview,
    scores,
    comment: str,
    submit: bool,
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> AcceptanceReview:
    """Save (or submit, then frozen) an expert's scores; every criterion, 0..max."""
    now = now or timezone.now()
    sub = _lock(review.submission)
    rev = AcceptanceReview.objects.select_for_update().get(pk=review.pk)
    rev.submission = sub
    check(is_assigned_expert(scope, rev))  # who acts (403), then whether now
    check(can_score_acceptance(scope, rev), AcceptanceError)
    stage = sub.pilot.spec.stage(sub.stage)
    values, errors = parse_scores(stage, scores)
    comment = (comment or "").replace("\x00", "").strip()
    if len(comment) > TEXT_MAX:
        errors["comment"] = [_("最多 %(max)s 字") % {"max": TEXT_MAX}]
    elif submit and not comment:
        errors["comment"] = [_("提交前请填写评审意见")]
    if errors:
        raise AcceptanceError(_("评分有需要修改的地方，见各项提示；本次未保存。"), errors)
    AcceptanceScore.objects.filter(review=rev).delete()
    AcceptanceScore.objects.bulk_create(
        [AcceptanceScore(review=rev, criterion=k, score=v) for k, v in values.items()]
    )
    rev.comment = comment
    rev.total = sum(values.values(), Decimal(0))
    if submit:
        rev.submitted_at = now
    rev.save(update_fields=["comment", "total", "submitted_at"])
    audit_record(
        actor=actor,
        action="pilot.acceptance.submit" if submit else "pilot.acceptance.save",
        obj=rev,
        after={"scores": {k: str(v) for k, v in values.items()}, "total": rev.total},
    )
    if submit:
        notify(
            orgs=[sub.pilot.programme.issuer_id],
            roles=[Role.PROGRAMME_ADMIN],
            event="pilot.acceptance.scored",
            title=f"{sub.pilot.unit.name}的验收评分已提交",
            link=_link(sub),
        )
    return rev


@dataclass
class Summary:
    totals: list[Decimal]
    mean: Decimal | None
    percent: Decimal | None
    suggested: object  # GradeSpec | None
    needed: int
    # The veto items the panel's scores miss, in words ("实际使用 30 分，须不低于 36 分").
    mandatory_unmet: list[str] = field(default_factory=list)


def mandatory_unmet(stage, reviews) -> list[str]:
    """Each veto item (``mandatory_min``) whose aggregated score, over the submitted reviews
    (aggregated as the totals are), stays below its minimum."""
    if not stage.mandatory or not reviews:
        return []
    by_criterion: dict[str, list[Decimal]] = {}
    for r in reviews:
        for s in r.scores.all():
            by_criterion.setdefault(s.criterion, []).append(s.score)
    out = []
    for c in stage.mandatory:
        got = aggregate(stage, by_criterion.get(c.key, [])) or Decimal(0)
        if got < c.mandatory_min:
            out.append(
                _("%(criterion)s %(score)s 分，须不低于 %(mandatory_min)s 分")
                % {
                    "criterion": c.name,
                    "score": format(got, "f"),
                    "mandatory_min": format(c.mandatory_min, "f"),
                }
            )
    return out


def acceptance_summary(submission: Submission) -> Summary:
    """Submitted totals, their aggregate (mean or trimmed mean, as the stage says; its share of
    the criteria's total), the veto items missed, and the grade that share's band suggests
    (never a passing one while a veto item is missed)."""
    stage = submission.pilot.spec.stage(submission.stage)
    reviews = [
        r
        for r in submission.reviews.all()
        if r.is_active and r.submitted_at and r.total is not None
    ]
    totals = [r.total for r in reviews]
    mean = percent = suggested = None
    unmet = mandatory_unmet(stage, reviews)
    if totals:
        mean = aggregate(stage, totals)  # selection's rule: mean or trimmed mean
        if stage.total:
            percent = (mean * 100 / stage.total).quantize(TWO, rounding=ROUND_HALF_UP)
            suggested = stage.grade_for_percent(percent, mandatory_met=not unmet)
    return Summary(totals, mean, percent, suggested, stage.min_scores, unmet)


@transaction.atomic
def acceptance_decide(
    *,
    submission: Submission,
    grade: str,
    opinion: str = "",
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> Pilot:
    """The issuer's grade. Pass: ACCEPTED; rectify: RECTIFYING, resubmit; fail: FAILED."""
    now = now or timezone.now()
    # The pilot first, then its submission: the order the unit's submit takes.
    pilot = Pilot.objects.select_for_update().get(pk=submission.pilot_id)
    sub = _lock(submission)
    pilot.programme, pilot.unit = sub.pilot.programme, sub.pilot.unit
    sub.pilot = pilot
    check(is_issuer_admin(scope, pilot.programme))  # who acts (403), then whether now
    check(can_decide_acceptance(scope, sub), AcceptanceError)
    stage = pilot.spec.stage(sub.stage)
    spec = stage.grade(grade or "")
    if spec is None:
        raise AcceptanceError(_("请选择验收等级。"), {"grade": [_("请选择验收等级")]})
    opinion = posted_text(
        opinion, field="opinion", label=_("意见"), limit=TEXT_MAX, exc=AcceptanceError
    )
    summary = acceptance_summary(sub)
    if spec.result == "pass" and summary.mandatory_unmet:
        # A veto item (mandatory_min) missed: no passing grade, whatever the total.
        reason = "；".join(summary.mandatory_unmet)
        raise AcceptanceError(
            _("必达项未达到（%(reason)s），不能评为“%(spec)s”；请选择整改或不通过的等级。")
            % {"reason": reason, "spec": spec.name},
            {"grade": [_("必达项未达到：%(reason)s") % {"reason": reason}]},
        )
    before = {"pilot": pilot.state, "submission": sub.state}
    PILOT.advance(pilot, "decide", to=RESULT_STATE[spec.result])
    pilot.grade, pilot.grade_name, pilot.score = spec.key, spec.name, summary.percent
    if spec.result == "rectify":
        SUBMISSION.advance(sub, "graded", to=S.RETURNED)
        sub.due_at = now + dt.timedelta(days=stage.rectify_days)
        sub.reviews.filter(is_active=True).update(is_active=False)
    else:
        SUBMISSION.advance(sub, "graded", to=S.ACCEPTED)
        pilot.closed_at = now
    sub.decided_at, sub.decided_by, sub.reason = now, actor.user, opinion
    sub.save(update_fields=["state", "due_at", "decided_at", "decided_by", "reason", "updated_at"])
    pilot.save(update_fields=["state", "grade", "grade_name", "score", "closed_at"])
    audit_record(
        actor=actor,
        action="pilot.acceptance.decide",
        obj=pilot,
        before=before,
        after={"pilot": pilot.state, "submission": sub.state, "grade": spec.key,
               "score": summary.percent, "opinion": opinion},
    )  # fmt: skip
    body = f"{pilot.programme.title}：验收等级“{spec.name}”。{opinion}"
    if spec.result == "rectify":
        body += f"\n请整改后于 {timezone.localtime(sub.due_at):%Y-%m-%d} 前重新提交验收材料。"
    notify(
        orgs=[pilot.unit_id],
        roles=[Role.APPLICANT],
        event="pilot.acceptance.decide",
        title=f"验收结果：{spec.name}",
        body=body,
        link=_link(sub),
        exclude_users=[actor.user],
    )
    return pilot
