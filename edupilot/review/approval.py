"""The issuer's decision: approve within the category's cap, or reject; and deadline reminders.

A decision (:class:`ApprovalDecision`) is pending until the issuer publishes an announcement
(公示, see announcements.py): then approved applications become APPROVED and are listed,
rejected ones become REJECTED, and the applicants and the levels that recommended them are
told. Until then the issuer may revoke a decision and decide again, with the ranking, the
expert scores and the quota use in view.

The cap (Zhejiang: 20 region, 20 higher-ed, 60 K-12) counts applications already APPROVED or
PILOT plus pending approvals of the category; decisions of one programme are serialised by a
lock on the programme row, so two admins approving at once cannot pass the cap together.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from edupilot.applications.models import Application, AppState
from edupilot.audit.services import Actor, audit_record
from edupilot.core.notifications import (
    Reminder,
    days_until_due,
    notify,
    register_reminder_provider,
    reminder_lead_days,
)
from edupilot.orgs.models import Org, Role
from edupilot.orgs.scoping import Scope
from edupilot.programmes import schema
from edupilot.programmes.models import Programme, QuotaAllocation

from .experts import (
    SelectionError,
    _check_manage,
    check_decision_deadline,
    current_assignments_prefetch,
    fmt_time,
    ranking,
    rubric_of,
)
from .models import ReviewAction, ReviewDecision
from .models_selection import ApprovalDecision, ApprovalOutcome, ExpertAssignment

CAP_STATES = (AppState.APPROVED, AppState.PILOT)
OPINION_MAX = 2000


# --- cap and quota use -------------------------------------------------------------------------


@dataclass
class CapUse:
    category: schema.Category
    cap: int | None
    approved: int = 0  # APPROVED or PILOT
    pending: int = 0  # approvals not yet published

    @property
    def used(self) -> int:
        return self.approved + self.pending

    @property
    def left(self) -> int | None:
        return None if self.cap is None else max(self.cap - self.used, 0)

    @property
    def over(self) -> bool:
        return self.cap is not None and self.used > self.cap


def pending_approvals(programme: Programme):
    return ApprovalDecision.objects.filter(
        programme=programme,
        is_active=True,
        announcement__isnull=True,
        outcome=ApprovalOutcome.APPROVE,
        application__state=AppState.RECOMMENDED,
    )


def cap_use(programme: Programme) -> dict[str, CapUse]:
    """Each category's cap and what counts against it (two queries)."""
    spec = programme.parsed
    out = {c.code: CapUse(c, c.cap) for c in spec.categories}
    for category, n in (
        Application.objects.filter(programme=programme, state__in=CAP_STATES)
        .values_list("category")
        .annotate(n=Count("pk"))
    ):
        if category in out:
            out[category].approved = n
    for category, n in pending_approvals(programme).values_list("category").annotate(n=Count("pk")):
        if category in out:
            out[category].pending = n
    return out


@dataclass
class QuotaUseLine:
    holder: Org
    direct: bool
    label: str
    limit: int | None
    recommended: int = 0
    approved: int = 0

    @property
    def name(self) -> str:
        return self.label or (f"{self.holder.name}（直属）" if self.direct else self.holder.name)


@dataclass
class QuotaUse:
    level: str
    lines: list[QuotaUseLine] = field(default_factory=list)

    @property
    def total_limit(self) -> int | None:
        if any(ln.limit is None for ln in self.lines):
            return None
        return sum(ln.limit for ln in self.lines)

    @property
    def total_recommended(self) -> int:
        return sum(ln.recommended for ln in self.lines)

    @property
    def total_approved(self) -> int:
        return sum(ln.approved for ln in self.lines)


def quota_use(programme: Programme, category: schema.Category) -> list[QuotaUse]:
    """Per quota level of the category: each holder's places, recommendations and approvals.

    Recommendations are the active ones of the review chain (the places they hold); approvals
    are those of them the issuer approved (published or pending). Two queries per level.
    """
    out = []
    for policy in category.quotas:
        allocations = {
            (a.holder_id, a.direct): a
            for a in QuotaAllocation.objects.filter(
                programme=programme, category=category.code, level=policy.level
            ).select_related("holder")
        }
        lines = {
            key: QuotaUseLine(a.holder, a.direct, a.label, None if a.unlimited else a.effective)
            for key, a in allocations.items()
        }
        counts = (
            ReviewDecision.objects.filter(
                programme=programme,
                category=category.code,
                quota_level=policy.level,
                action=ReviewAction.RECOMMEND,
                active=True,
            )
            .values_list("quota_holder", "quota_direct")
            .annotate(
                n=Count("pk", distinct=True),
                approved=Count(
                    "pk",
                    distinct=True,
                    filter=Q(application__state__in=CAP_STATES)
                    | Q(
                        application__approval_decisions__is_active=True,
                        application__approval_decisions__outcome=ApprovalOutcome.APPROVE,
                        application__state=AppState.RECOMMENDED,
                    ),
                ),
            )
        )
        missing = []
        for holder_id, direct, n, approved in counts:
            line = lines.get((holder_id, direct))
            if line is None:
                missing.append((holder_id, direct, n, approved))
                continue
            line.recommended, line.approved = n, approved
        if missing:
            holders = Org.objects.in_bulk([m[0] for m in missing])
            for holder_id, direct, n, approved in missing:
                limit = None if policy.unlisted == "unlimited" else 0
                line = QuotaUseLine(holders[holder_id], direct, "", limit, n, approved)
                lines[(holder_id, direct)] = line
        out.append(
            QuotaUse(
                policy.level,
                sorted(lines.values(), key=lambda ln: (ln.holder.path, ln.direct)),
            )
        )
    return out


# --- the selection board --------------------------------------------------------------------


@dataclass
class BoardRow:
    """One application on the issuer's board: scores, recommendation, decision."""

    line: object  # experts.ScoreLine
    decision: ApprovalDecision | None = None
    recommended_by: ReviewDecision | None = None

    @property
    def application(self) -> Application:
        return self.line.application


@dataclass
class CategoryBoard:
    category: schema.Category
    cap: CapUse
    rows: list[BoardRow] = field(default_factory=list)
    quotas: list[QuotaUse] = field(default_factory=list)
    decided: list[Application] = field(default_factory=list)


def board_applications(programme: Programme, category: str | None = None):
    # The form data and the programme's spec (a large JSON per row) are not needed here.
    qs = (
        Application.objects.filter(programme=programme, state=AppState.RECOMMENDED)
        .select_related("applicant_org")
        .defer("data")
        .prefetch_related(current_assignments_prefetch(light=True))
        .order_by("applicant_org__path")
    )
    if category:
        qs = qs.filter(category=category)
    return qs


def selection_board(
    programme: Programme, category_code: str | None = None, *, with_quotas: bool = True
) -> list[CategoryBoard]:
    """Per category: the RECOMMENDED applications ranked by expert score, with their pending
    decisions and the recommending level's rank, the cap and the quota use.

    A fixed number of queries whatever the number of applications.
    """
    spec = programme.parsed
    rubric = rubric_of(programme)
    caps = cap_use(programme)
    apps = list(board_applications(programme, category_code))
    for a in apps:
        a.programme = programme
    ids = [a.pk for a in apps]
    decisions = {
        d.application_id: d
        for d in ApprovalDecision.objects.filter(
            application_id__in=ids, is_active=True
        ).select_related("decided_by")
    }
    recommendations: dict[int, ReviewDecision] = {}
    for d in (
        ReviewDecision.objects.filter(
            application_id__in=ids, active=True, action=ReviewAction.RECOMMEND
        )
        .select_related("org")
        .order_by("application_id", "step")
    ):
        recommendations[d.application_id] = d  # the highest step wins
    by_category: dict[str, list[Application]] = defaultdict(list)
    for a in apps:
        by_category[a.category].append(a)
    decided = defaultdict(list)
    for a in (
        Application.objects.filter(programme=programme, state__in=CAP_STATES)
        .select_related("applicant_org")
        .only("pk", "category", "state", "applicant_org__name", "applicant_org__path")
        .order_by("applicant_org__path")
    ):
        decided[a.category].append(a)
    out = []
    for category in spec.categories:
        if category_code and category.code != category_code:
            continue
        board = CategoryBoard(category, caps[category.code])
        for line in ranking(by_category.get(category.code, []), rubric):
            pk = line.application.pk
            board.rows.append(BoardRow(line, decisions.get(pk), recommendations.get(pk)))
        board.decided = decided.get(category.code, [])
        if with_quotas:
            board.quotas = quota_use(programme, category)
        out.append(board)
    return out


# --- decisions ---------------------------------------------------------------------------------


def _clean(text: str | None, label: str, *, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        raise SelectionError(f"请填写{label}。", {"opinion": [f"请填写{label}"]})
    if len(text) > OPINION_MAX:
        raise SelectionError(
            f"{label}不能超过 {OPINION_MAX} 字（现有 {len(text)} 字）。",
            {"opinion": [f"最多 {OPINION_MAX} 字"]},
        )
    return text


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

    Approvals are refused when the category's cap would be exceeded, naming the cap and
    what holds it. A rejection needs its reason (``opinion``).
    """
    now = now or timezone.now()
    if outcome not in ApprovalOutcome.values:
        raise SelectionError("审定结果无效。")
    approve = outcome == ApprovalOutcome.APPROVE
    opinion = _clean(opinion, "审定意见" if approve else "不予立项的理由", required=not approve)
    ids = [a.pk for a in applications]
    if not ids:
        raise SelectionError("请先选择申报。")
    if len(set(ids)) != len(ids):
        raise SelectionError("同一申报被选择了两次。")
    programme_ids = {a.programme_id for a in applications}
    if len(programme_ids) != 1:
        raise SelectionError("一次只能审定同一个项目的申报。")
    # The programme row serialises every decision of the programme: the cap check below
    # counts, and nobody else can add to the count until this transaction ends.
    programme = (
        Programme.objects.select_for_update().select_related("issuer").get(pk=programme_ids.pop())
    )
    _check_manage(scope, programme)
    locked = {
        a.pk: a
        for a in Application.objects.select_for_update()
        .select_related("programme", "applicant_org")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    apps = [locked[pk] for pk in ids if pk in locked]
    if len(apps) != len(ids):
        raise SelectionError("所选申报有的已不存在。")
    existing = set(
        ApprovalDecision.objects.filter(application_id__in=ids, is_active=True).values_list(
            "application_id", flat=True
        )
    )
    problems = []
    for a in apps:
        if a.state != AppState.RECOMMENDED:
            problems.append(
                f"“{a.applicant_org.name}”当前状态为“{a.get_state_display()}”，不在待审定状态"
            )
        elif a.pk in existing:
            problems.append(f"“{a.applicant_org.name}”已有审定决定，如需改变请先撤销")
    if problems:
        raise SelectionError("；".join(problems) + "。")
    for a in apps:
        check_decision_deadline(a, now)
    if approve:
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
                    f"“{use.category.name}”的立项上限为 {use.cap} 个：已立项 {use.approved} 个、"
                    f"待公示 {use.pending} 个，还剩 {use.left} 个，不能再同意 {n} 个。"
                    "请减少所选申报，或先撤销其他同意立项的决定。"
                )
    decisions = []
    for a in apps:
        d = ApprovalDecision.objects.create(
            application=a,
            programme=programme,
            category=a.category,
            outcome=outcome,
            opinion=opinion,
            decided_by=actor.user,
            decided_at=now,
        )
        audit_record(
            actor=actor,
            action=f"selection.{outcome}",
            obj=a,
            after={"decision": d.pk, "outcome": outcome, "opinion": opinion, "pending": True},
        )
        decisions.append(d)
    return decisions


def selection_approve(
    *, application: Application, opinion: str = "", scope: Scope, actor: Actor, now=None
) -> ApprovalDecision:
    return selection_decide(
        applications=[application],
        outcome=ApprovalOutcome.APPROVE,
        opinion=opinion,
        scope=scope,
        actor=actor,
        now=now,
    )[0]


def selection_reject(
    *, application: Application, reason: str, scope: Scope, actor: Actor, now=None
) -> ApprovalDecision:
    return selection_decide(
        applications=[application],
        outcome=ApprovalOutcome.REJECT,
        opinion=reason,
        scope=scope,
        actor=actor,
        now=now,
    )[0]


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
    _check_manage(scope, d.programme)
    if not d.is_active:
        raise SelectionError("该审定决定已撤销。")
    if d.announcement_id is not None:
        raise SelectionError("该审定决定已随公示发布，不能撤销；如有异议请在公示中处理。")
    d.is_active = False
    d.revoked_by = actor.user
    d.revoked_at = now
    d.save(update_fields=["is_active", "revoked_by", "revoked_at"])
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


# --- deadline reminders ---------------------------------------------------------------------------


def lead_days(programme: Programme) -> tuple[int, ...]:
    """Days before a review level's deadline to remind: ``[reminders] days_before`` or default."""
    spec = programme.parsed
    if spec.reminders is not None:
        return tuple(spec.reminders.days_before)
    return reminder_lead_days(programme, "review_deadline")


def _waiting(programme: Programme, category: str) -> list[dict]:
    return list(
        Application.objects.filter(
            programme=programme,
            category=category,
            state__in=(AppState.SUBMITTED, AppState.RECOMMENDED, AppState.RETURNED),
        ).values("pk", "state", "chain", "current_step", "current_org_id", "applicant_org_id")
    )


def level_reminders(programme: Programme, today: dt.date) -> Iterable[Reminder]:
    """What is due ``today`` for one programme: each review level N days before its deadline.

    - the orgs with applications still waiting at that level (their reviewers and admins);
    - at the issuer's level, the experts with unsubmitted scores;
    - the applicants of applications returned by that level, whose resubmission deadline it is.
    """
    leads = lead_days(programme)
    for category in programme.parsed.categories:
        waiting = None
        for level in category.levels:
            deadline = programme.level_deadline(category.code, level.key)
            if deadline is None:
                continue
            n = days_until_due(deadline, today, leads)
            if n is None:
                continue
            if waiting is None:
                waiting = _waiting(programme, category.code)
            at_level: dict[int, int] = defaultdict(int)
            returned: dict[int, int] = defaultdict(int)
            app_ids = []
            for a in waiting:
                step = a["current_step"]
                if step is None or not a["chain"] or step >= len(a["chain"]):
                    continue
                if a["chain"][step]["level"] != level.key:
                    continue
                if a["state"] == AppState.RETURNED:
                    returned[a["applicant_org_id"]] += 1
                else:
                    at_level[a["chain"][step]["org"]] += 1
                    app_ids.append(a["pk"])
            when = fmt_time(deadline)
            days = "今天" if n == 0 else f"{n} 天后"
            base = f"review-deadline:{programme.code}:{category.code}:{level.key}"
            for org_id, count in sorted(at_level.items()):
                yield Reminder(
                    key=f"{base}:{org_id}:{n}",
                    event="review.deadline_reminder",
                    title=f"{programme.title}·{category.name}：{level.name}{days}截止",
                    body=f"还有 {count} 份申报等待本级处理，截止时间 {when}（北京时间）。",
                    link=_link("review:queue"),
                    orgs=(org_id,),
                    roles=(Role.REVIEWER, Role.PROGRAMME_ADMIN),
                )
            for org_id, count in sorted(returned.items()):
                yield Reminder(
                    key=f"{base}:returned:{org_id}:{n}",
                    event="application.resubmit_reminder",
                    title=f"{programme.title}：退回修改的申报{days}截止重新提交",
                    body=f"您有 {count} 份退回修改的申报，请在 {when}（北京时间）前修改并重新提交。",
                    link=_link("applications:home"),
                    orgs=(org_id,),
                    roles=(Role.APPLICANT,),
                )
            if level.key == category.levels[-1].key and app_ids:
                experts = sorted(
                    set(
                        ExpertAssignment.objects.filter(
                            application_id__in=app_ids, is_active=True, submitted_at__isnull=True
                        ).values_list("expert_id", flat=True)
                    )
                )
                for expert_id in experts:
                    yield Reminder(
                        key=f"{base}:expert:{expert_id}:{n}",
                        event="review.expert_reminder",
                        title=f"{programme.title}：专家评分{days}截止",
                        body=f"您还有未提交的评分，截止时间 {when}（北京时间）。",
                        link=_link("review:expert_tasks"),
                        users=(expert_id,),
                    )


@register_reminder_provider("review.level_deadlines")
def level_deadline_reminders(today: dt.date) -> Iterable[Reminder]:
    for programme in Programme.objects.filter(is_active=True, kind="call").select_related("issuer"):
        yield from level_reminders(programme, today)
