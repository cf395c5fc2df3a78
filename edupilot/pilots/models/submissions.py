from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from edupilot.core.models import user_ref


class SubmissionState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待审核")
    RETURNED = "returned", _("已退回修改")
    ACCEPTED = "accepted", _("已通过")


class Submission(models.Model):
    """What a pilot hands in at one stage (and, for reports, one period).

    ``stage`` is the key of a ``[[pilot.stages]]`` entry; ``period`` names a report's period
    (``2027-03``, ``2027-Q1``, ``2027-H1``, ``2027``, ``mid``, ``final``) and is empty for the
    other kinds. ``due_at`` is fixed when the row is made, from the file's rule.
    """

    pilot = models.ForeignKey("pilots.Pilot", on_delete=models.CASCADE, related_name="submissions")
    stage = models.CharField(max_length=64)
    kind = models.CharField(max_length=12)
    period = models.CharField(max_length=12, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=SubmissionState.choices, default=SubmissionState.DRAFT
    )
    data = models.JSONField(default=dict, blank=True)
    revision = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = user_ref()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = user_ref()
    reason = models.TextField(_("意见"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("试点材料")
        verbose_name_plural = _("试点材料")
        constraints = [
            models.UniqueConstraint(
                fields=["pilot", "stage", "period"], name="pilot_submission_unique"
            )
        ]
        indexes = [models.Index(fields=["stage", "period", "state"])]
        ordering = ["pilot_id", "stage", "period"]

    def __str__(self) -> str:
        return f"{self.pilot_id} {self.stage} {self.period}".strip()

    @property
    def is_late(self) -> bool:
        first = self.first_submitted_at
        return bool(first and self.due_at and first > self.due_at)


class SubmissionVersion(models.Model):
    """A submitted, frozen copy. Never changed after it is written."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    data = models.JSONField(default=dict)
    attachments = models.JSONField(default=list)
    submitted_at = models.DateTimeField()
    submitted_by = user_ref()
    outcome = models.CharField(max_length=10, blank=True)
    reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = user_ref()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "number"], name="pilot_submission_version_unique"
            )
        ]
        ordering = ["submission", "number"]

    def __str__(self) -> str:
        return f"{self.submission_id} v{self.number}"


class SubmissionAttachment(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="attachments")
    field_key = models.CharField(max_length=64)
    blob = models.ForeignKey("applications.Blob", on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    uploaded_by = user_ref()
    uploaded_at = models.DateTimeField(auto_now_add=True)
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.filename
