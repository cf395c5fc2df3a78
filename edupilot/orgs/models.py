"""The org tree: province → city → county → school / unit, plus memberships.

The tree is the *reporting* tree: a province-administered county (省直管县) hangs under the
province although its division code sits under a city (``division_parent_code`` keeps that),
and functional zones that act as counties hang under their city with a non-numeric code.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .fields import TreePathField

PATH_SEP = "/"


class OrgKind(models.TextChoices):
    PROVINCE = "province", _("省级")
    CITY = "city", _("设区市")
    COUNTY = "county", _("县（市、区）")
    ZONE = "zone", _("功能区")
    SCHOOL = "school", _("学校")
    UNIVERSITY = "university", _("高等学校")
    UNIT = "unit", _("直属单位")
    # A school group (教育集团): an org of its own under the bureau that runs it; its campuses
    # stay where they are in the tree and point at it (``Org.group``).
    GROUP = "group", _("教育集团")


class Tier(models.TextChoices):
    """The level an org acts at in review chains and quotas, derived from its place in the tree."""

    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    COUNTY = "county", _("县级")
    UNIT = "unit", _("基层单位")


class Stage(models.TextChoices):
    KINDERGARTEN = "kindergarten", _("幼儿园")
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("高中")
    VOCATIONAL = "vocational", _("中职")
    TEACHING_POINT = "teaching_point", _("教学点")


class Ownership(models.TextChoices):
    PUBLIC = "public", _("公办")
    PRIVATE = "private", _("民办")


class Locality(models.TextChoices):
    URBAN = "urban", _("城区")
    TOWN = "town", _("镇区")
    RURAL = "rural", _("乡村")


ADMIN_KINDS = {OrgKind.PROVINCE, OrgKind.CITY, OrgKind.COUNTY, OrgKind.ZONE}


def tier_for(kind: str, parent_tier: str | None) -> str:
    if kind == OrgKind.PROVINCE:
        return Tier.PROVINCE
    if kind == OrgKind.CITY:
        return Tier.CITY
    if kind in (OrgKind.COUNTY, OrgKind.ZONE):
        # A county that reports straight to the province acts at city level (Henan's 巩义市).
        return Tier.CITY if parent_tier == Tier.PROVINCE else Tier.COUNTY
    return Tier.UNIT


class Org(models.Model):
    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=200, db_index=True)
    kind = models.CharField(_("类型"), max_length=16, choices=OrgKind.choices)
    tier = models.CharField(_("层级"), max_length=16, choices=Tier.choices, editable=False)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = TreePathField(max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    division_code = models.CharField(
        _("所在行政区划代码"),
        max_length=12,
        blank=True,
        help_text=_("学校或功能区所在的县级行政区划代码"),
    )
    division_parent_code = models.CharField(
        _("区划上级代码"),
        max_length=12,
        blank=True,
        help_text=_("省直管县：其区划代码所属的设区市"),
    )
    is_active = models.BooleanField(_("有效"), default=True)
    # The school group (教育集团) this school is a campus of; see docs/decisions/0105.
    group = models.ForeignKey(
        "self",
        verbose_name=_("所属教育集团"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campuses",
        limit_choices_to={"kind": "group"},
    )

    # Attributes the notices' rules and forms use (mostly for schools).
    stages = models.CharField(
        _("学段"), max_length=120, blank=True, default="", help_text=",primary,junior,"
    )
    ownership = models.CharField(
        _("办学性质"), max_length=10, choices=Ownership.choices, blank=True
    )
    locality = models.CharField(_("城乡类别"), max_length=10, choices=Locality.choices, blank=True)
    bandwidth_mbps = models.PositiveIntegerField(_("出口带宽（Mbps）"), null=True, blank=True)
    teacher_count = models.PositiveIntegerField(_("教师数"), null=True, blank=True)
    student_count = models.PositiveIntegerField(_("学生数"), null=True, blank=True)
    computer_count = models.PositiveIntegerField(_("计算机数"), null=True, blank=True)
    address = models.CharField(_("通讯地址"), max_length=200, blank=True)
    postcode = models.CharField(_("邮编"), max_length=10, blank=True)
    website = models.CharField(_("网址"), max_length=200, blank=True)
    # The unit's own contact person: the one part of its record a school keeps itself.
    contact_name = models.CharField(_("联系人"), max_length=60, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    contact_email = models.EmailField(_("联系邮箱"), max_length=120, blank=True)
    extra = models.JSONField(_("其他属性"), default=dict, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("机构")
        verbose_name_plural = _("机构")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["parent", "kind"]),
            models.Index(fields=["kind", "path"]),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.refresh_derived()
        super().save(*args, **kwargs)

    # -- tree helpers ---------------------------------------------------------------------
    @property
    def stage_list(self) -> list[str]:
        return [s for s in self.stages.split(",") if s]

    @stage_list.setter
    def stage_list(self, values) -> None:
        self.stages = encode_stages(values)

    def get_stages_display(self) -> str:
        labels = dict(Stage.choices)
        return "、".join(str(labels.get(s, s)) for s in self.stage_list)

    @property
    def directly_administered(self) -> bool:
        """省直管: a county (or zone) that reports straight to its province, as Henan's 巩义市.

        Not a stored flag but where the reporting tree hangs it (``orgs move CODE --parent
        PROVINCE`` makes one); it then acts at city tier: its schools' bids go to it and then
        to the province, and its own bid goes straight to the province (programmes.chain).
        """
        return self.kind in (OrgKind.COUNTY, OrgKind.ZONE) and self.tier == Tier.CITY

    @property
    def is_admin_org(self) -> bool:
        return self.kind in ADMIN_KINDS

    def is_within(self, other: Org) -> bool:
        """``self`` is ``other`` or one of its descendants (by materialized path, no query)."""
        return path_within(self.path, other.path)

    @property
    def ancestor_codes(self) -> list[str]:
        """Codes of the ancestors, root first (derived from the path, no query)."""
        return [c for c in self.path.split(PATH_SEP) if c][:-1]

    def refresh_derived(self) -> None:
        parent_tier = self.parent.tier if self.parent_id else None
        self.tier = tier_for(self.kind, parent_tier)
        if self.parent_id:
            self.path = f"{self.parent.path}{self.code}{PATH_SEP}"
            self.depth = self.parent.depth + 1
        else:
            self.path = f"{self.code}{PATH_SEP}"
            self.depth = 0


def encode_stages(values) -> str:
    values = [v for v in (values or []) if v]
    return f",{','.join(values)}," if values else ""


def path_within(path: str | None, root: str | None) -> bool:
    """The org at ``path`` is the org at ``root`` or below it; ``Org.is_within`` on paths.

    Paths end with the separator, so "33/3301/" is not within "33/330/" although the
    strings share a prefix. A missing path (an anonymous scope's) is within nothing.
    """
    if not path or not root:
        return False
    if not root.endswith(PATH_SEP):
        root += PATH_SEP
    return path.startswith(root)


def lineage_paths(path: str) -> list[str]:
    """The paths of the org at ``path`` and of each of its ancestors, root first (no query)."""
    parts = [c for c in path.split(PATH_SEP) if c]
    return [PATH_SEP.join(parts[: i + 1]) + PATH_SEP for i in range(len(parts))]


def subtree_range(path: str) -> tuple[str, str]:
    """Half-open range [lo, hi) of paths inside the subtree rooted at ``path``.

    ``path`` ends with '/', and '0' is the next character after '/', so every string that
    starts with ``path`` sorts inside the range and nothing else does.
    """
    assert path.endswith(PATH_SEP)
    return path, path[:-1] + chr(ord(PATH_SEP) + 1)


# An org as the tree knows it: its name and where it sits. What the applicant's lineage, the
# folds, the titles' rules and the open calls' issuers read of an org loaded beside another
# row; its contacts, counts and JSON attributes (two thirds of its columns) are left out.
TREE_FIELDS = ("code", "name", "kind", "tier", "parent", "path", "depth", "is_active")


def subtree_q(path: str, field: str = "path") -> models.Q:
    return path_range_q(*subtree_range(path), field)


def path_range_q(lo: str, hi: str, field: str = "path") -> models.Q:
    """Rows whose ``field`` lies in [lo, hi): a subtree given as its :func:`subtree_range`
    (what a query compiled once takes as its values, core.prepared)."""
    return models.Q(**{f"{field}__gte": lo, f"{field}__lt": hi})


class Role(models.TextChoices):
    APPLICANT = "applicant", _("申报人")
    REVIEWER = "reviewer", _("审核人")
    PROGRAMME_ADMIN = "programme_admin", _("项目管理员")
    EXPERT = "expert", _("评审专家")
    PLATFORM_ADMIN = "platform_admin", _("平台管理员")


class Membership(models.Model):
    """A user's role in one org. Scope follows the org's subtree (see scoping.py)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("成员身份")
        verbose_name_plural = _("成员身份")
        constraints = [
            models.UniqueConstraint(fields=["user", "org", "role"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.org.name} · {self.get_role_display()}"
