"""Standards and their indicators, as loaded from standard files."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from edupilot.orgs.models import Stage

from ..standards import MEASURE_LABELS, STAGE_LABELS, VERIFICATION_LABELS

# The stages as pages name them (translated); STAGE_LABELS stays the files' Chinese words.
STAGE_DISPLAY = dict(Stage.choices)


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
        stages = [str(STAGE_DISPLAY.get(s, STAGE_LABELS.get(s, s))) for s in self.applies_to_list]
        return str(_("、")).join(stages) or str(_("全部学段"))

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
    veto = models.BooleanField(_("否决项"), default=False)
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

    # What the assessment engine reads of an indicator.
    ENGINE_FIELDS = (
        "code",
        "name",
        "dimension",
        "measure",
        "direction",
        "levels",
        "basic",
        "advanced",
        "basic_by_stage",
        "optional",
        "veto",
        "weight",
        "bonus",
        "unit",
    )

    def as_engine_row(self) -> dict:
        return {name: getattr(self, name) for name in self.ENGINE_FIELDS}
