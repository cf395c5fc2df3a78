"""The programme file format, as typed models.

A programme file is TOML; this module says what it may contain. Validation is strict
(unknown keys are errors) so a typo in a bureau's file is reported, never ignored. Checks
that need the database (org codes, participant lists) live in loader.py.

Dates and times without an offset are read as Asia/Shanghai. A deadline given as a date
means the end of that day (23:59:59) in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from .batch_schema import Batch  # noqa: F401 - part of the format
from .form_schema import (  # noqa: F401 - re-exported: the format in one namespace
    GROUP_ITEM_TYPES,
    PREFILL_SOURCES,
    AttachmentField,
    BoolField,
    ChoiceField,
    DateField,
    EmailField,
    FieldBase,
    Form,
    FormField,
    GroupField,
    LongTextField,
    MembersField,
    NumberField,
    OpinionBox,
    Option,
    PhoneField,
    ScalarField,
    Section,
    TextField,
    TopicField,
    _unique_keys,
)
from .issuers import CoIssuer, check_co_issuers
from .notice_schema import (  # noqa: F401 - part of the format
    SUMMARY_SOURCES,
    Notice,
    NoticeAttachment,
    SummaryColumn,
    SummaryTable,
)
from .pilot_schema import PilotSpec
from .quota_schema import (  # noqa: F401 - re-exported: the format in one namespace
    ApportionQuota,
    CountSpec,
    EachQuota,
    PercentQuota,
    QuotaBase,
    QuotaEntry,
    QuotaPolicy,
    TableQuota,
)
from .rubric_schema import (  # noqa: F401 - re-exported
    Criterion,
    CriterionGroup,
    Rubric,
    check_self_fields,
)
from .schema_base import (  # noqa: F401 - re-exported: the format's types live in one place
    SCHEMA_VERSION,
    SHANGHAI,
    Key,
    LocatedValueError,
    OrgKindName,
    StageName,
    Strict,
    TierName,
    check_known,
    check_unique,
    read_days,
    to_deadline,
    to_start,
)
from .set_schema import OrgMatch, QuotaClass, SetRule, Title  # noqa: F401 - part of the format
from .stages import (  # noqa: F401 - the stage kinds are part of the format
    AnnouncementStage,
    ApprovalStage,
    ExpertScoring,
    OrgReview,
    Stage,
    StageBase,
    TierReview,
    chain_stages,
    check_flow,
    legacy_flow,
    resolve_deadlines,
)

# --- rules ---------------------------------------------------------------------------------


class Rule(Strict):
    """A CEL expression that must be true, and the message shown when it is not.

    ``eligibility`` rules see ``org``, ``applicant`` and ``programme`` and decide whether the
    org may start an application; ``submission`` rules also see ``app`` (the form data,
    topic and members) and are checked at submission and again at recommendation.
    """

    id: Key
    expr: str = Field(min_length=1)
    message: str = Field(min_length=1)
    phase: Literal["eligibility", "submission"] = "eligibility"
    severity: Literal["block", "warn"] = "block"


# --- review chain ---------------------------------------------------------------------------


class ReviewLevel(Strict):
    """One level of the review chain.

    For each application the level is filled by the nearest org, the applicant itself or an
    ancestor, whose tier is ``tier``. When the applicant has no such org above it (a
    city-direct school has no county), the level is skipped, unless ``direct_fallback`` is
    set: then the applicant's parent takes the level (Quanzhou's city reviews its 市直
    schools in the counties' place, within its ``direct`` quota bucket) and still takes its
    own level afterwards.
    """

    key: Key
    name: str = Field(min_length=1)
    tier: TierName
    deadline: dt.date | dt.datetime
    direct_fallback: bool = False
    opinion_title: str = ""

    @property
    def deadline_at(self) -> dt.datetime:
        return to_deadline(self.deadline)


# --- categories, topics, programme -------------------------------------------------------------


class Topic(Strict):
    code: Key
    name: str = Field(min_length=1)
    description: str = ""
    # Topics in two levels: a sub-direction names its direction (a topic without a parent).
    parent: Key | None = None


class ParticipantListRef(Strict):
    code: Key
    title: str = Field(min_length=1)
    description: str = ""


class Fold(Strict):
    """``[[folds]]``: in this programme, ``org`` applies as part of ``into`` (a development
    zone as part of district X): its applicants' tier steps and quotas are those of ``into``
    and its ancestors, as if ``into`` stood in ``org``'s place in the tree. The tree itself is
    unchanged, so other programmes still route ``org`` by its own place. Codes or exact names.
    """

    org: str = Field(min_length=1)
    into: str = Field(min_length=1)
    # The categories the fold applies to (empty: every category).
    categories: list[Key] = Field(default_factory=list)
    note: str = ""


class Category(Strict):
    code: Key
    name: str = Field(min_length=1)
    description: str = ""
    applicant_kinds: list[OrgKindName] = Field(min_length=1)
    # Schools are eligible when they have at least one of these stages (empty: any).
    stages: list[StageName] = Field(default_factory=list)
    topics: list[Key] = Field(default_factory=list)
    form: Key
    rules: list[Rule] = Field(default_factory=list)
    # The stages an application goes through, in order (``stages.py``); or, in the older
    # form, only the review levels (``review``), which mean the default tail.
    flow: list[Stage] = Field(default_factory=list)
    review: list[ReviewLevel] | None = None
    quotas: list[QuotaPolicy] = Field(default_factory=list)
    # Rules over the set of units one org recommends (set_schema.py).
    set_rules: list[SetRule] = Field(default_factory=list)
    # Titles that admit a unit directly or lift it in the ranking (set_schema.Title).
    titles: list[Title] = Field(default_factory=list)
    # The most applications the issuer may approve in this category (Zhejiang: 20/20/60).
    cap: int | None = Field(default=None, ge=0)
    # Applicants of this category must submit by this time, when it is earlier than the
    # programme's close: schools that go through two levels close before universities that
    # apply straight to the province (Zhejiang), so that the levels have time to review.
    closes: dt.date | dt.datetime | None = None

    @property
    def closes_at(self) -> dt.datetime | None:
        return to_deadline(self.closes) if self.closes is not None else None

    _pipeline: list = PrivateAttr(default_factory=list)
    _folds: list = PrivateAttr(default_factory=list)

    @property
    def folds(self) -> list[Fold]:
        """The programme's ``[[folds]]`` that apply to this category."""
        return self._folds

    @property
    def pipeline(self) -> list[StageBase]:
        """Every stage of the flow, in order, deadlines resolved."""
        return self._pipeline

    @property
    def levels(self) -> list[StageBase]:
        """The stages each application goes through in turn (its chain): up to the last review."""
        return chain_stages(self._pipeline)

    def stage(self, key: str) -> StageBase | None:
        return next((s for s in self._pipeline if s.key == key), None)

    def stage_of(self, kind: str) -> StageBase | None:
        return next((s for s in self._pipeline if s.kind == kind), None)

    def flow_loc(self, i: int, field: str) -> tuple:
        """Where stage ``i``'s ``field`` is in the file (the older form: its review level)."""
        if self.review is not None:
            return ("review", min(i, len(self.review) - 1), field)
        return ("flow", i, field)

    @model_validator(mode="after")
    def _check(self):
        if self.review is not None and self.flow:
            raise LocatedValueError(
                "类别不能同时写 review（旧写法）与 flow，请只写 flow", ("review", 0, "key")
            )
        if self.review is None and not self.flow:
            raise LocatedValueError(
                "类别须写流程：[[categories.flow]]（每个阶段一项，见 docs/programme-format.md）",
                ("flow",),
            )
        self._pipeline = legacy_flow(self.review) if self.review is not None else list(self.flow)
        check_unique(self.rules, "id", "规则", ("rules",))
        check_flow(self._pipeline, self.code, {q.level for q in self.quotas}, self.flow_loc)
        level_tiers = {s.tier for s in self._pipeline if s.kind == "tier_review"}
        for qi, q in enumerate(self.quotas):
            if q.level not in level_tiers:
                raise LocatedValueError(f"名额层级 {q.level} 不在审核链中", ("quotas", qi, "level"))
        check_unique(self.set_rules, "id", "集合规则", ("set_rules",))
        for ri, r in enumerate(self.set_rules):
            if r.level not in level_tiers:
                raise LocatedValueError(
                    f"集合规则 {r.id} 的层级 {r.level} 不在审核链中", ("set_rules", ri, "level")
                )
            if r.each_topic and not self.topics:
                raise LocatedValueError(
                    f"集合规则 {r.id} 要求覆盖每个选题，但类别 {self.code} 没有选题",
                    ("set_rules", ri, "each_topic"),
                )
            order = ["province", "city", "county"]
            if r.each_org_at and order.index(r.each_org_at) <= order.index(r.level):
                raise LocatedValueError(
                    f"集合规则 {r.id} 的 each_org_at 须是 {r.level} 以下的层级",
                    ("set_rules", ri, "each_org_at"),
                )
        return self


class Period(Strict):
    opens: dt.date | dt.datetime
    closes: dt.date | dt.datetime

    @property
    def opens_at(self) -> dt.datetime:
        return to_start(self.opens)

    @property
    def closes_at(self) -> dt.datetime:
        return to_deadline(self.closes)

    @model_validator(mode="after")
    def _order(self):
        if to_start(self.opens) >= to_deadline(self.closes):
            raise ValueError("申报开始时间须早于截止时间")
        return self


class Announcement(Strict):
    """``[announcement]``: the 公示's objection period, counted from the day after publication:
    ``objection_days`` calendar days, or working days with ``working_days = true`` (or
    ``objection_days = "5 个工作日"``); a stage of kind ``announcement`` may set its own."""

    objection_days: int = Field(default=5, ge=0, le=60)
    working_days: bool = False
    title: str = ""

    @model_validator(mode="before")
    @classmethod
    def _objection_text(cls, data):
        return read_days(data, "objection_days")


class Reminders(Strict):
    """When reminders go out before each review level's deadline (``[reminders]``)."""

    days_before: list[int] = Field(default_factory=lambda: [3, 1], min_length=1, max_length=10)

    @field_validator("days_before")
    @classmethod
    def _days(cls, v):
        if any(d < 0 or d > 90 for d in v):
            raise ValueError("提前提醒天数须在 0 到 90 之间")
        if len(set(v)) != len(v):
            raise ValueError("提前提醒天数重复")
        return sorted(v, reverse=True)


class AdminAccountRequests(Strict):
    """Lower orgs may ask the issuer for a programme admin account (Henan attachment 2)."""

    deadline: dt.date | dt.datetime
    tiers: list[TierName] = Field(default_factory=lambda: ["city"])

    @property
    def deadline_at(self) -> dt.datetime:
        return to_deadline(self.deadline)


class Programme(Strict):
    schema_version: Literal[1] = 1
    code: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    kind: Literal["call", "certification"] = "call"
    title: str = Field(min_length=1, max_length=300)
    short_title: str = ""
    issuer: str = Field(min_length=1, description="发文机构的代码或全称")
    issuer_name: str = ""
    # The code of the programme this one is a round of (a city round under a provincial call:
    # its confirmed units become the city's recommendations there; cascade.py).
    parent: str = Field(default="", max_length=64)
    # Departments that issue the notice together with the issuer (issuers.py).
    co_issuers: list[CoIssuer] = Field(default_factory=list, max_length=10)
    doc_no: str = ""
    published: dt.date | None = None
    source: str = ""
    summary: str = ""
    period: Period
    topics: list[Topic] = Field(default_factory=list)
    lists: list[ParticipantListRef] = Field(default_factory=list)
    forms: dict[Key, Form]
    categories: list[Category] = Field(min_length=1)
    pilot: PilotSpec | None = None
    rubric: Rubric | None = None
    announcement: Announcement = Field(default_factory=Announcement)
    reminders: Reminders | None = None
    admin_account_requests: AdminAccountRequests | None = None
    contacts: list[dict[str, str]] = Field(default_factory=list)
    batches: list[Batch] = Field(default_factory=list)
    summary_tables: list[SummaryTable] = Field(default_factory=list)
    folds: list[Fold] = Field(default_factory=list)
    notice: Notice | None = None

    def _check_folds(self) -> None:
        codes = {c.code for c in self.categories}
        seen: dict[str, set[str]] = {}
        for fi, f in enumerate(self.folds):
            check_known(
                f.categories, codes, f"归口 {f.org} 引用了未定义的类别", ("folds", fi, "categories")
            )
            if f.org == f.into:
                raise LocatedValueError("不能把机构归口到它自己", ("folds", fi, "into"))
            cats = set(f.categories or codes)
            if seen.get(f.org, set()) & cats:
                raise LocatedValueError(
                    f"机构 {f.org} 在同一类别中归口了两次", ("folds", fi, "org")
                )
            seen.setdefault(f.org, set()).update(cats)
        for c in self.categories:
            c._folds = [f for f in self.folds if not f.categories or c.code in f.categories]

    def _check_supervisor(self) -> None:
        key = self.pilot.supervisor if self.pilot else None
        if key is None:
            return
        for c in self.categories:
            stage = c.stage(key)
            if stage is None or not stage.is_review:
                reviews = "、".join(s.key for s in c.pipeline if s.is_review)
                raise LocatedValueError(
                    f"试点督导单位 supervisor = {key} 须是每个类别流程中的审核阶段；"
                    f"类别 {c.code} 的审核阶段：{reviews}",
                    ("pilot", "supervisor"),
                )

    @model_validator(mode="after")
    def _cross(self):
        check_unique(self.categories, "code", "类别", ("categories",))
        check_unique(self.topics, "code", "选题", ("topics",))
        check_unique(self.lists, "code", "名单", ("lists",))
        check_unique(self.batches, "code", "批次", ("batches",))
        check_unique(self.summary_tables, "key", "汇总表", ("summary_tables",))
        topics = {t.code for t in self.topics}
        self._check_topic_parents()
        for ci, c in enumerate(self.categories):
            loc = ("categories", ci)
            if c.form not in self.forms:
                raise LocatedValueError(f"类别 {c.code} 引用的表单 {c.form} 未定义", (*loc, "form"))
            check_known(c.topics, topics, f"类别 {c.code} 引用了未定义的选题", (*loc, "topics"))
            form = self.forms[c.form]
            has_topic_field = any(f.type == "topic" for f in form.all_fields())
            if c.topics and not has_topic_field:
                raise LocatedValueError(
                    f"类别 {c.code} 有选题，但表单 {c.form} 没有 topic 字段", (*loc, "topics")
                )
            self._check_opinions(c, form)
            self._check_set_lists(c, loc)
            closes = c.closes_at or self.period.closes_at
            if c.closes is not None and not (
                self.period.opens_at < c.closes_at <= self.period.closes_at
            ):
                raise LocatedValueError(
                    f"类别 {c.code} 的申报截止时间须在申报期（{self.period.opens} 至 "
                    f"{self.period.closes}）之内",
                    (*loc, "closes"),
                )
            resolve_deadlines(
                c.pipeline, closes, c.code, lambda i, f, c=c, loc=loc: (*loc, *c.flow_loc(i, f))
            )
            self._check_experts(c, ci)
        self._check_supervisor()
        self._check_folds()
        check_self_fields(self.rubric, self.forms)
        check_co_issuers(self.co_issuers, self.issuer_name)
        codes = {c.code for c in self.categories}
        for bi, b in enumerate(self.batches):
            check_known(
                b.categories,
                codes,
                f"批次 {b.code} 引用了未定义的类别",
                ("batches", bi, "categories"),
            )
        for ti, t in enumerate(self.summary_tables):
            tloc = ("summary_tables", ti)
            check_known(
                t.categories, codes, f"汇总表 {t.key} 引用了未定义的类别", (*tloc, "categories")
            )
            cats = [c for c in self.categories if not t.categories or c.code in t.categories]
            if not any(t.by in {lvl.key for lvl in c.levels} for c in cats):
                raise LocatedValueError(
                    f"汇总表 {t.key} 的 by={t.by} 不是这些类别的审核层级", (*tloc, "by")
                )
            keys = {f.key for c in cats for f in self.forms[c.form].all_fields()}
            for ki, col in enumerate(t.columns):
                if col.source not in keys and col.source not in SUMMARY_SOURCES:
                    raise LocatedValueError(
                        f"汇总表 {t.key} 的列“{col.label}”引用了不存在的字段 {col.source}",
                        (*tloc, "columns", ki, "source"),
                    )
        return self

    def _check_topic_parents(self) -> None:
        """Two levels at most: a sub-direction's parent is a declared topic without a parent."""
        by_code = {t.code: t for t in self.topics}
        for ti, t in enumerate(self.topics):
            if t.parent is None:
                continue
            parent = by_code.get(t.parent)
            if parent is None or parent.parent is not None or t.parent == t.code:
                raise LocatedValueError(
                    f"选题 {t.code} 的 parent = {t.parent} 须是已声明的一级方向（本身没有 parent）",
                    ("topics", ti, "parent"),
                )

    def topic_label(self, code: str) -> str:
        """A topic's name, after its direction's for a sub-direction ("教学应用 / 智慧课堂")."""
        by_code = {t.code: t for t in self.topics}
        t = by_code.get(code)
        if t is None:
            return code
        parent = by_code.get(t.parent) if t.parent else None
        return f"{parent.name} / {t.name}" if parent else t.name

    def direction_of(self, topic: str) -> str:
        """The direction (first-level topic) of ``topic``: its parent, or itself."""
        t = next((x for x in self.topics if x.code == topic), None)
        return t.parent if t is not None and t.parent else topic

    def _check_set_lists(self, c: Category, loc: tuple) -> None:
        """The participant lists that quota classes and set rules name are declared."""
        declared = {x.code for x in self.lists}
        matches = [
            ((*loc, "quotas", qi, "classes", ki, "lists"), k)
            for qi, q in enumerate(c.quotas)
            for ki, k in enumerate(getattr(q, "classes", []))
        ] + [((*loc, "set_rules", ri, "where"), r.where) for ri, r in enumerate(c.set_rules)]
        for where, m in matches:
            check_known(m.lists if m else [], declared, "引用了未在 [[lists]] 中声明的名单", where)
        for ti, t in enumerate(c.titles):
            unknown = [] if t.list in declared else [t.list]
            if unknown:
                raise LocatedValueError(
                    f"称号 {t.name} 引用了未在 [[lists]] 中声明的名单：{t.list}",
                    (*loc, "titles", ti, "list"),
                )

    def _check_opinions(self, c: Category, form: Form) -> None:
        # The same form may serve several categories; a box must fit at least one of them.
        keys = {s.key for cc in self.categories if cc.form == c.form for s in cc.pipeline}
        for bi, box in enumerate(form.opinions):
            if box.by not in ("applicant", "experts") and box.by not in keys:
                raise LocatedValueError(
                    f"表单 {c.form} 的意见栏 {box.key} 的 by={box.by} 不是审核层级或流程阶段",
                    ("forms", c.form, "opinions", bi, "by"),
                )

    def _check_experts(self, c: Category, ci: int) -> None:
        for i, s in enumerate(c.pipeline):
            if s.kind != "expert_scoring" or not s.min_scores:
                continue
            per_app = s.experts or (self.rubric.experts_per_application if self.rubric else None)
            if per_app is None:
                raise LocatedValueError(
                    f"阶段 {s.key} 要求至少 {s.min_scores} 份评分，请写 experts（每份申报的专家人数）"
                    "或在 [rubric] 中写 experts_per_application",
                    ("categories", ci, *c.flow_loc(i, "experts")),
                )
            if s.min_scores > per_app:
                raise LocatedValueError(
                    f"阶段 {s.key} 的 min_scores（{s.min_scores}）大于每份申报的专家人数（{per_app}）",
                    ("categories", ci, *c.flow_loc(i, "min_scores")),
                )

    def objection_period(self, category: Category) -> tuple[int, bool]:
        """(days, working) of ``category``'s 公示 objection period: its announcement stage's,
        else ``[announcement]``'s."""
        stage = category.stage_of("announcement")
        days = getattr(stage, "objection_days", None)
        working = getattr(stage, "working_days", None)
        if days is None:
            days = self.announcement.objection_days
        if working is None:
            working = self.announcement.working_days
        return days, working

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def form_for(self, category: Category) -> Form:
        return self.forms[category.form]

    def category_closes_at(self, category: Category) -> dt.datetime:
        """When applicants of ``category`` must have submitted (unshifted)."""
        return category.closes_at or self.period.closes_at
