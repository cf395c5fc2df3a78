"""The issuer's decision: approve within the category's cap, or reject.

A decision (:class:`ApprovalDecision`) is pending until the issuer publishes an announcement
(公示, see announcements.py): then approved applications become APPROVED and are listed,
rejected ones become REJECTED, and the applicants and the levels that recommended them are
told. Until then the issuer may revoke a decision and decide again, with the ranking, the
expert scores and the quota use in view (board.py).

Decisions of one programme are serialised by a lock on the programme row, so two admins
approving at once cannot pass the cap together.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Count, F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.applications.models import Application
from edupilot.audit.services import Actor, audit_record
from edupilot.core.errors import check
from edupilot.core.notifications import notify
from edupilot.orgs.models import Role
from edupilot.orgs.scoping import Scope
from edupilot.programmes.models import Programme

from .board import cap_use
from .errors import SelectionError
from .models import ApprovalDecision, ApprovalOutcome, ExpertAssignment
from .permissions import can_decide_application, can_revoke_decision
from .rules import check_decision_deadline, check_manage, rubric_of
from .scoring import needed_scores, score_line
from .sets import check_approval_sets

OPINION_MAX = 2000


# --- decisions ---------------------------------------------------------------------------------


def _clean(text: str | None, label: str, *, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        raise SelectionError(
            _("请填写%(what)s。") % {"what": label},
            {"opinion": [_("请填写%(what)s") % {"what": label}]},
        )
    if len(text) > OPINION_MAX:
        raise SelectionError(
            _("%(label)s不能超过 %(max)s 字（现有 %(n)s 字）。")
            % {"label": label, "max": OPINION_MAX, "n": len(text)},
            {"opinion": [_("最多 %(limit)s 字") % {"limit": OPINION_MAX}]},
        )
    return text


def _lock_for_decision(
    applications: Sequence[Application], scope: Scope
) -> tuple[Programme, list[Application]]:
    """Lock the programme, then the applications (in the order given); refuse unless every
    one of them may be decided now."""
    ids = [a.pk for a in applications]
    if not ids:
        raise SelectionError(_("请先选择申报。"))
    if len(set(ids)) != len(ids):
        raise SelectionError(_("同一申报被选择了两次。"))
    programme_ids = {a.programme_id for a in applications}
    if len(programme_ids) != 1:
        raise SelectionError(_("一次只能审定同一个项目的申报。"))
    # The programme row serialises every decision of the programme: the cap check counts,
    # and nobody else can add to the count until this transaction ends.
    programme = (
        Programme.objects.select_for_update().select_related("issuer").get(pk=programme_ids.pop())
    )
    check_manage(scope, programme)
    locked = {
        a.pk: a
        for a in Application.objects.select_for_update()
        .select_related("programme", "applicant_org")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    apps = [locked[pk] for pk in ids if pk in locked]
    if len(apps) != len(ids):
        raise SelectionError(_("所选申报有的已不存在。"))
    decided = set(
        ApprovalDecision.objects.filter(application_id__in=ids, is_active=True).values_list(
            "application_id", flat=True
        )
    )
    for a in apps:
        a.programme = programme
    problems = [
        why
        for a in apps
        for ok, why in [can_decide_application(scope, a, decided=a.pk in decided)]
        if not ok
    ]
    if problems:
        raise SelectionError(_("%(reasons)s。") % {"reasons": _("；").join(problems)})
    return programme, apps


def _check_cap(programme: Programme, apps: list[Application]) -> None:
    """Refuse approvals that would pass a category's cap, naming the cap and what holds it."""
    caps = cap_use(programme)
    adding: dict[str, int] = defaultdict(int)
    for a in apps:
        adding[a.category] += 1
    for code, n in adding.items():
        use = caps.get(code)
        if use is None or use.cap is None:
            continue
        if use.used + n > use.cap:
            raise SelectionError(
                _(
                    "“%(category)s”的立项上限为 %(cap)s 个：已立项 %(approved)s 个、"
                    "待公示 %(pending)s 个，还剩 %(left)s 个，不能再同意 %(n)s 个。"
                    "请减少所选申报，或先撤销其他同意立项的决定。"
                )
                % {
                    "category": use.category.name,
                    "cap": use.cap,
                    "approved": use.approved,
                    "pending": use.pending,
                    "left": use.left,
                    "n": n,
                }
            )


def _check_scores(apps: list[Application]) -> None:
    """Approval waits for the expert panel: each application needs its category's expert stage's
    ``min_scores`` submitted scores for its current version. Refuse, naming each unit short."""
    needed = {a.pk: needed_scores(a) for a in apps}
    if not any(needed.values()):
        return
    done = dict(
        ExpertAssignment.objects.filter(
            application_id__in=[pk for pk, n in needed.items() if n],
            is_active=True,
            submitted_at__isnull=False,
            version=F("application__version"),
        )
        .values_list("application_id")
        .annotate(n=Count("pk"))
    )
    short = [
        _("%(org)s（已提交 %(done)s 份，需 %(needed)s 份）")
        % {"org": a.applicant_org.name, "done": done.get(a.pk, 0), "needed": needed[a.pk]}
        for a in apps
        if done.get(a.pk, 0) < needed[a.pk]
    ]
    if short:
        raise SelectionError(
            _(
                "专家评分不足，不能同意立项：%(units)s。"
                "请等专家提交评分（或增派专家）后再审定；不予立项不受此限。"
            )
            % {"units": _("；").join(short)}
        )


def _check_grades(programme: Programme, apps: list[Application]) -> dict[int, str]:
    """With ``[rubric] grades``, the grade each approved application reaches, fixed with the
    decision; refuse, naming each unit, when one reaches no grade or a failing one."""
    rubric = rubric_of(programme)
    if rubric is None or not rubric.grades:
        return {}
    grades, problems = {}, []
    for a in apps:
        line = score_line(a, rubric)
        if line.grade is None or line.grade.result == "fail":
            why = _("、").join(line.mandatory_unmet) or _("综合得分 %(score)s") % {
                "score": line.score
            }
            reached = (
                _("评为“%(grade)s”") % {"grade": line.grade.name}
                if line.grade
                else _("未达到任何评审等级")
            )
            problems.append(
                _("%(org)s（%(reached)s：%(why)s）")
                % {"org": a.applicant_org.name, "reached": reached, "why": why}
            )
        else:
            grades[a.pk] = line.grade.name
    if problems:
        raise SelectionError(
            _("以下申报未达到可立项的评审等级，不能同意立项：%(units)s。不予立项不受此限。")
            % {"units": _("；").join(problems)}
        )
    return grades


@transaction.atomic
def selection_decide(
    *,
    applications: Sequence[Application],
    outcome: str,
    opinion: str,
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> list[ApprovalDecision]:
    """Approve or reject several RECOMMENDED applications of one programme; all or none.

        Approvals are refused when an application has fewer submitted expert scores than its
        category's expert stage's ``min_scores``, naming the units short of scores, and when the
        category's cap would be exceeded, naming the cap and what holds it, and when a set rule
    (``[[categories.set_rules]]``: sets.py) would break, naming the units. A rejection needs its
    reason (``opinion``).
    """
    now = now or timezone.now()
    if outcome not in ApprovalOutcome.values:
        raise SelectionError(_("审定结果无效。"))
    approve = outcome == ApprovalOutcome.APPROVE
    opinion = _clean(
        opinion, _("审定意见") if approve else _("不予立项的理由"), required=not approve
    )
    programme, apps = _lock_for_decision(applications, scope)
    for a in apps:
        check_decision_deadline(a, now)
    grades: dict[int, str] = {}
    if approve:
        _check_scores(apps)
        grades = _check_grades(programme, apps)
        _check_cap(programme, apps)
        check_approval_sets(programme, apps)
    decisions = []
    for a in apps:
        d = ApprovalDecision.objects.create(
            application=a,
            programme=programme,
            category=a.category,
            outcome=outcome,
            opinion=opinion,
            grade_name=grades.get(a.pk, ""),
            decided_by=actor.user,
            decided_at=now,
        )
        audit_record(
            actor=actor,
            action=f"selection.{outcome}",
            obj=a,
            after={
                "decision": d.pk,
                "outcome": outcome,
                "opinion": opinion,
                "grade": d.grade_name,
                "pending": True,
            },
        )
        decisions.append(d)
    return decisions


def _decide_one(application: Application, outcome: str, opinion: str, **kwargs) -> ApprovalDecision:
    """:func:`selection_decide` for one application (``kwargs``: scope, actor, now)."""
    (decision,) = selection_decide(
        applications=[application], outcome=outcome, opinion=opinion, **kwargs
    )
    return decision


def selection_approve(
    *, application: Application, opinion: str = "", scope: Scope, actor: Actor, now=None
) -> ApprovalDecision:
    return _decide_one(
        application, ApprovalOutcome.APPROVE, opinion, scope=scope, actor=actor, now=now
    )


def selection_reject(
    *, application: Application, reason: str, scope: Scope, actor: Actor, now=None
) -> ApprovalDecision:
    return _decide_one(
        application, ApprovalOutcome.REJECT, reason, scope=scope, actor=actor, now=now
    )


@transaction.atomic
def selection_revoke(
    *, decision: ApprovalDecision, scope: Scope, actor: Actor, now: dt.datetime | None = None
) -> ApprovalDecision:
    """Take back a decision that has not been published yet."""
    now = now or timezone.now()
    Programme.objects.select_for_update().filter(pk=decision.programme_id).first()
    d = (
        ApprovalDecision.objects.select_for_update()
        .select_related("programme__issuer", "application__applicant_org")
        .get(pk=decision.pk)
    )
    check_manage(scope, d.programme)
    check(can_revoke_decision(scope, d), SelectionError)
    d.revoke(now, by=actor.user)
    audit_record(
        actor=actor,
        action="selection.revoke",
        obj=d.application,
        before={"decision": d.pk, "outcome": d.outcome},
        after={"revoked": True},
    )
    return d


# --- notifications of decisions ------------------------------------------------------------------


def _link(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def decision_notify(
    application: Application, *, event: str, title: str, body: str, actor: Actor | None = None
) -> None:
    """Tell the applicant org and every reviewing level below the issuer about a decision."""
    exclude = [actor.user] if actor is not None else []
    notify(
        orgs=[application.applicant_org_id],
        roles=[Role.APPLICANT],
        event=event,
        title=title,
        body=body,
        link=_link("applications:detail", application.pk),
        exclude_users=exclude,
    )
    # The levels below the issuer (a stand-in step of the issuer itself, Quanzhou's city for
    # its 市直 schools, is not a separate level to tell).
    issuer_org = application.chain[-1]["org"] if application.chain else None
    levels = sorted({step["org"] for step in application.chain[:-1]} - {issuer_org})
    if levels:
        notify(
            orgs=levels,
            roles=[Role.REVIEWER, Role.PROGRAMME_ADMIN],
            event=event,
            title=f"{application.applicant_org.name}：{title}",
            body=body,
            link=_link("review:detail", application.pk)
            or _link("applications:detail", application.pk),
            exclude_users=exclude,
        )
