from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from edupilot.orgs.fields import TreePathField
from edupilot.orgs.models import OrgKind, Role


class PilotState(models.TextChoices):
    ACTIVE = "active", _("实施中")
    ACCEPTANCE = "acceptance", _("验收中")
    RECTIFYING = "rectifying", _("整改中")
    ACCEPTED = "accepted", _("已通过验收")
    FAILED = "failed", _("未通过验收")


class Pilot(models.Model):
    """One approved unit's pilot, made when the final list is published.

    Seen by the unit, every org above it (its subtree path is kept on the row, like an
    application's) and the supervising org when that is a named unit outside the lineage.
    """

    application = models.OneToOneField(
        "applications.Application", on_delete=models.PROTECT, related_name="pilot"
    )
    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.PROTECT, related_name="pilots"
    )
    category = models.CharField(_("类别"), max_length=64)
    topic = models.CharField(_("选题"), max_length=64, blank=True)
    title = models.CharField(_("项目名称"), max_length=300, blank=True)
    unit = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="pilots")
    unit_path = TreePathField(max_length=255, default="", editable=False)
    supervisor = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, related_name="supervised_pilots"
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    state = models.CharField(
        _("状态"), max_length=12, choices=PilotState.choices, default=PilotState.ACTIVE
    )
    grade = models.CharField(_("验收等级"), max_length=64, blank=True)
    grade_name = models.CharField(_("验收等级"), max_length=30, blank=True)
    score = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("试点")
        verbose_name_plural = _("试点")
        indexes = [
            models.Index(fields=["programme", "state", "unit_path"]),
            models.Index(fields=["supervisor", "state"]),
        ]
        ordering = ["programme_id", "unit_path", "pk"]

    scope_path_field = "unit_path"

    def __str__(self) -> str:
        return f"{self.unit.name} · {self.category}"

    def save(self, *args, **kwargs):
        if not self.unit_path and self.unit_id:
            self.unit_path = self.unit.path
        super().save(*args, **kwargs)

    @staticmethod
    def scope_extra_q(scope) -> models.Q:
        """A named supervising unit (a centre) is outside the lineage: it sees its pilots. A
        region sees, as it saw their applications, the pilots of units a programme folds into
        it (``[[folds]]``): it supervises them."""
        if scope.role not in (Role.REVIEWER, Role.PROGRAMME_ADMIN) or not scope.org_id:
            return models.Q(pk__in=[])
        if scope.org_kind == OrgKind.UNIT:
            return models.Q(supervisor_id=scope.org_id)
        from edupilot.programmes.folds import visible_q

        return visible_q(scope, path_field="unit_path")

    @property
    def spec(self):
        return self.programme.parsed.pilot

    @property
    def category_name(self) -> str:
        c = self.programme.parsed.category(self.category)
        return c.name if c else self.category

    @property
    def is_closed(self) -> bool:
        return self.state in (PilotState.ACCEPTED, PilotState.FAILED)
