import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from edupilot.core.models import user_ref

from . import schema


class ProgrammeKind(models.TextChoices):
    CALL = "call", _("试点申报")
    CERTIFICATION = "certification", _("认定")


# Parsed specs by source sha256: the file's hash fixes its content, so the cache never goes stale.
_SPEC_CACHE: dict[str, schema.Programme] = {}


class Programme(models.Model):
    """One notice, loaded from a programme file. ``spec`` is the validated file as JSON."""

    code = models.SlugField(_("项目代码"), max_length=64, unique=True)
    title = models.CharField(_("项目名称"), max_length=300)
    kind = models.CharField(
        _("类型"), max_length=20, choices=ProgrammeKind.choices, default=ProgrammeKind.CALL
    )
    issuer = models.ForeignKey(
        "orgs.Org", verbose_name=_("发文单位"), on_delete=models.PROTECT, related_name="+"
    )
    doc_no = models.CharField(_("文号"), max_length=100, blank=True)
    spec = models.JSONField()
    source_name = models.CharField(max_length=255, blank=True)
    source_sha256 = models.CharField(max_length=64)
    source_text = models.TextField(blank=True)
    # Demo data moves every date of a programme by this many days so that it is open today;
    # the programme file keeps the notice's real dates.
    time_shift_days = models.IntegerField(_("日期平移（天）"), default=0)
    is_active = models.BooleanField(default=True)
    loaded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("项目")
        verbose_name_plural = _("项目")
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title

    def parsed_if_cached(self) -> schema.Programme | None:
        """The parsed spec when this process has it already (no ``spec`` column needed)."""
        return _SPEC_CACHE.get(self.source_sha256)

    @property
    def parsed(self) -> schema.Programme:
        spec = _SPEC_CACHE.get(self.source_sha256)
        if spec is None:
            spec = schema.Programme.model_validate(self.spec)
            if len(_SPEC_CACHE) > 256:
                _SPEC_CACHE.clear()
            _SPEC_CACHE[self.source_sha256] = spec
        return spec

    @property
    def issuer_names(self) -> list[str]:
        """Every issuing body as printed, the issuer first (``[[co_issuers]]``, issuers.py)."""
        spec = self.parsed
        return [spec.issuer_name or self.issuer.name, *(c.name for c in spec.co_issuers)]

    @property
    def issuers_text(self) -> str:
        """The issuers in one line, as the notice's header names them (省教育厅、省财政厅)."""
        return "、".join(self.issuer_names)

    # -- dates (shifted for demos) ----------------------------------------------------------
    def shift(self, moment: dt.datetime) -> dt.datetime:
        return moment + dt.timedelta(days=self.time_shift_days)

    def batch_spec(self, code: str):
        """The file's ``[[batches]]`` entry ``code`` with its windows moved like the
        programme's dates (a demo's shift), or None. The data's cut-off stays: it is the date
        of the statistics imported, which no shift changes."""
        pb = next((b for b in self.parsed.batches if b.code == code), None)
        if pb is None or not self.time_shift_days:
            return pb
        dates = ("assess_from", "assess_until", "self_closes")
        return pb.model_copy(
            update={k: self.shift(getattr(pb, k)) for k in dates if getattr(pb, k) is not None}
        )

    @property
    def opens_at(self) -> dt.datetime:
        return self.shift(self.parsed.period.opens_at)

    @property
    def closes_at(self) -> dt.datetime:
        return self.shift(self.parsed.period.closes_at)

    def level_deadline(self, category_code: str, level_key: str) -> dt.datetime | None:
        category = self.parsed.category(category_code)
        if category is None:
            return None
        stage = category.stage(level_key)
        if stage is None or stage.deadline_at is None:
            return None
        return self.shift(stage.deadline_at)

    def is_open(self, now: dt.datetime) -> bool:
        return self.is_active and self.opens_at <= now <= self.closes_at

    def category_closes_at(self, category_code: str) -> dt.datetime | None:
        """When applicants of one category must have submitted (a category may close early)."""
        spec = self.parsed
        category = spec.category(category_code)
        if category is None:
            return None
        return self.shift(spec.category_closes_at(category))

    def is_open_for(self, category_code: str, now: dt.datetime) -> bool:
        closes = self.category_closes_at(category_code)
        return closes is not None and self.is_active and self.opens_at <= now <= closes


class ProgrammeDocument(models.Model):
    """One of the notice's own files (``[notice]``): its full text or an attachment, as issued.

    Kept in the database with the programme (a few files of at most 20 MB each, public by
    nature), so that loading a programme is one transaction: a programme is never shown with
    the attachments of an earlier version of its file.
    """

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="documents")
    role = models.CharField(max_length=12)  # "text" or "attachment"
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(_("标题"), max_length=200)
    filename = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()

    class Meta:
        ordering = ["role", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "role", "position"], name="programme_document_unique"
            )
        ]

    def __str__(self) -> str:
        return self.title


class ParticipantList(models.Model):
    """A list of earlier participants (Henan phase 1, Hengyang's unfinished pilots) that rules use."""

    code = models.SlugField(_("名单代码"), max_length=64, unique=True)
    title = models.CharField(_("名称"), max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("参与单位名单")
        verbose_name_plural = _("参与单位名单")

    def __str__(self) -> str:
        return self.title


class ParticipantEntry(models.Model):
    plist = models.ForeignKey(ParticipantList, on_delete=models.CASCADE, related_name="entries")
    org = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="list_entries")
    status = models.CharField(_("状态"), max_length=40, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plist", "org"], name="participant_entry_unique")
        ]

    def __str__(self) -> str:
        return f"{self.plist_id}:{self.org_id}"


class QuotaAllocation(models.Model):
    """The places one org may pass upward, per programme, category and quota level.

    ``computed`` comes from the policy's formula, ``declared`` from the notice's own table,
    ``override`` from an admin (with a reason). ``effective`` is what enforcement uses.
    """

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="quotas")
    category = models.CharField(max_length=64)
    level = models.CharField(max_length=16)
    holder = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="quotas")
    # The bucket of the holder's direct applicants that have no org at the quota's tier.
    direct = models.BooleanField(default=False)
    label = models.CharField(max_length=100, blank=True)
    policy = models.CharField(max_length=16)
    basis = models.IntegerField(null=True, blank=True, help_text="the count a formula used")
    computed = models.IntegerField(null=True, blank=True)
    declared = models.IntegerField(null=True, blank=True)
    override = models.IntegerField(null=True, blank=True)
    override_reason = models.TextField(blank=True)
    overridden_by = user_ref(blank=True)
    overridden_at = models.DateTimeField(null=True, blank=True)
    unlimited = models.BooleanField(default=False)
    effective = models.IntegerField(default=0)
    derivation = models.TextField(blank=True)

    class Meta:
        verbose_name = _("名额")
        verbose_name_plural = _("名额")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "category", "level", "holder", "direct"], name="quota_unique"
            )
        ]
        ordering = ["programme", "category", "level", "holder__path", "direct"]

    def __str__(self) -> str:
        return f"{self.programme.code}/{self.category}/{self.holder.name}: {self.effective}"
