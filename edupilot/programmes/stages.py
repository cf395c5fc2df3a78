"""The stages of a category's flow, as the programme file declares them.

A category's ``[[categories.flow]]`` is the ordered list of what happens to an application
after it is submitted, in the notice's own words::

    [[categories.flow]]               # the district reviews and recommends within its quota
    kind = "tier_review"
    key = "district"
    name = "区教育局初审推荐"
    tier = "county"
    deadline = 2026-05-10

    [[categories.flow]]               # experts score; at least 2 scores before it moves on
    kind = "expert_scoring"
    key = "experts"
    name = "专家评审"
    min_scores = 2
    days_after = 10                   # closes 10 days after the previous stage closes
    working_days = true               # … 10 working days (or: days_after = "10 个工作日")

    [[categories.flow]]               # a named centre re-reviews
    kind = "org_review"
    key = "centre"
    name = "市电教馆复核"
    org = "330100-dj"
    days_after = 5

    [[categories.flow]]
    kind = "approval"
    key = "decision"
    name = "市教育局审定"

    [[categories.flow]]
    kind = "announcement"
    key = "publicity"
    name = "公示"

The stages up to the last review stage form each application's *chain* (who acts in turn,
resolved from the applicant's lineage by ``programmes.chain``); expert scoring at the end of
the chain is the issuer's panel before approval, as the older ``[[categories.review]]`` form
implied. :func:`check_flow` refuses, with the element's location, any list the engine cannot
run: nothing is silently dropped.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar, Literal

from pydantic import Field, PrivateAttr, StrictInt, field_validator, model_validator

from edupilot.core.workdays import add_workdays, days_text

from .schema_base import SHANGHAI, Key, LocatedValueError, Strict, TierName, read_days, to_deadline

ActionName = Literal["recommend", "not_recommend", "return"]
ALL_ACTIONS: list[str] = ["recommend", "not_recommend", "return"]
REVIEW_KINDS = ("tier_review", "org_review", "joint_review")
KIND_LABELS = {
    "tier_review": "按层级审核",
    "org_review": "指定单位审核",
    "joint_review": "联合审核",
    "expert_scoring": "专家评审",
    "approval": "审定",
    "announcement": "公示",
}
TIER_ORDER = {"county": 0, "city": 1, "province": 2}


class StageBase(Strict):
    key: Key
    # As the notice words it; also the title of the stage's opinion box on the paper form.
    name: str = Field(min_length=1, max_length=100)
    # A date (the end of that day), a datetime, or ``days_after`` the previous stage closes
    # (the first stage counts from the category's application deadline).
    deadline: dt.date | dt.datetime | None = None
    days_after: int | None = Field(default=None, ge=1, le=366)
    # The stage's day counts (``days_after``; an announcement's ``objection_days``) are working
    # days on China's calendar (holidays and 调休, ``edupilot.core.workdays``).
    working_days: bool = False
    opinion_title: str = ""

    _deadline_at: dt.datetime | None = PrivateAttr(default=None)
    _estimated: bool = PrivateAttr(default=False)

    @model_validator(mode="before")
    @classmethod
    def _days_text(cls, data):
        # days_after = "5 个工作日" / "5 working days" / "5 天"
        return read_days(data, "days_after")

    @property
    def deadline_rule(self) -> str:
        """How a ``days_after`` deadline is counted ("上一阶段截止后 5 个工作日"); '' for a date."""
        if self.days_after is None:
            return ""
        text = f"上一阶段截止后 {days_text(self.days_after, working=bool(self.working_days))}"
        if self._estimated:
            text += "，该年度节假日安排尚未发布，按周一至周五计算"
        return text

    @property
    def deadline_at(self) -> dt.datetime | None:
        """The resolved deadline (unshifted); None where the stage has none."""
        if self._deadline_at is not None:
            return self._deadline_at
        return to_deadline(self.deadline) if self.deadline is not None else None

    @property
    def is_review(self) -> bool:
        return self.kind in REVIEW_KINDS

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


class TierReview(StageBase):
    """Review by the applicant's nearest org of a tier (county → city → province).

    When the applicant has no org of that tier above it (a city-direct school has no county)
    the stage is skipped, unless ``direct_fallback``: then the applicant's parent takes it,
    within its ``direct`` quota bucket (Quanzhou's city for its 市直 schools).
    """

    kind: Literal["tier_review"]
    tier: TierName
    direct_fallback: bool = False
    # Whether a recommendation spends the tier's quota; None: when the category has one.
    quota: bool | None = None
    actions: list[ActionName] = Field(default_factory=lambda: list(ALL_ACTIONS), min_length=1)


class OrgReview(StageBase):
    """Review by one named org (a centre, an office, the issuer), whatever the applicant."""

    kind: Literal["org_review"]
    # A code or an exact name in the org tree (checked when the file is loaded).
    org: str = Field(min_length=1)
    quota: bool = False
    actions: list[ActionName] = Field(default_factory=lambda: list(ALL_ACTIONS), min_length=1)

    # Resolved per application (the named org's tier); never a fallback.
    tier: ClassVar[None] = None
    direct_fallback: ClassVar[bool] = False


class JointReview(StageBase):
    """A stage decided jointly by several named orgs (教育厅 and 财政厅): each records its
    opinion (agree, disagree, or send back); the stage completes when ``complete_when`` of
    them agree — ``"all"`` (the default), ``"any"`` or a number — and ends as not recommended
    as soon as that can no longer happen. The first org leads: the stage's decision, its rank
    and its place in the application's chain are its (``edupilot/review/joint.py``)."""

    kind: Literal["joint_review"]
    # Codes or exact names in the org tree (checked when the file is loaded); the first leads.
    orgs: list[str] = Field(min_length=2, max_length=10)
    # "all" (every org agrees), "any" (one does) or how many must agree; checked by check_flow.
    complete_when: StrictInt | str = "all"

    @field_validator("complete_when", mode="before")
    @classmethod
    def _when_as_written(cls, v):
        # ``true``, a float, a list: one clear message from check_flow, not one per type.
        return v if isinstance(v, str) or type(v) is int else str(v).lower()

    quota: bool = False
    actions: list[ActionName] = Field(default_factory=lambda: list(ALL_ACTIONS), min_length=1)

    tier: ClassVar[None] = None
    direct_fallback: ClassVar[bool] = False

    @property
    def org(self) -> str:
        """The lead org: the one the chain's step names."""
        return self.orgs[0]

    @property
    def needed(self) -> int:
        """How many agreeing opinions complete the stage."""
        if self.complete_when == "all":
            return len(self.orgs)
        if self.complete_when == "any":
            return 1
        return int(self.complete_when)

    @property
    def rule_text(self) -> str:
        """How the stage completes, as `programme show` and the pages say it."""
        n = len(self.orgs)
        if self.needed == n:
            return f"{n} 个单位全部同意后通过"
        if self.needed == 1:
            return f"{n} 个单位中任一单位同意即通过"
        return f"{n} 个单位中 {self.needed} 个同意后通过"


class ExpertScoring(StageBase):
    """The issuer's expert panel scores with the programme's ``[rubric]``.

    ``min_scores``: completed scores an application needs before the flow moves on (0: the
    panel is optional, approval does not wait for it).
    """

    kind: Literal["expert_scoring"]
    min_scores: int = Field(default=0, ge=0, le=20)
    # Experts per application; default the rubric's ``experts_per_application``.
    experts: int | None = Field(default=None, ge=1, le=20)


class ApprovalStage(StageBase):
    """The issuer decides, within the category's ``cap``."""

    kind: Literal["approval"]


class AnnouncementStage(StageBase):
    """公示: the proposed list, its objection period, the final list."""

    kind: Literal["announcement"]
    # Default: the programme's ``[announcement] objection_days`` (and its ``working_days``).
    objection_days: int | None = Field(default=None, ge=0, le=60)
    working_days: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _objection_text(cls, data):
        # objection_days = "5 个工作日" / "5 working days"
        return read_days(data, "objection_days")


Stage = Annotated[
    TierReview | OrgReview | JointReview | ExpertScoring | ApprovalStage | AnnouncementStage,
    Field(discriminator="kind"),
]


def legacy_flow(levels) -> list[StageBase]:
    """The flow the older ``[[categories.review]]`` form means: its levels as tier reviews,
    then the issuer's optional expert panel, approval and the announcement."""
    stages: list[StageBase] = [
        TierReview(kind="tier_review", **lvl.model_dump(exclude_none=True)) for lvl in levels
    ]
    stages.append(ExpertScoring(kind="expert_scoring", key="experts", name="专家评审"))
    stages.append(ApprovalStage(kind="approval", key="approval", name="审定"))
    stages.append(AnnouncementStage(kind="announcement", key="announcement", name="公示"))
    return stages


def chain_stages(stages: list[StageBase]) -> list[StageBase]:
    """The stages each application goes through in turn: up to the last review stage."""
    last = max((i for i, s in enumerate(stages) if s.is_review), default=-1)
    return stages[: last + 1]


def check_flow(stages, code: str, quota_tiers: set[str], loc) -> None:
    """Refuse a flow the engine cannot run; ``loc(i, field)`` locates stage ``i``'s field."""
    if not any(s.is_review for s in stages):
        raise LocatedValueError(
            f"类别 {code} 的流程至少要有一个审核阶段（tier_review 或 org_review）", loc(0, "kind")
        )
    seen: dict[str, int] = {}
    by_tier: dict[str, str] = {}
    counts: dict[str, int] = {}
    for i, s in enumerate(stages):
        if s.key in seen:
            raise LocatedValueError(f"类别 {code} 的流程阶段 key 重复：{s.key}", loc(i, "key"))
        seen[s.key] = i
        counts[s.kind] = counts.get(s.kind, 0) + 1
        if s.kind in ("expert_scoring", "approval", "announcement") and counts[s.kind] > 1:
            raise LocatedValueError(
                f"类别 {code} 的流程中“{KIND_LABELS[s.kind]}”（{s.kind}）只能有一个", loc(i, "kind")
            )
        if s.is_review and "recommend" not in s.actions:
            raise LocatedValueError(
                f"阶段 {s.key} 的 actions 须包含 recommend（推荐），否则申报无法进入下一阶段",
                loc(i, "actions"),
            )
        if s.kind == "tier_review":
            _check_tier(s, i, code, by_tier, quota_tiers, loc)
        if s.kind in ("org_review", "joint_review") and s.quota:
            raise LocatedValueError(
                f"阶段 {s.key} 由指定单位审核，不占名额；名额按层级（tier_review）设置",
                loc(i, "quota"),
            )
        if s.kind == "joint_review":
            _check_joint(s, i, loc)
        if s.deadline is not None and s.days_after is not None:
            raise LocatedValueError(
                f"阶段 {s.key} 的 deadline 与 days_after 只能写一个", loc(i, "days_after")
            )
        if s.working_days and s.days_after is None and s.kind != "announcement":
            raise LocatedValueError(
                f"阶段 {s.key} 写了 working_days = true，但没有 days_after：working_days 只用于"
                "按天数计算的截止时间（上一阶段截止后的天数）；写了日期 deadline 的阶段不需要它",
                loc(i, "working_days"),
            )
        needs_deadline = s.is_review or (s.kind == "expert_scoring" and s.min_scores)
        if needs_deadline and s.deadline is None and s.days_after is None:
            raise LocatedValueError(
                f"阶段 {s.key} 须写截止时间：deadline（日期）或 days_after（上一阶段截止后的天数）",
                loc(i, "deadline"),
            )
    _check_order(stages, code, loc)


def _check_tier(s, i, code, by_tier, quota_tiers, loc) -> None:
    if s.tier in by_tier:
        raise LocatedValueError(
            f"类别 {code} 有两个 {s.tier} 层级的审核阶段（{by_tier[s.tier]}、{s.key}）：同一层级"
            "只会由同一单位审核一次。同一地区的两个单位依次审核，请把后一个写成 "
            'kind = "org_review" 并用 org 指明单位',
            loc(i, "tier"),
        )
    lower = [t for t in by_tier if TIER_ORDER[t] > TIER_ORDER[s.tier]]
    if lower:
        raise LocatedValueError(
            f"按层级审核须自下而上排列（县级→市级→省级）：{s.key}（{s.tier}）排在 "
            f"{by_tier[lower[0]]}（{lower[0]}）之后",
            loc(i, "tier"),
        )
    by_tier[s.tier] = s.key
    if s.quota and s.tier not in quota_tiers:
        raise LocatedValueError(
            f"阶段 {s.key} 写了 quota = true，但类别没有 {s.tier} 层级的名额（[[categories.quotas]]）",
            loc(i, "quota"),
        )
    if s.quota is False and s.tier in quota_tiers:
        raise LocatedValueError(
            f"阶段 {s.key} 写了 quota = false，但类别设置了 {s.tier} 层级的名额", loc(i, "quota")
        )


def _check_joint(s, i, loc) -> None:
    for k, ref in enumerate(s.orgs):
        if ref in s.orgs[:k]:
            raise LocatedValueError(f"阶段 {s.key} 的联合审核单位重复：{ref}", loc(i, "orgs"))
    if isinstance(s.complete_when, str) and s.complete_when not in ("all", "any"):
        raise LocatedValueError(
            f'阶段 {s.key} 的 complete_when 须为 "all"（全部同意）、"any"（任一同意）'
            f"或同意的单位数（1 到 {len(s.orgs)}），不能是“{s.complete_when}”",
            loc(i, "complete_when"),
        )
    if isinstance(s.complete_when, int) and not 1 <= s.complete_when <= len(s.orgs):
        raise LocatedValueError(
            f"阶段 {s.key} 的 complete_when = {s.complete_when}：须在 1 到联合审核单位数"
            f'（{len(s.orgs)}）之间，或写 "all"（全部同意）、"any"（任一同意）',
            loc(i, "complete_when"),
        )


def _check_order(stages, code: str, loc) -> None:
    kinds = [s.kind for s in stages]
    if kinds[0] == "expert_scoring":
        raise LocatedValueError(
            f"类别 {code} 的专家评审前须至少有一个审核阶段，由它推荐进入专家评审", loc(0, "kind")
        )
    for tail in ("approval", "announcement"):
        if tail not in kinds:
            raise LocatedValueError(
                f'类别 {code} 的流程须有 kind = "{tail}"（{KIND_LABELS[tail]}）阶段',
                loc(len(stages) - 1, "kind"),
            )
    a = kinds.index("approval")
    for i, s in enumerate(stages):
        if i > a and (s.is_review or s.kind == "expert_scoring"):
            raise LocatedValueError(
                f"阶段 {s.key}（{s.kind_label}）不能排在审定（approval）之后", loc(i, "kind")
            )
    n = kinds.index("announcement")
    if n != a + 1 or n != len(stages) - 1:
        raise LocatedValueError(
            f"类别 {code} 的公示（announcement）须紧跟审定（approval），并且是最后一个阶段",
            loc(n, "kind"),
        )


def resolve_deadlines(stages, start: dt.datetime, code: str, loc) -> None:
    """Fix each stage's deadline: its date, or ``days_after`` the previous deadline (calendar
    days; with ``working_days``, the end of the n-th working day after the previous deadline's
    day, Beijing time); later stages may not close before earlier ones, nor before the
    application deadline."""
    previous = start
    previous_key = None
    for i, s in enumerate(stages):
        if s.days_after is not None and s.working_days:
            day, s._estimated = add_workdays(previous.astimezone(SHANGHAI).date(), s.days_after)
            s._deadline_at = to_deadline(day)
        elif s.days_after is not None:
            s._deadline_at = previous + dt.timedelta(days=s.days_after)
        at = s.deadline_at
        if at is None:
            continue
        if at < previous:
            where = f"上一阶段 {previous_key}" if previous_key else "申报截止时间"
            raise LocatedValueError(
                f"类别 {code} 的阶段 {s.key} 截止时间早于{where}", loc(i, "deadline")
            )
        previous, previous_key = at, s.key
