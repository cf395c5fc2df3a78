"""Models of selection: experts, the issuer's approval, announcements (公示).

The tables were created when these models were part of the review app and keep their names
(``review_<model>``, see each ``Meta.db_table``); migration selection 0001 only took them over.

The flow these rows record, once an application is RECOMMENDED (awaiting the issuer):

- the issuer's programme admin builds an :class:`ExpertPoolMember` list and assigns experts
  (:class:`ExpertAssignment`); each expert scores the rubric's criteria
  (:class:`ExpertScore`) and comments; the expert group's opinion is recorded
  (:class:`ExpertGroupOpinion`);
- the issuer decides (:class:`ApprovalDecision`, approve within the category's cap or
  reject); decisions take effect when an :class:`Announcement` (公示) is published: approved
  applications become APPROVED and are listed, rejected ones become REJECTED;
- :class:`Objection` rows are recorded and resolved during the period; an upheld one takes
  its entry off the list; closing the announcement publishes the final list and the listed
  applications become PILOT.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# --- experts ------------------------------------------------------------------------------


class ExpertPoolMember(models.Model):
    """An expert (a user through its ``expert`` membership) in one programme's pool.

    The membership's org is the expert's org for conflict-of-interest checks; removing an
    expert from the pool sets ``is_active`` off and keeps the row (assignments refer to it).
    """

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="expert_pool"
    )
    membership = models.ForeignKey(
        "orgs.Membership", on_delete=models.PROTECT, related_name="expert_pools"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    org = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("备注（专业领域等）"), max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "review_expertpoolmember"
        verbose_name = _("专家库成员")
        verbose_name_plural = _("专家库成员")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "membership"], name="expert_pool_member_unique"
            )
        ]
        ordering = ["programme", "id"]

    def __str__(self) -> str:
        return f"{self.programme_id}:{self.user_id}@{self.org_id}"


class ExpertAssignment(models.Model):
    """One expert asked to score one application (the version it was assigned on).

    Scores may be saved as a draft; ``submitted_at`` freezes them. Until then the expert does
    not see the other experts' scores. An unsubmitted assignment may be withdrawn by the
    issuer (``is_active`` off); a submitted one is part of the record and stays.
    """

    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="expert_assignments"
    )
    pool_member = models.ForeignKey(
        ExpertPoolMember, on_delete=models.PROTECT, related_name="assignments"
    )
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="expert_assignments"
    )
    expert_org = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(help_text="the application version it was assigned on")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    automatic = models.BooleanField(default=False)
    comment = models.TextField(_("评审意见"), blank=True)
    # The expert's weighted score on a 100-point scale, fixed at submission.
    total = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    saved_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "review_expertassignment"
        verbose_name = _("专家评审任务")
        verbose_name_plural = _("专家评审任务")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "expert"],
                condition=Q(is_active=True),
                name="expert_assignment_active_unique",
            )
        ]
        indexes = [
            models.Index(fields=["expert", "is_active"]),
            models.Index(fields=["application", "is_active"]),
        ]
        ordering = ["application", "id"]

    def __str__(self) -> str:
        return f"{self.application_id}←{self.expert_id}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    def withdraw(self, now, by=None) -> None:
        """Take the task back from the expert (``by`` a user, or None: the system did)."""
        self.is_active = False
        self.withdrawn_by = by
        self.withdrawn_at = now
        self.save(update_fields=["is_active", "withdrawn_by", "withdrawn_at"])


class ExpertScore(models.Model):
    assignment = models.ForeignKey(
        ExpertAssignment, on_delete=models.CASCADE, related_name="scores"
    )
    criterion = models.CharField(max_length=64)
    score = models.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        db_table = "review_expertscore"
        verbose_name = _("专家评分")
        verbose_name_plural = _("专家评分")
        constraints = [
            models.UniqueConstraint(fields=["assignment", "criterion"], name="expert_score_unique")
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id}:{self.criterion}={self.score}"


class ExpertGroupOpinion(models.Model):
    """The expert group's opinion (专家组意见) on one application; the latest row is current."""

    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="expert_group_opinions"
    )
    text = models.TextField(_("专家组意见"))
    signed_by = models.CharField(_("专家组成员"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "review_expertgroupopinion"
        verbose_name = _("专家组意见")
        verbose_name_plural = _("专家组意见")
        ordering = ["application", "-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.text[:20]}"


# --- approval -------------------------------------------------------------------------------


class ApprovalOutcome(models.TextChoices):
    APPROVE = "approve", _("同意立项")
    REJECT = "reject", _("不予立项")


class ApprovalDecision(models.Model):
    """The issuer's decision on one RECOMMENDED application.

    Pending (``announcement`` empty) until an announcement is published, when it takes
    effect; a pending decision may be revoked (``is_active`` off). One active decision per
    application.
    """

    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="approval_decisions"
    )
    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="approval_decisions"
    )
    category = models.CharField(max_length=64)
    outcome = models.CharField(_("审定结果"), max_length=10, choices=ApprovalOutcome.choices)
    opinion = models.TextField(_("审定意见"), blank=True)
    # The grade ``[rubric] grades`` gave when the issuer approved (empty: none declared).
    grade_name = models.CharField(_("评审等级"), max_length=30, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField()
    is_active = models.BooleanField(default=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    announcement = models.ForeignKey(
        "Announcement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions",
    )

    class Meta:
        db_table = "review_approvaldecision"
        verbose_name = _("审定决定")
        verbose_name_plural = _("审定决定")
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(is_active=True),
                name="approval_decision_active_unique",
            )
        ]
        indexes = [models.Index(fields=["programme", "category", "is_active"])]
        ordering = ["programme", "category", "decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.outcome}"

    @property
    def is_pending(self) -> bool:
        return self.is_active and self.announcement_id is None

    def revoke(self, now, by=None) -> None:
        """Take the pending decision back (``by`` a user, or None: the system did)."""
        self.is_active = False
        self.revoked_by = by
        self.revoked_at = now
        self.save(update_fields=["is_active", "revoked_by", "revoked_at"])


# --- announcement (公示) ----------------------------------------------------------------------


class AnnouncementState(models.TextChoices):
    PUBLISHED = "published", _("公示中")
    CLOSED = "closed", _("已公布最终名单")


class Announcement(models.Model):
    """A published list with its objection period, then the final list.

    ``title`` and the entries' snapshots are what the public page shows: unit names,
    categories, topics and regions only, never a person's name, phone or e-mail.
    """

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.PROTECT, related_name="announcements"
    )
    title = models.CharField(_("标题"), max_length=300)
    intro = models.TextField(_("说明"), blank=True)
    state = models.CharField(
        _("状态"),
        max_length=12,
        choices=AnnouncementState.choices,
        default=AnnouncementState.PUBLISHED,
    )
    published_at = models.DateTimeField(_("发布时间"))
    objection_until = models.DateTimeField(_("公示截止"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    final_published_at = models.DateTimeField(_("最终名单公布时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "review_announcement"
        verbose_name = _("公示")
        verbose_name_plural = _("公示")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["state", "objection_until"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.state == AnnouncementState.PUBLISHED


class EntryOutcome(models.TextChoices):
    LISTED = "listed", _("列入名单")
    REMOVED = "removed", _("经异议核实后撤销")


class AnnouncementEntry(models.Model):
    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="entries")
    application = models.OneToOneField(
        "applications.Application", on_delete=models.PROTECT, related_name="announcement_entry"
    )
    position = models.PositiveIntegerField()
    # Snapshots taken at publication: the public page reads only these.
    unit_name = models.CharField(max_length=200)
    category_name = models.CharField(max_length=100)
    topic_name = models.CharField(max_length=200, blank=True)
    region_name = models.CharField(max_length=200, blank=True)
    grade_name = models.CharField(max_length=30, blank=True)
    outcome = models.CharField(
        max_length=10, choices=EntryOutcome.choices, default=EntryOutcome.LISTED
    )

    class Meta:
        db_table = "review_announcemententry"
        verbose_name = _("公示条目")
        verbose_name_plural = _("公示条目")
        ordering = ["announcement", "position"]

    def __str__(self) -> str:
        return self.unit_name


class ObjectionState(models.TextChoices):
    OPEN = "open", _("待处理")
    UPHELD = "upheld", _("异议成立")
    DISMISSED = "dismissed", _("异议不成立")


class Objection(models.Model):
    """An objection to one entry, recorded by the issuer; the objector's contact stays private."""

    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="objections"
    )
    entry = models.ForeignKey(
        AnnouncementEntry, on_delete=models.PROTECT, related_name="objections"
    )
    text = models.TextField(_("异议内容"))
    contact = models.CharField(_("异议人联系方式（不公开）"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("收到时间"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=ObjectionState.choices, default=ObjectionState.OPEN
    )
    resolution = models.TextField(_("处理意见"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "review_objection"
        verbose_name = _("异议")
        verbose_name_plural = _("异议")
        ordering = ["announcement", "received_at", "id"]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.get_state_display()}"
