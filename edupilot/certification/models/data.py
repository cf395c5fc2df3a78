"""Data from other systems: sources (export formats with their mapping) and imports."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from edupilot.core.models import user_ref

from .batches import Batch


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
    imported_by = user_ref()
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
