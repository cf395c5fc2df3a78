"""A batch, the schools in it (entries), their decisions, and districts' filings."""

from __future__ import annotations

from django.apps import apps
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from edupilot.core.models import user_ref
from edupilot.core.numbers import plain

from ..standards import STAGE_LABELS
from .standards import Standard


class BatchState(models.TextChoices):
    OPEN = "open", _("数据采集中")
    FROZEN = "frozen", _("数据已冻结")
    PUBLISHED = "published", _("已公布")


DEFAULT_BATCH_STAGES = ",primary,junior,senior,vocational,"


class Batch(models.Model):
    """One certification round of an org (Hangzhou: 2024-09, data as of 2024-08-31)."""

    code = models.SlugField(_("批次代码"), max_length=64, unique=True)
    name = models.CharField(_("批次名称"), max_length=200)
    owner = models.ForeignKey(
        "orgs.Org", verbose_name=_("组织单位"), on_delete=models.PROTECT, related_name="+"
    )
    programme = models.ForeignKey(
        "programmes.Programme",
        verbose_name=_("对应通知"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The programme file's [[batches]] code this batch runs (its self-assessment and gate).
    programme_batch = models.CharField(_("通知中的批次代码"), max_length=64, blank=True)
    certification_date = models.DateField(_("认定时间"))
    cutoff = models.DateField(_("数据统计截止日"))
    stages = models.CharField(_("认定学段"), max_length=120, default=DEFAULT_BATCH_STAGES)
    standard = models.ForeignKey(
        Standard, verbose_name=_("认定标准"), on_delete=models.PROTECT, related_name="batches"
    )
    additional_standards = models.ManyToManyField(
        Standard, verbose_name=_("附加标准"), blank=True, related_name="batches_additional"
    )
    # Holders of these titles are certified automatically; the titles are participant
    # lists (a programme file declares them, `lists import` fills them).
    exempt_titles = models.ManyToManyField(
        "programmes.ParticipantList",
        verbose_name=_("自动认定称号"),
        blank=True,
        related_name="+",
    )
    state = models.CharField(
        _("状态"), max_length=16, choices=BatchState.choices, default=BatchState.OPEN
    )
    frozen_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = user_ref(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("认定批次")
        verbose_name_plural = _("认定批次")
        ordering = ["-certification_date", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def stage_list(self) -> list[str]:
        return [s for s in self.stages.split(",") if s]

    def get_stages_display(self) -> str:
        return "、".join(STAGE_LABELS.get(s, s) for s in self.stage_list)

    @property
    def is_frozen(self) -> bool:
        return self.state != BatchState.OPEN


class BatchStandard(models.Model):
    """A district's own standard for its schools in a batch (must derive from the batch's)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="district_standards")
    certifier = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="+")
    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="+")
    adopted_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "certifier"], name="cert_batch_standard_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.certifier_id}:{self.standard_id}"


class EntryState(models.TextChoices):
    QUEUED = "queued", _("待认定")
    DECIDED = "decided", _("已作出结论")
    FILED = "filed", _("已报备")
    EXEMPT = "exempt", _("自动认定")


class Provisional(models.TextChoices):
    PENDING = "pending", _("未评估")
    PASS = "pass", _("达到标准")
    INCOMPLETE = "incomplete", _("数据不全")
    FAIL = "fail", _("未达到标准")


class Decision(models.TextChoices):
    CERTIFIED = "certified", _("认定为智慧校园")
    NOT_CERTIFIED = "not_certified", _("不予认定")
    DEFERRED = "deferred", _("暂缓认定")


class Filing(models.Model):
    """A district bureau's results filed with the city (报杭州市教育发展服务中心备案)."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="filings")
    org = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="+")
    filed_by = user_ref()
    filed_at = models.DateTimeField()
    total = models.PositiveIntegerField(default=0)
    certified = models.PositiveIntegerField(default=0)
    not_certified = models.PositiveIntegerField(default=0)
    deferred = models.PositiveIntegerField(default=0)
    exempt = models.PositiveIntegerField(default=0)
    note = models.TextField(_("报备说明"), blank=True)
    # The batch owner may send a filing back before publication (退回报备); the row stays as
    # history and the district files again.
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_by = user_ref()
    return_reason = models.TextField(_("退回理由"), blank=True)

    class Meta:
        verbose_name = _("认定结果报备")
        verbose_name_plural = _("认定结果报备")
        ordering = ["batch", "org__path", "filed_at"]
        constraints = [
            # One standing filing per district and batch; returned ones are history.
            models.UniqueConstraint(
                fields=["batch", "org"],
                condition=models.Q(returned_at__isnull=True),
                name="cert_filing_one_standing",
            )
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.org_id}"


class Entry(models.Model):
    """One school in one batch: its data, assessment, verification and decision.

    ``data`` maps indicator code → [value, source, as_of]: the value as of the batch's
    cut-off, with where it came from ("i<import run id>" or "c<correction id>").
    ``result`` keeps the per-standard summaries of the last assessment.
    """

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="entries")
    school = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="+")
    certifier = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="+")
    stages = models.CharField(max_length=120, blank=True, default="")
    state = models.CharField(
        _("状态"), max_length=16, choices=EntryState.choices, default=EntryState.QUEUED
    )
    exempt_title = models.ForeignKey(
        "programmes.ParticipantList",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    data = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    provisional = models.CharField(
        _("评估结果"), max_length=16, choices=Provisional.choices, default=Provisional.PENDING
    )
    score = models.DecimalField(_("得分"), max_digits=8, decimal_places=2, null=True, blank=True)
    unmet_count = models.PositiveIntegerField(default=0)
    missing_count = models.PositiveIntegerField(default=0)
    assessed_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(_("认定结论"), max_length=16, choices=Decision.choices, blank=True)
    opinion = models.TextField(_("认定意见"), blank=True)
    # The grade the standard gave when the school was certified (empty: no grades declared).
    grade_name = models.CharField(_("认定等级"), max_length=30, blank=True)
    decided_by = user_ref(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    filing = models.ForeignKey(
        Filing, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("认定对象")
        verbose_name_plural = _("认定对象")
        constraints = [
            models.UniqueConstraint(fields=["batch", "school"], name="cert_entry_unique")
        ]
        indexes = [
            models.Index(fields=["batch", "certifier", "state"]),
            models.Index(fields=["batch", "state", "decision"]),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.school_id}"

    @property
    def stage_list(self) -> list[str]:
        return [s for s in self.stages.split(",") if s]

    def get_stages_display(self) -> str:
        return "、".join(STAGE_LABELS.get(s, s) for s in self.stage_list)

    @staticmethod
    def scope_extra_q(scope) -> Q:
        """Experts reach a school only through a site visit they are on (see orgs.scoping)."""
        if scope.is_expert and scope.user_id:
            # SiteVisit lives in .checks, which builds on this module.
            team = apps.get_model("certification", "SiteVisit").team.through
            return Q(
                pk__in=team.objects.filter(user_id=scope.user_id).values("sitevisit__entry_id")
            )
        return Q(pk__in=[])

    @property
    def gate_reason(self) -> str:
        """Why the batch's application gate keeps the school out (未提交自评 …), if it does."""
        return (self.result or {}).get("gate", "")

    @property
    def provisional_grade(self) -> str:
        """The grade the current assessment gives (before a decision fixes it)."""
        return (self.result or {}).get("grade_name", "")

    def dimension_subtotals(self, names: dict[str, str]) -> str:
        """Each standard's dimension subtotals, e.g. "基础环境 18/20；智慧应用 26/30"."""
        parts = []
        for s in (self.result or {}).get("standards", []):
            for key, got, top in s.get("dimensions") or []:
                parts.append(f"{names.get(key, key)} {plain(got)}/{plain(top)}")
        return "；".join(parts)

    @property
    def is_certified(self) -> bool:
        return self.state == EntryState.EXEMPT or self.decision == Decision.CERTIFIED

    @property
    def is_final(self) -> bool:
        """Certified and final: exempt, filed by a district, or decided by the batch owner."""
        if self.state == EntryState.EXEMPT:
            return True
        if self.decision != Decision.CERTIFIED:
            return False
        return self.state == EntryState.FILED or self.certifier_id == self.batch.owner_id

    @staticmethod
    def certified_final_q() -> Q:
        """:attr:`is_certified` and :attr:`is_final` as a query (the public list, the
        certificates)."""
        return Q(state=EntryState.EXEMPT) | Q(decision=Decision.CERTIFIED) & (
            Q(state=EntryState.FILED) | Q(certifier_id=F("batch__owner_id"))
        )
