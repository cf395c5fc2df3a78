"""A school's self-assessment (学校自评) with its application to a batch: its own points per
indicator, within each item's range, and the totals the gate is checked on."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from edupilot.core.models import user_ref
from edupilot.core.numbers import plain

from .batches import Entry


class SelfAssessment(models.Model):
    """``scores`` maps indicator code → points (a decimal string); ``dimensions`` lists
    ``[name, points, maximum]`` per dimension. Unsubmitted (``submitted_at`` empty) it is a
    draft the bureau does not count: the school has not applied."""

    entry = models.OneToOneField(Entry, on_delete=models.CASCADE, related_name="self_assessment")
    scores = models.JSONField(default=dict, blank=True)
    total = models.DecimalField(_("自评总分"), max_digits=8, decimal_places=2, default=0)
    max_total = models.DecimalField(_("满分"), max_digits=8, decimal_places=2, default=0)
    dimensions = models.JSONField(default=list, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    submitted_by = user_ref(blank=True)
    updated_by = user_ref(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("学校自评")
        verbose_name_plural = _("学校自评")

    def __str__(self) -> str:
        return f"{self.entry_id}:{self.total}/{self.max_total}"

    @property
    def percent(self):
        if not self.max_total:
            return None
        return round(float(self.total) * 100 / float(self.max_total), 2)

    def dimension_text(self) -> str:
        """ "基础环境 18/20；智慧应用 26/30", as the entry's own subtotals read."""
        return "；".join(f"{name} {plain(got)}/{plain(top)}" for name, got, top in self.dimensions)
