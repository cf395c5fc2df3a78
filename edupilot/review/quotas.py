"""Quotas as a recommendation sees them: whose bucket a step spends, its limit and use."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, Value
from django.utils.translation import gettext as _

from edupilot.applications.models import Application
from edupilot.core.prepared import prepared
from edupilot.orgs.models import Org, Tier
from edupilot.programmes import sets as setrules
from edupilot.programmes.chain import lineage, quota_bucket
from edupilot.programmes.models import Programme, QuotaAllocation
from edupilot.programmes.quotas import bucket_limit

from .locks import LevelKey, level_q
from .models import ReviewAction, ReviewDecision

TIER_LABELS = dict(Tier.choices)


# --- quotas --------------------------------------------------------------------------------


@dataclass
class QuotaState:
    """One quota bucket as a recommendation sees it."""

    programme_id: int
    category: str
    category_name: str
    level: str
    holder: Org
    direct: bool
    limit: int | None  # None: unlimited
    used: int = 0
    label: str = ""
    # Earlier rounds whose recommendations count against this quota (``earlier_rounds``).
    earlier_ids: tuple[int, ...] = ()
    # What ``quota_state(..., also_count=)`` counted beside the use (None: nothing asked).
    also_counted: int | None = None

    @property
    def unlimited(self) -> bool:
        return self.limit is None

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)

    @property
    def name(self) -> str:
        return _("%(holder)s%(direct)s“%(category)s”%(tier)s推荐名额") % {
            "holder": self.holder.name,
            "direct": _("（直属单位）") if self.direct else "",
            "category": self.category_name,
            "tier": TIER_LABELS.get(self.level, self.level),
        }

    def holders_q(self) -> Q:
        return holders_q(
            self.programme_id,
            self.category,
            self.level,
            self.holder.pk,
            self.direct,
            self.earlier_ids,
        )

    def holders_qs(self):
        return ReviewDecision.objects.filter(self.holders_q())


def quota_buckets(application: Application, step: int, orgs: list[Org] | None = None):
    """The quota buckets a recommendation at ``step`` spends: ``[(policy, bucket)]``."""
    category = application.programme.parsed.category(application.category)
    info = application.chain[step]
    if not info.get("quota", True):
        return []  # a named org's review or the expert panel spends no quota
    tiers = info.get("quota_tiers") or [info["tier"]]
    if setrules.admitted_outside_quota(category, application.applicant_org):
        return []  # a title admits it outside the quota (``[[categories.titles]]``)
    out = []
    seen = set()
    for policy in category.quotas if category else []:
        if policy.level not in tiers or policy.level in seen:
            continue
        seen.add(policy.level)
        if orgs is None:
            orgs = lineage(application.applicant_org, category)
        bucket = quota_bucket(policy.level, application.applicant_org, orgs)
        if bucket is not None:
            out.append((policy, bucket))
    return out


def earlier_round_ids(policy) -> tuple[int, ...]:
    codes = getattr(policy, "earlier_rounds", None)
    if not codes:
        return ()
    return tuple(Programme.objects.filter(code__in=codes).values_list("pk", flat=True))


def holders_q(
    programme_id: int,
    category: str,
    level: str,
    holder_id: int,
    direct: bool,
    earlier_ids: tuple[int, ...] = (),
) -> Q:
    """The recommendations that hold places of one bucket (its earlier rounds' too)."""
    # One programme (no earlier rounds) as ``=``: the condition a level's ranks share.
    programmes = (
        {"programme_id__in": (programme_id, *earlier_ids)}
        if earlier_ids
        else {"programme_id": programme_id}
    )
    return Q(
        **programmes,
        category=category,
        quota_level=level,
        quota_holder_id=holder_id,
        quota_direct=direct,
        active=True,
        action=ReviewAction.RECOMMEND,
    )


@prepared
def _allocation(programme_id: int, category: str, level: str, holder_id: int, direct: bool):
    """A bucket's allocation row (unique; by pk: the model's ordering would join, and lock,
    the holder)."""
    return QuotaAllocation.objects.filter(
        programme_id=programme_id, category=category, level=level, holder_id=holder_id,
        direct=direct,
    ).order_by("pk")[:1]  # fmt: skip


def _use_and_ranks_qs(holders: Q, ranks: Q):
    """A bucket's use and a review level's ranks counted in one query: one row, as
    ``aggregate`` would give (a constant grouped by is no GROUP BY); what both conditions
    share goes once into the WHERE (:func:`_split_shared`)."""
    shared, holders, ranks = _split_shared(holders, ranks)
    return (
        ReviewDecision.objects.filter(shared & (holders | ranks))
        .order_by()
        .annotate(one=Value(1))
        .values("one")
        .annotate(used=Count("pk", filter=holders), also=Count("pk", filter=ranks))
        .values_list("used", "also")
    )


@prepared
def _use_and_ranks(
    programme_id: int,
    category: str,
    quota_level: str,
    holder_id: int,
    direct: bool,
    level: str,
    org_id: int,
):
    """:func:`_use_and_ranks_qs` of a bucket without earlier rounds and a level of the same
    programme and category, compiled once per process."""
    return _use_and_ranks_qs(
        holders_q(programme_id, category, quota_level, holder_id, direct),
        level_q((programme_id, category, level, org_id)),
    )


def quota_state(
    application: Application,
    policy,
    bucket,
    *,
    lock: bool = False,
    ranks_of: LevelKey | None = None,
) -> QuotaState:
    """The limit and use of one bucket; ``lock`` takes the allocation row for the transaction.

    ``ranks_of``: a review level whose recommendations are counted in the same query (the
    page's next rank counts its level's ranks with the bucket's use): ``state.also_counted``."""
    args = (application.programme_id, application.category, bucket.level, bucket.holder.pk)
    if lock:
        alloc = _allocation(*args, bucket.direct).select_for_update().first()
    else:
        alloc = next(iter(_allocation(*args, bucket.direct)), None)
    limit = bucket_limit(alloc, policy)
    state = QuotaState(
        programme_id=application.programme_id,
        category=application.category,
        category_name=application.category_name,
        level=bucket.level,
        holder=bucket.holder,
        direct=bucket.direct,
        limit=limit,
        label=alloc.label if alloc else "",
        earlier_ids=earlier_round_ids(policy),
    )
    if ranks_of is None:
        state.used = state.holders_qs().count()
        return state
    if not state.earlier_ids and ranks_of[:2] == (state.programme_id, state.category):
        args = (state.programme_id, state.category, state.level, state.holder.pk, state.direct)
        counts = _use_and_ranks(*args, *ranks_of[2:])
    else:
        counts = _use_and_ranks_qs(state.holders_q(), level_q(ranks_of))
    state.used, state.also_counted = next(iter(counts))
    return state


def _split_shared(first: Q, second: Q) -> tuple[Q, Q, Q]:
    """``(shared, first's rest, second's rest)``: the conditions both plain ANDs have in common
    go once into the WHERE, so Django resolves and compiles them once, not three times
    (the aggregate's WHERE and both filters). Not plain ANDs of lookups: nothing shared."""

    def plain(q: Q) -> bool:
        return (
            q.connector == Q.AND
            and not q.negated
            and all(isinstance(child, tuple) for child in q.children)
        )

    if not (plain(first) and plain(second)):
        return Q(), first, second
    try:
        others = set(second.children)
        common = [c for c in first.children if c in others]
    except TypeError:  # an unhashable value (a list): compared as it is, nothing shared
        return Q(), first, second
    shared = set(common)
    if not common or shared >= set(first.children) or shared >= others:
        return Q(), first, second  # a filter left empty would count every row
    return (
        Q(*common),
        Q(*[c for c in first.children if c not in shared]),
        Q(*[c for c in second.children if c not in shared]),
    )


def quota_refusal(state: QuotaState, needed: int = 1) -> str:
    holders = list(
        state.holders_qs()
        .select_related("application__applicant_org", "programme")
        .order_by("rank", "decided_at")[:30]
    )
    names = _("、").join(
        _("%(org)s（第 %(rank)s 名）") % {"org": d.application.applicant_org.name, "rank": d.rank}
        if d.programme_id == state.programme_id
        else _("%(org)s（%(programme)s）")
        % {"org": d.application.applicant_org.name, "programme": d.programme.title}
        for d in holders
    )
    more = _("等 %(n)s 个") % {"n": state.used} if state.used > len(holders) else ""
    words = {"quota": state.name, "limit": state.limit, "used": state.used}
    if state.limit == 0:
        head = _("%(quota)s为 0 个，不能推荐。") % words
    elif needed == 1:
        head = _("%(quota)s共 %(limit)s 个，已全部占用，不能再推荐。") % words
    else:
        head = _(
            "%(quota)s共 %(limit)s 个，已用 %(used)s 个，还剩 %(left)s 个，"
            "不够推荐所选的 %(needed)s 个。"
        ) % {**words, "left": state.left, "needed": needed}
    if holders:
        head += _("占用名额的申报：%(names)s%(more)s。如需调整，请先撤回其中的推荐。") % {
            "names": names,
            "more": more,
        }
    return head
