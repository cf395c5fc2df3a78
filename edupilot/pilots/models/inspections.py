from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from edupilot.core.models import user_ref


class InspectionState(models.TextChoices):
    SCHEDULED = "scheduled", _("已安排")
    RECTIFYING = "rectifying", _("整改中")
    ANSWERED = "answered", _("已提交整改")
    CLOSED = "closed", _("已结束")


class Inspection(models.Model):
    """A site visit or document check of one pilot, by its supervisor or the issuer."""

    pilot = models.ForeignKey("pilots.Pilot", on_delete=models.CASCADE, related_name="inspections")
    stage = models.CharField(max_length=64)
    mode = models.CharField(_("方式"), max_length=10)  # site, document
    org = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="+")
    scheduled_for = models.DateField(_("检查日期"))
    team = models.CharField(_("检查组成员"), max_length=300)
    state = models.CharField(
        _("状态"), max_length=12, choices=InspectionState.choices, default=InspectionState.SCHEDULED
    )
    findings = models.TextField(_("检查意见"), blank=True)
    demands = models.TextField(_("整改要求"), blank=True)
    rectify_by = models.DateField(_("整改期限"), null=True, blank=True)
    response = models.TextField(_("整改情况"), blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    conclusion = models.TextField(_("结论"), blank=True)
    created_by = user_ref()
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("检查")
        verbose_name_plural = _("检查")
        ordering = ["-scheduled_for", "-pk"]

    def __str__(self) -> str:
        return f"{self.pilot_id} {self.mode} {self.scheduled_for}"


class InspectionEvidence(models.Model):
    """A file the unit hands in with its rectification (整改佐证材料)."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="evidence")
    blob = models.ForeignKey("applications.Blob", on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    uploaded_by = user_ref()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.filename
