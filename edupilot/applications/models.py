from django.db import models
from django.utils.translation import gettext_lazy as _

from edupilot.core.models import user_ref
from edupilot.orgs.fields import TreePathField
from edupilot.orgs.models import OrgKind, Role


class AppState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("审核中")
    RETURNED = "returned", _("已退回修改")
    WITHDRAWN = "withdrawn", _("已撤回")
    NOT_RECOMMENDED = "not_recommended", _("未推荐")
    RECOMMENDED = "recommended", _("待审定")
    APPROVED = "approved", _("拟立项（公示中）")
    REJECTED = "rejected", _("未立项")
    PILOT = "pilot", _("试点实施中")
    # A round's confirmed unit (programmes/cascade.py): not a pilot of the round, but its
    # issuer's recommendation into the parent programme (``Application.from_round``).
    FORWARDED = "forwarded", _("已推荐至上级")


EDITABLE_STATES = (AppState.DRAFT, AppState.RETURNED, AppState.WITHDRAWN)


class Application(models.Model):
    """One unit's bid in one programme and category.

    ``data`` is the working copy the applicant edits (the draft); each submission freezes
    it into an :class:`ApplicationVersion`. ``chain`` is the review chain computed at
    submission: ``[{"level": key, "tier": tier, "org": id}, ...]``; ``current_step`` and
    ``current_org`` say where it stands, so a reviewer's queue is one indexed query.
    """

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.PROTECT, related_name="applications"
    )
    category = models.CharField(_("类别"), max_length=64)
    topic = models.CharField(_("选题"), max_length=64, blank=True)
    applicant_org = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, related_name="applications"
    )
    # The applicant's tree path, kept here so that a reviewer's subtree is one range scan on
    # this table (indexed with programme and state) instead of a walk over every org in the
    # subtree. orgs.services.org_move keeps it in step with the tree.
    applicant_path = TreePathField(max_length=255, default="", editable=False)
    state = models.CharField(
        _("状态"), max_length=20, choices=AppState.choices, default=AppState.DRAFT
    )
    title = models.CharField(_("项目名称"), max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    revision = models.PositiveIntegerField(default=0, help_text="bumped on every draft save")
    # The editor (one open form page) that saved last: a page never conflicts with itself.
    last_editor = models.CharField(max_length=40, blank=True)
    version = models.PositiveIntegerField(default=0, help_text="number of submissions so far")
    chain = models.JSONField(default=list, blank=True)
    current_step = models.PositiveSmallIntegerField(null=True, blank=True)
    current_org = models.ForeignKey(
        "orgs.Org",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications_to_review",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    # In a parent programme: the round's application this one was forwarded from (its
    # confirmed unit, selection/cascade.py); the round's one reads it as ``forwarded_as``.
    from_round = models.OneToOneField(
        "self",
        verbose_name=_("下级评选中的申报"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="forwarded_as",
    )
    # Set by the first review action on the current submission; until then it may be withdrawn.
    review_started_at = models.DateTimeField(null=True, blank=True)
    created_by = user_ref()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("申报")
        verbose_name_plural = _("申报")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "category", "applicant_org"], name="application_unique"
            )
        ]
        indexes = [
            models.Index(fields=["current_org", "state", "applicant_path"]),
            models.Index(fields=["programme", "state", "applicant_path"]),
            models.Index(fields=["applicant_org", "programme"]),
        ]

    # orgs.scoping.scoped reads a reviewer's subtree from this column (see applicant_path).
    scope_path_field = "applicant_path"

    def __str__(self) -> str:
        return f"{self.applicant_org.name} · {self.category}"

    def save(self, *args, **kwargs):
        if not self.applicant_path and self.applicant_org_id:
            self.applicant_path = self.applicant_org.path
        super().save(*args, **kwargs)

    @staticmethod
    def scope_extra_q(scope, programmes=None) -> models.Q:
        """A unit named by an ``org_review`` stage (a city's 电教馆, an office) is outside
        the applicants' lineage, so its subtree holds none of them: its reviewers reach the
        applications at their step and those their org has decided on (see orgs.scoping).
        Regions see their subtree, and the applications of units folded into it in a
        programme (``[[folds]]``: one small query over the active programmes, none when the
        caller passes the ``programmes`` it reads the applications of)."""
        if scope.role not in (Role.REVIEWER, Role.PROGRAMME_ADMIN) or not scope.org_id:
            return models.Q(pk__in=[])
        if scope.org_kind == OrgKind.UNIT:
            # … and a joint review's orgs those whose step opened their opinion (review/joint.py).
            decided = Application.objects.filter(
                models.Q(review_decisions__org_id=scope.org_id)
                | models.Q(joint_opinions__org_id=scope.org_id)
            )
            return models.Q(current_org_id=scope.org_id) | models.Q(pk__in=decided.values("pk"))
        # A region also reaches the units a programme folds into it ([[folds]]).
        from edupilot.programmes.folds import visible_q

        return visible_q(scope, programmes)

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    @property
    def category_spec(self):
        return self.programme.parsed.category(self.category)

    @property
    def category_name(self) -> str:
        spec = self.category_spec
        return spec.name if spec else self.category


class ApplicationMember(models.Model):
    """A member school named in a region bid."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="members")
    org = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, related_name="memberships_in_bids"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "org"], name="application_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.org_id}"


class ApplicationVersion(models.Model):
    """A submitted, frozen copy of an application. Never changed after it is written."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    topic = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict)
    members = models.JSONField(default=list)
    attachments = models.JSONField(default=list)
    submitted_at = models.DateTimeField()
    submitted_by = user_ref()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "number"], name="application_version_unique"
            )
        ]
        ordering = ["application", "number"]

    def __str__(self) -> str:
        return f"{self.application_id} v{self.number}"


class Blob(models.Model):
    """File content, stored once under its sha256 and never overwritten."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    storage_name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sha256

    @property
    def is_image(self) -> bool:
        """A photo (JPG, PNG): reviewers see its thumbnail (applications.thumbs)."""
        return self.content_type.startswith("image/")


class ScanCheck(models.TextChoices):
    """What the QR code on a stamped scan said (applications.formcode); blank: not a scan."""

    VERIFIED = "verified", _("已核验：本申报当前版本")
    NO_CODE = "no_code", _("未识别到二维码，请人工核对")


class Attachment(models.Model):
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="attachments"
    )
    field_key = models.CharField(max_length=64)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    uploaded_by = user_ref()
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # Removed from the draft; kept because submitted versions may still refer to it.
    is_current = models.BooleanField(default=True)
    # The stamped form's scan only: whether its printed code was read and matched.
    scan_check = models.CharField(max_length=12, blank=True, choices=ScanCheck.choices)

    class Meta:
        indexes = [models.Index(fields=["application", "is_current"])]
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.filename
