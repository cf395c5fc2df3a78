from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from edupilot.core.models import user_ref


class AcceptanceReview(models.Model):
    """One expert's review of a pilot's acceptance submission (its scores and comment)."""

    submission = models.ForeignKey(
        "pilots.Submission", on_delete=models.CASCADE, related_name="reviews"
    )
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    expert_org = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="+")
    assigned_by = user_ref()
    assigned_at = models.DateTimeField(auto_now_add=True)
    comment = models.TextField(_("评审意见"), blank=True)
    total = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "expert"],
                condition=models.Q(is_active=True),
                name="pilot_acceptance_review_unique",
            )
        ]
        ordering = ["submission_id", "pk"]

    def __str__(self) -> str:
        return f"{self.submission_id} · {self.expert_id}"


class AcceptanceScore(models.Model):
    review = models.ForeignKey(AcceptanceReview, on_delete=models.CASCADE, related_name="scores")
    criterion = models.CharField(max_length=64)
    score = models.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["review", "criterion"], name="pilot_acceptance_score_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.criterion}={self.score}"
