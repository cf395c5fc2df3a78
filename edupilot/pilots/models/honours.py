from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from edupilot.core.models import user_ref


class HonourState(models.TextChoices):
    PROPOSED = "proposed", _("拟认定")
    ANNOUNCED = "announced", _("公示中")
    FINAL = "final", _("已认定")
    WITHDRAWN = "withdrawn", _("已撤销")


class Honour(models.Model):
    """A title (示范学校) or an achievement listing (试点成果) of an ``appraisal`` stage."""

    pilot = models.ForeignKey("pilots.Pilot", on_delete=models.CASCADE, related_name="honours")
    stage = models.CharField(max_length=64)
    title_key = models.CharField(max_length=64)
    title_name = models.CharField(_("称号"), max_length=60)
    state = models.CharField(
        _("状态"), max_length=10, choices=HonourState.choices, default=HonourState.PROPOSED
    )
    proposed_by = user_ref()
    proposed_at = models.DateTimeField(auto_now_add=True)
    announced_at = models.DateTimeField(null=True, blank=True)
    objection_until = models.DateTimeField(null=True, blank=True)
    final_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pilot", "stage", "title_key"], name="pilot_honour_unique"
            )
        ]
        ordering = ["stage", "title_key", "pk"]

    def __str__(self) -> str:
        return f"{self.pilot_id} {self.title_name}"


class AwardBudget(models.Model):
    """The row a programme's award stage locks: its budget and what is granted so far."""

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="+"
    )
    stage = models.CharField(max_length=64)
    budget = models.DecimalField(max_digits=14, decimal_places=2)
    granted = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["programme", "stage"], name="pilot_award_budget_unique")
        ]

    def __str__(self) -> str:
        return f"{self.programme_id} {self.stage} {self.granted}/{self.budget}"


class Award(models.Model):
    """以奖代补: an amount granted to a pilot, by its grade or its rank."""

    pilot = models.ForeignKey("pilots.Pilot", on_delete=models.PROTECT, related_name="awards")
    stage = models.CharField(max_length=64)
    amount = models.DecimalField(_("金额（元）"), max_digits=14, decimal_places=2)
    basis = models.CharField(_("依据"), max_length=60)  # the grade's name, or "第 3 名"
    rank = models.PositiveIntegerField(null=True, blank=True)
    decided_by = user_ref()
    decided_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pilot", "stage"], name="pilot_award_unique")
        ]
        ordering = ["stage", "rank", "pk"]

    def __str__(self) -> str:
        return f"{self.pilot_id} {self.amount}"


class HonourObjectionState(models.TextChoices):
    OPEN = "open", _("待处理")
    UPHELD = "upheld", _("异议成立")
    DISMISSED = "dismissed", _("异议不成立")


class HonourObjection(models.Model):
    """A written objection to a title during its 公示, recorded and resolved by the issuer.

    Upheld, it withdraws the title; while one is open the title is not made final.
    """

    honour = models.ForeignKey(Honour, on_delete=models.CASCADE, related_name="objections")
    text = models.TextField(_("异议内容"))
    contact = models.CharField(_("联系方式"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("收到时间"))
    recorded_by = user_ref()
    state = models.CharField(
        _("状态"),
        max_length=10,
        choices=HonourObjectionState.choices,
        default=HonourObjectionState.OPEN,
    )
    resolution = models.TextField(_("处理意见"), blank=True)
    resolved_by = user_ref()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return f"{self.honour_id} {self.state}"
