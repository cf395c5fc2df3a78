"""The issuer's board: per category the RECOMMENDED applications ranked by expert score, with
their pending decisions, the recommending level's rank, the category's cap and the quota use.

The cap (Zhejiang: 20 region, 20 higher-ed, 60 K-12) counts applications already APPROVED or
PILOT plus pending approvals of the category.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from edupilot.applications.models import Application, AppState
from edupilot.core.workflow import Action
from edupilot.orgs.models import Org
from edupilot.programmes import schema
from edupilot.programmes.models import Programme, QuotaAllocation
from edupilot.review.models import ReviewAction, ReviewDecision

from .models import ApprovalDecision, ApprovalOutcome
from .rules import rubric_of
from .scoring import ScoreLine, current_assignments_prefetch, needs_criterion_scores, ranking
from .selectors import pending_approvals

CAP_STATES = (AppState.APPROVED, AppState.PILOT, AppState.FORWARDED)


# --- cap and quota use -------------------------------------------------------------------------


@dataclass
class CapUse:
    category: schema.Category
    cap: int | None
    approved: int = 0  # APPROVED, PILOT or FORWARDED (a round's)
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
        if self.label:
            return self.label
        if self.direct:
            return _("%(org)s（直属）") % {"org": self.holder.name}
        return self.holder.name


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

    line: ScoreLine
    decision: ApprovalDecision | None = None
    recommended_by: ReviewDecision | None = None
    # The page's buttons (pages.board_page): approve / reject, and the first, for the checkbox.
    actions: list[Action] = field(default_factory=list)
    pick: Action | None = None

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
    # The buttons for the rows picked (pages.board_page).
    actions: list[Action] = field(default_factory=list)


def board_applications(programme: Programme, category: str | None = None):
    # The form data and the programme's spec (a large JSON per row) are not needed here.
    qs = (
        Application.objects.filter(programme=programme, state=AppState.RECOMMENDED)
        .select_related("applicant_org")
        .defer("data")
        .prefetch_related(
            current_assignments_prefetch(
                light=True, scores=needs_criterion_scores(rubric_of(programme))
            )
        )
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
