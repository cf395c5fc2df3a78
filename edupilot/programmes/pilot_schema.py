"""The pilot period, as the programme file declares it (``[pilot]`` and ``[[pilot.stages]]``).

After the final list is published each approved application becomes a pilot. What happens to
it next is an ordered list of stages, in the notice's words::

    [pilot]
    duration_months = 24
    supervisor = "county"          # a review stage of the category's flow: its org supervises

    [[pilot.stages]]               # the 2-year implementation plan, approved by the supervisor
    kind = "plan"
    key = "plan"
    name = "两年实施方案"
    due_days = 30

    [[pilot.stages]]               # "每月25日前上报工作进展"
    kind = "reports"
    key = "monthly"
    name = "月度工作进展"
    cadence = "monthly"
    due_day = 25

    [[pilot.stages]]
    kind = "acceptance"
    key = "acceptance"
    name = "验收"
    grades = [
      { key = "excellent", name = "优秀", min_percent = 90 },
      { key = "pass", name = "合格", min_percent = 60 },
      { key = "fail", name = "不合格", result = "fail" },
    ]

Stage kinds: ``plan``, ``reports`` (one per cadence), ``inspection``, ``acceptance`` (with
graded outcomes), ``appraisal`` (titles and achievement lists through 公示), ``awards``
(以奖代补 within a budget) and ``cases`` (典型案例). :func:`check_pilot_stages` refuses, with the
element's location, any list the pilot engine cannot run.

The older form (``report_cadence``, ``report_day``, ``plan_required``) still loads: it means a
plan stage and, unless the cadence is ``none``, one reports stage (:func:`legacy_pilot_stages`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from edupilot.core.workdays import days_text

from .form_schema import FormField, _unique_keys
from .grading import GradeSpec, check_grades, check_mandatory_mins, grade_for
from .schema_base import Key, LocatedValueError, Strict, read_days

PILOT_KIND_LABELS = {
    "plan": "实施方案",
    "reports": "定期报告",
    "inspection": "检查指导",
    "acceptance": "验收",
    "appraisal": "评估认定",
    "awards": "以奖代补",
    "cases": "典型案例",
}
CADENCE_LABELS = {
    "monthly": "每月",
    "quarterly": "每季度",
    "semiannual": "每半年",
    "annual": "每年",
    "midterm": "中期",
    "final": "期末",
}
Actor = Literal["supervisor", "issuer"]


class PilotStageBase(Strict):
    key: Key
    name: str = Field(min_length=1, max_length=100)
    # Who approves what the unit hands in: the supervising org or the issuer.
    approver: Actor = "supervisor"
    # What the unit fills in (short text, figures, attachments); the same field types as the
    # application form. Empty: a free-text summary only.
    fields: list[FormField] = Field(default_factory=list, max_length=60)

    @model_validator(mode="after")
    def _unique_fields(self):
        _unique_keys(self.fields, "阶段表单", ("fields",))
        return self

    @property
    def kind_label(self) -> str:
        return PILOT_KIND_LABELS[self.kind]


class PlanStage(PilotStageBase):
    """The implementation plan (任务书 / 实施方案): phases, milestones, budget, results."""

    kind: Literal["plan"]
    # Due this many days after the pilot starts.
    due_days: int = Field(default=30, ge=1, le=366)


class ReportsStage(PilotStageBase):
    """Periodic reports at one cadence.

    ``monthly``: the report on a month is due by ``due_day`` of that month (``due_month =
    "next"``: of the month after). Other cadences: ``due_days`` after the period ends.
    ``working_days``: due dates falling on a non-working day move to the next working day and
    ``due_days`` count working days, on the Chinese working-day calendar.
    """

    kind: Literal["reports"]
    cadence: Literal["monthly", "quarterly", "semiannual", "annual", "midterm", "final"]
    due_day: int | None = Field(default=None, ge=1, le=28)
    due_month: Literal["current", "next"] = "current"
    due_days: int | None = Field(default=None, ge=0, le=90)
    working_days: bool = False
    remind_days_before: list[int] = Field(default_factory=lambda: [3], max_length=5)
    # Overdue this many days: the supervising org's admin is told (督促下级).
    escalate_days_after: int = Field(default=1, ge=0, le=60)

    @model_validator(mode="after")
    def _due(self):
        if self.cadence == "monthly":
            if self.due_day is None:
                raise LocatedValueError("月报须写明每月几号前上报（due_day）", ("due_day",))
            if self.due_days is not None:
                raise LocatedValueError("月报用 due_day，不用 due_days", ("due_days",))
        elif self.due_day is not None:
            raise LocatedValueError(
                f"{CADENCE_LABELS[self.cadence]}报告用 due_days（期末后几天内），不用 due_day",
                ("due_day",),
            )
        if any(d < 0 or d > 30 for d in self.remind_days_before):
            raise LocatedValueError("提前提醒天数须在 0 到 30 之间", ("remind_days_before",))
        return self

    @property
    def due_after(self) -> int:
        return self.due_days if self.due_days is not None else 10


class InspectionStage(PilotStageBase):
    """Inspections (site visits, document checks) with rectification demands (整改)."""

    kind: Literal["inspection"]
    by: list[Actor] = Field(default_factory=lambda: ["supervisor", "issuer"], min_length=1)
    modes: list[Literal["site", "document"]] = Field(
        default_factory=lambda: ["site", "document"], min_length=1
    )
    rectify_days: int = Field(default=30, ge=1, le=366)


class Material(Strict):
    key: Key
    name: str = Field(min_length=1, max_length=100)
    required: bool = True


class CriterionSpec(Strict):
    key: Key
    name: str = Field(min_length=1)
    max: Decimal = Field(gt=0)
    # A veto item (必达项): the panel's aggregated score on it must reach this for any
    # passing grade; below it the unit gets no pass grade, whatever its total.
    mandatory_min: Decimal | None = Field(default=None, ge=0)


class AcceptanceStage(PilotStageBase):
    """验收: the unit's summary and materials, an expert panel's scores, the issuer's grade."""

    kind: Literal["acceptance"]
    approver: Actor = "issuer"
    materials: list[Material] = Field(default_factory=list, max_length=30)
    criteria: list[CriterionSpec] = Field(default_factory=list, max_length=30)
    experts: int = Field(default=3, ge=1, le=20)
    min_scores: int = Field(default=0, ge=0, le=20)
    # How the experts' totals combine, as a ``[rubric]`` says it: "mean", or "trimmed_mean"
    # dropping ``trim`` highest and lowest (the mean while there are 2×trim scores or fewer).
    aggregate: Literal["mean", "trimmed_mean"] = "mean"
    trim: int = Field(default=1, ge=0, le=5)
    grades: list[GradeSpec] = Field(min_length=2, max_length=10)
    rectify_days: int = Field(default=90, ge=1, le=366)

    @model_validator(mode="after")
    def _grades(self):
        _unique_keys(self.materials, "验收材料", ("materials",))
        _unique_keys(self.criteria, "验收评分项", ("criteria",))
        if self.min_scores > self.experts:
            raise LocatedValueError(
                f"最少评分人数（{self.min_scores}）不能多于专家人数（{self.experts}）",
                ("min_scores",),
            )
        check_mandatory_mins(self.criteria, "验收评分项")
        check_grades(
            self.grades,
            ("grades",),
            scored=bool(self.criteria),
            has_mandatory=bool(self.mandatory),
            what="验收等级",
        )
        if not any(g.result == "pass" for g in self.grades):
            raise LocatedValueError('至少要有一个通过（result = "pass"）的等级', ("grades",))
        return self

    def grade(self, key: str) -> GradeSpec | None:
        return next((g for g in self.grades if g.key == key), None)

    @property
    def total(self) -> Decimal:
        return sum((c.max for c in self.criteria), Decimal(0))

    @property
    def mandatory(self) -> list[CriterionSpec]:
        """The veto items: criteria with a ``mandatory_min``."""
        return [c for c in self.criteria if c.mandatory_min is not None]

    def grade_for_percent(
        self, percent: Decimal, *, mandatory_met: bool = True
    ) -> GradeSpec | None:
        """The highest score-band grade the percentage reaches (the issuer may still choose).
        A veto item missed leaves no passing grade to suggest."""
        bands = [g for g in self.grades if g.min_percent is not None]
        if not mandatory_met:
            bands = [g for g in bands if g.result != "pass"]
        return grade_for(bands, percent, mandatory_met=mandatory_met)


class TitleSpec(Strict):
    key: Key
    name: str = Field(min_length=1, max_length=60)
    # Acceptance grades a pilot needs to be proposed for this title; empty: any passing grade.
    grades: list[Key] = Field(default_factory=list)


class AppraisalStage(PilotStageBase):
    """Titles and achievement lists (示范学校, 试点成果), published through 公示."""

    kind: Literal["appraisal"]
    approver: Actor = "issuer"
    titles: list[TitleSpec] = Field(min_length=1, max_length=10)
    objection_days: int = Field(default=5, ge=0, le=60)
    # The 公示's days are working days (China's calendar); or objection_days = "5 个工作日".
    working_days: bool = False

    @model_validator(mode="before")
    @classmethod
    def _objection_text(cls, data):
        return read_days(data, "objection_days")

    @model_validator(mode="after")
    def _titles(self):
        _unique_keys(self.titles, "称号", ("titles",))
        return self


class AwardsStage(PilotStageBase):
    """以奖代补: awards from a budget, by grade or by rank; the total never exceeds it."""

    kind: Literal["awards"]
    approver: Actor = "issuer"
    fund: str = Field(default="", max_length=100)
    budget: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    by_grade: dict[Key, Decimal] = Field(default_factory=dict)
    by_rank: list[Decimal] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _amounts(self):
        if bool(self.by_grade) == bool(self.by_rank):
            raise LocatedValueError(
                "奖补金额须按等级（by_grade）或按名次（by_rank）二选一", ("by_grade",)
            )
        for k, v in self.by_grade.items():
            if v <= 0:
                raise LocatedValueError(f"等级 {k} 的奖补金额须大于 0", ("by_grade", k))
        if any(v <= 0 for v in self.by_rank):
            raise LocatedValueError("按名次的奖补金额须大于 0", ("by_rank",))
        if sum(self.by_rank, Decimal(0)) > self.budget:
            raise LocatedValueError("按名次的奖补金额合计超过预算", ("by_rank",))
        return self


class CasesStage(PilotStageBase):
    """典型案例: the unit's case text and files, published once the approver accepts them."""

    kind: Literal["cases"]


PilotStage = Annotated[
    PlanStage
    | ReportsStage
    | InspectionStage
    | AcceptanceStage
    | AppraisalStage
    | AwardsStage
    | CasesStage,
    Field(discriminator="kind"),
]
SINGLE_KINDS = ("plan", "inspection", "acceptance", "appraisal", "awards", "cases")
PILOT_TAGS = set(PILOT_KIND_LABELS)


class PilotSpec(Strict):
    duration_months: int | None = Field(default=None, ge=1, le=120)
    # The period starts when the final list is published, or on a date the notice fixes.
    starts: Literal["final_list"] | dt.date = "final_list"
    # A review stage key of each category's flow whose org supervises (default: the first).
    supervisor: Key | None = None
    evaluation: str = ""
    awards: list[str] = Field(default_factory=list)
    stages: list[PilotStage] = Field(default_factory=list, max_length=20)
    # The older form: a plan and one cadence of reports.
    report_cadence: Literal["none", "monthly", "quarterly", "semiannual", "annual"] | None = None
    report_day: int | None = Field(default=None, ge=1, le=28, description="每月几号前上报")
    plan_required: bool | None = None

    @model_validator(mode="after")
    def _stages(self):
        legacy = [k for k in ("report_cadence", "report_day", "plan_required") if getattr(self, k)]
        if self.stages and legacy:
            raise LocatedValueError(
                f"{legacy[0]} 是旧写法，已写 [[pilot.stages]] 时请删去，改在 stages 中声明",
                (legacy[0],),
            )
        check_pilot_stages(self.stages, lambda i, f: ("stages", i, *f))
        return self

    @property
    def pipeline(self) -> list[PilotStageBase]:
        return list(self.stages) if self.stages else legacy_pilot_stages(self)

    def stage(self, key: str) -> PilotStageBase | None:
        return next((s for s in self.pipeline if s.key == key), None)

    def stage_of(self, kind: str) -> PilotStageBase | None:
        return next((s for s in self.pipeline if s.kind == kind), None)

    def report_stages(self) -> list[ReportsStage]:
        return [s for s in self.pipeline if s.kind == "reports"]


def legacy_pilot_stages(spec: PilotSpec) -> list[PilotStageBase]:
    stages: list[PilotStageBase] = []
    if spec.plan_required is not False:
        stages.append(PlanStage(kind="plan", key="plan", name="实施方案"))
    cadence = spec.report_cadence or "none"
    if cadence == "monthly":
        stages.append(
            ReportsStage(
                kind="reports",
                key="monthly",
                name="月度工作进展",
                cadence="monthly",
                due_day=spec.report_day or 25,
            )
        )
    elif cadence != "none":
        stages.append(
            ReportsStage(
                kind="reports",
                key=cadence,
                name=f"{CADENCE_LABELS[cadence]}工作进展",
                cadence=cadence,
                due_days=10,
            )
        )
    return stages


def check_pilot_stages(stages, loc) -> None:
    """Refuse a pilot-period list the engine cannot run; ``loc(i, fields)`` locates it."""
    seen: set[str] = set()
    counts: dict[str, int] = {}
    cadences: set[str] = set()
    acceptance = None
    for i, s in enumerate(stages):
        if s.key in seen:
            raise LocatedValueError(f"试点期阶段 key 重复：{s.key}", loc(i, ("key",)))
        seen.add(s.key)
        counts[s.kind] = counts.get(s.kind, 0) + 1
        if s.kind in SINGLE_KINDS and counts[s.kind] > 1:
            raise LocatedValueError(
                f"试点期中“{PILOT_KIND_LABELS[s.kind]}”（{s.kind}）只能有一个", loc(i, ("kind",))
            )
        if s.kind == "reports":
            if s.cadence in cadences:
                raise LocatedValueError(
                    f"同一报告周期（{s.cadence}）只能声明一次", loc(i, ("cadence",))
                )
            cadences.add(s.cadence)
        if s.kind == "acceptance":
            acceptance = s
        if s.kind in ("appraisal", "awards"):
            _check_grade_refs(s, i, acceptance, loc)


def _check_grade_refs(s, i, acceptance, loc) -> None:
    keys = [(("by_grade", k), k) for k in getattr(s, "by_grade", {})]
    for ti, t in enumerate(getattr(s, "titles", [])):
        keys += [(("titles", ti, "grades"), g) for g in t.grades]
    if not keys:
        return
    if acceptance is None:
        raise LocatedValueError(
            f"阶段 {s.key} 按验收等级设定，须排在验收（acceptance）阶段之后", loc(i, ("kind",))
        )
    known = {g.key for g in acceptance.grades}
    for where, k in keys:
        if k not in known:
            raise LocatedValueError(
                f"阶段 {s.key} 引用了未定义的验收等级：{k}（已定义：{'、'.join(sorted(known))}）",
                loc(i, where),
            )


def due_rule(stage: PilotStageBase) -> str:
    """The stage's due rule in words, for the programme page and ``programme show``."""
    if stage.kind == "plan":
        return f"试点开始后 {stage.due_days} 天内"
    if stage.kind == "reports":
        unit = "个工作日" if stage.working_days else "天"
        if stage.cadence == "monthly":
            month = "当月" if stage.due_month == "current" else "次月"
            shift = "（遇节假日顺延）" if stage.working_days else ""
            return f"每月报告{month} {stage.due_day} 日前{shift}"
        return f"{CADENCE_LABELS[stage.cadence]}报告，期满后 {stage.due_after} {unit}内"
    if stage.kind == "inspection":
        return f"随时安排；整改期限 {stage.rectify_days} 天"
    if stage.kind == "acceptance":
        grades = "、".join(g.name for g in stage.grades)
        veto = "、".join(f"{c.name} ≥{c.mandatory_min:f}" for c in stage.mandatory)
        return f"试点期满时；等级：{grades}" + (f"；必达项：{veto}" if veto else "")
    if stage.kind == "appraisal":
        period = days_text(stage.objection_days, working=stage.working_days)
        return f"验收后；称号：{'、'.join(t.name for t in stage.titles)}；公示 {period}"
    if stage.kind == "awards":
        return f"验收后；预算 {stage.budget} 元"
    return "试点期内"
