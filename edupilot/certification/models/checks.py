"""What checks a school's data: its own corrections, site visits and their findings,
and the evidence attached to both."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from edupilot.core.models import user_ref

from .batches import Entry


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
    filed_by = user_ref()
    filed_at = models.DateTimeField()
    decided_by = user_ref(blank=True)
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
    assigned_by = user_ref()
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
    recorded_by = user_ref()
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
    uploaded_by = user_ref()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.filename
