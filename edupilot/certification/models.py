"""Smart-campus certification: standards, batches, data from other systems, assessment,
site verification, decisions and filing.

The shape follows the Hangzhou notice (杭教办发展〔2023〕146号): a city runs a batch with a
data cut-off date; schools (primary, secondary, secondary vocational; never kindergartens)
are certified by their district bureau, which files its results with the city, while the
city certifies its city-direct schools itself; holders of four titles are certified
automatically. Data comes from other systems' exports; the standard's rule gives a
provisional result; site verification may confirm or overturn indicators; the bureau decides.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .standards import MEASURE_LABELS, STAGE_LABELS, VERIFICATION_LABELS


class StandardRole(models.TextChoices):
    MAIN = "main", _("认定标准")
    ADDITIONAL = "additional", _("附加标准")


class Verification(models.TextChoices):
    OFFICIAL = "official", VERIFICATION_LABELS["official"]
    VERIFIED_EXCERPT = "verified_excerpt", VERIFICATION_LABELS["verified_excerpt"]
    STRUCTURE_VERIFIED = "structure_verified", VERIFICATION_LABELS["structure_verified"]
    UNVERIFIED = "unverified", VERIFICATION_LABELS["unverified"]


class Standard(models.Model):
    """An indicator system, loaded from a standard file (TOML or XLSX)."""

    code = models.SlugField(_("标准代码"), max_length=64, unique=True)
    title = models.CharField(_("标准名称"), max_length=300)
    short_title = models.CharField(_("简称"), max_length=100, blank=True)
    issuer = models.ForeignKey(
        "orgs.Org",
        verbose_name=_("发布机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issuer_name = models.CharField(_("发布机构名称"), max_length=200, blank=True)
    doc_no = models.CharField(_("文号"), max_length=100, blank=True)
    role = models.CharField(
        _("用途"), max_length=16, choices=StandardRole.choices, default=StandardRole.MAIN
    )
    applies_to = models.CharField(_("适用学段"), max_length=120, blank=True, default="")
    extends = models.ForeignKey(
        "self",
        verbose_name=_("所依据标准"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="derived",
    )
    rule = models.JSONField(_("认定规则"), default=dict)
    dimensions = models.JSONField(default=list)
    verification = models.CharField(
        _("核实状态"), max_length=24, choices=Verification.choices, default=Verification.OFFICIAL
    )
    note = models.TextField(_("说明"), blank=True)
    source = models.TextField(_("来源"), blank=True)
    source_name = models.CharField(max_length=255, blank=True)
    source_sha256 = models.CharField(max_length=64)
    source_text = models.TextField(blank=True)
    # The validated file as JSON, so derived standards can be re-checked when this changes.
    spec = models.JSONField(default=dict)
    loaded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("认定标准")
        verbose_name_plural = _("认定标准")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.short_title or self.title

    @property
    def applies_to_list(self) -> list[str]:
        return [s for s in self.applies_to.split(",") if s]

    def get_applies_to_display(self) -> str:
        return "、".join(STAGE_LABELS.get(s, s) for s in self.applies_to_list) or "全部学段"

    def chain(self) -> list[Standard]:
        """This standard and the ones it derives from, leaf first."""
        out, node = [], self
        while node is not None and node not in out:
            out.append(node)
            node = node.extends
        return out


class Indicator(models.Model):
    """One indicator of a standard, as resolved (inherited ones included)."""

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField(_("指标代码"), max_length=32)
    name = models.CharField(_("指标"), max_length=200)
    dimension = models.CharField(max_length=64)
    dimension_name = models.CharField(_("维度"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    measure = models.CharField(_("计量方式"), max_length=16, choices=list(MEASURE_LABELS.items()))
    unit = models.CharField(_("单位"), max_length=30, blank=True)
    direction = models.CharField(max_length=10, default="at_least")
    levels = models.JSONField(default=list, blank=True)
    basic = models.JSONField(_("基本要求"), null=True, blank=True)
    advanced = models.JSONField(_("发展要求"), null=True, blank=True)
    basic_by_stage = models.JSONField(default=dict, blank=True)
    optional = models.BooleanField(_("可选项"), default=False)
    weight = models.DecimalField(_("权重"), max_digits=8, decimal_places=2, default=1)
    bonus = models.DecimalField(_("加分"), max_digits=8, decimal_places=2, default=0)
    verification = models.CharField(
        _("核实状态"), max_length=24, choices=Verification.choices, default=Verification.OFFICIAL
    )
    source = models.TextField(_("来源"), blank=True)
    note = models.TextField(_("备注"), blank=True)
    order = models.PositiveIntegerField(default=0)
    inherited_from = models.CharField(max_length=64, blank=True)
    overridden = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["standard", "order"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "code"], name="cert_indicator_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def as_engine_row(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "dimension": self.dimension,
            "measure": self.measure,
            "direction": self.direction,
            "levels": self.levels,
            "basic": self.basic,
            "advanced": self.advanced,
            "basic_by_stage": self.basic_by_stage,
            "optional": self.optional,
            "weight": self.weight,
            "bonus": self.bonus,
            "unit": self.unit,
        }


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
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
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
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
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
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
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
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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
            return Q(
                pk__in=SiteVisit.team.through.objects.filter(user_id=scope.user_id).values(
                    "sitevisit__entry_id"
                )
            )
        return Q(pk__in=[])

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


class SourceSystem(models.TextChoices):
    NATIONAL = "national", _("全国教育信息化工作管理信息系统")
    EQUIPMENT = "equipment", _("浙江省教育技术装备管理系统")
    APP_FILING = "app_filing", _("教育移动互联网应用程序备案管理")
    OTHER = "other", _("其他系统")


class DataSource(models.Model):
    """An other system's export format, with its saved column → indicator mapping.

    ``mapping`` is ``[{"column": header, "indicator": code, "scale": 1}]``; the school is
    found by ``code_column`` first and by ``name_column`` (exact name) second.
    """

    owner = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(_("代码"), max_length=64)
    name = models.CharField(_("数据来源"), max_length=200)
    system = models.CharField(
        _("来源系统"), max_length=20, choices=SourceSystem.choices, default=SourceSystem.OTHER
    )
    code_column = models.CharField(_("学校代码列"), max_length=100, blank=True)
    name_column = models.CharField(_("学校名称列"), max_length=100, blank=True)
    sheet = models.CharField(_("工作表"), max_length=100, blank=True)
    header_row = models.PositiveSmallIntegerField(_("表头所在行"), default=1)
    mapping = models.JSONField(default=list, blank=True)
    known_columns = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("数据来源")
        verbose_name_plural = _("数据来源")
        ordering = ["owner__path", "code"]
        constraints = [models.UniqueConstraint(fields=["owner", "code"], name="cert_source_unique")]

    def __str__(self) -> str:
        return self.name


class ImportState(models.TextChoices):
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ImportRun(models.Model):
    """One file imported into one batch from one source, with its provenance."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="imports")
    source = models.ForeignKey(DataSource, on_delete=models.PROTECT, related_name="imports")
    file = models.ForeignKey("applications.Blob", on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(max_length=64)
    mapping_sha256 = models.CharField(max_length=64)
    mapping = models.JSONField(default=list)
    as_of = models.DateField(_("数据日期"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    importer_org = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        max_length=16, choices=ImportState.choices, default=ImportState.RUNNING
    )
    total_rows = models.PositiveIntegerField(default=0)
    matched_rows = models.PositiveIntegerField(default=0)
    values_set = models.PositiveIntegerField(default=0)
    values_changed = models.PositiveIntegerField(default=0)
    issue_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    job_id = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("数据导入")
        verbose_name_plural = _("数据导入")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "source", "sha256", "mapping_sha256"], name="cert_import_unique"
            )
        ]

    def __str__(self) -> str:
        return self.filename


class ImportIssue(models.Model):
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="issues")
    row = models.PositiveIntegerField(_("行号"))
    column = models.CharField(_("列"), max_length=100, blank=True)
    school = models.CharField(_("学校"), max_length=200, blank=True)
    message = models.CharField(_("问题"), max_length=300)

    class Meta:
        ordering = ["run", "row", "id"]

    def __str__(self) -> str:
        return f"{self.row}: {self.message}"


class CorrectionState(models.TextChoices):
    PENDING = "pending", _("待处理")
    ACCEPTED = "accepted", _("已采纳")
    REJECTED = "rejected", _("未采纳")


class Correction(models.Model):
    """A school's request to correct one value before the cut-off, with evidence."""

    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="corrections")
    indicator = models.CharField(_("指标"), max_length=32)
    current_value = models.JSONField(null=True, blank=True)
    proposed_value = models.JSONField(_("更正为"), null=True)
    reason = models.TextField(_("理由"))
    state = models.CharField(
        max_length=16, choices=CorrectionState.choices, default=CorrectionState.PENDING
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    response = models.TextField(_("处理意见"), blank=True)

    class Meta:
        verbose_name = _("数据更正")
        verbose_name_plural = _("数据更正")
        ordering = ["-filed_at"]

    def __str__(self) -> str:
        return f"{self.entry_id}:{self.indicator}"


class VisitState(models.TextChoices):
    ASSIGNED = "assigned", _("核查中")
    DONE = "done", _("已完成")


class SiteVisit(models.Model):
    """Site verification of one school by a team the certifying bureau assigns."""

    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="visits")
    state = models.CharField(max_length=16, choices=VisitState.choices, default=VisitState.ASSIGNED)
    team = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="cert_visits", blank=True)
    team_note = models.CharField(_("核查组"), max_length=300, blank=True)
    planned_for = models.DateField(_("计划日期"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    summary = models.TextField(_("核查结论"), blank=True)

    class Meta:
        verbose_name = _("实地核查")
        verbose_name_plural = _("实地核查")
        ordering = ["-assigned_at"]

    def __str__(self) -> str:
        return f"{self.entry_id}:{self.pk}"


class Verdict(models.TextChoices):
    CONFIRM = "confirm", _("确认数据")
    OVERTURN = "overturn", _("推翻数据")


class Finding(models.Model):
    visit = models.ForeignKey(SiteVisit, on_delete=models.CASCADE, related_name="findings")
    indicator = models.CharField(_("指标"), max_length=32)
    verdict = models.CharField(_("核查意见"), max_length=16, choices=Verdict.choices)
    met = models.BooleanField(_("核查后是否达到"))
    observed = models.CharField(_("核查所见"), max_length=200, blank=True)
    reason = models.TextField(_("理由"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["visit", "indicator"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "indicator"], name="cert_finding_unique")
        ]

    def __str__(self) -> str:
        return f"{self.visit_id}:{self.indicator}"


class Evidence(models.Model):
    """A PDF or image attached to a correction or a finding."""

    file = models.ForeignKey("applications.Blob", on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    correction = models.ForeignKey(
        Correction, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    finding = models.ForeignKey(
        Finding, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.filename
