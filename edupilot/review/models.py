"""Models of the review chain: each level's decision on an application, and the quota it uses."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReviewAction(models.TextChoices):
    RECOMMEND = "recommend", _("推荐")
    RETURN = "return", _("退回修改")
    NOT_RECOMMEND = "not_recommend", _("不予推荐")


class Deactivation(models.TextChoices):
    WITHDRAWN = "withdrawn", _("本级撤回推荐")
    RETURNED_ABOVE = "returned_above", _("上级退回修改")
    RESUBMITTED = "resubmitted", _("申报单位重新提交")


class ReviewDecision(models.Model):
    """One level's decision on one submitted version of an application.

    Append-only in spirit: a recommendation that stops counting (withdrawn by its level,
    returned by a higher level, superseded by a resubmission) is marked inactive, never
    deleted. Only *active recommendations* hold quota places and ranks.

    ``programme`` and ``category`` repeat the application's so that counting a quota bucket
    is one indexed query without a join.
    """

    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="review_decisions"
    )
    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="+"
    )
    category = models.CharField(_("类别"), max_length=64)
    version = models.PositiveIntegerField(_("版本"))
    step = models.PositiveSmallIntegerField(_("审核步骤"))
    level = models.CharField(_("审核层级"), max_length=64)
    tier = models.CharField(max_length=16)
    org = models.ForeignKey(
        "orgs.Org", verbose_name=_("审核单位"), on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("审核结果"), max_length=20, choices=ReviewAction.choices)
    rank = models.PositiveIntegerField(_("推荐排序"), null=True, blank=True)
    opinion = models.TextField(_("审核意见"), blank=True)
    reasons = models.TextField(_("理由"), blank=True)
    # The quota bucket the recommendation spends; empty when no quota applies at its level.
    quota_level = models.CharField(max_length=16, blank=True)
    quota_holder = models.ForeignKey(
        "orgs.Org", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quota_direct = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivated_reason = models.CharField(max_length=20, choices=Deactivation.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"))

    class Meta:
        verbose_name = _("审核意见")
        verbose_name_plural = _("审核意见")
        ordering = ["application", "version", "step", "decided_at", "id"]
        constraints = [
            # One counting recommendation per application and step, whatever the race.
            models.UniqueConstraint(
                fields=["application", "step"],
                condition=models.Q(active=True, action="recommend"),
                name="review_one_active_recommendation_per_step",
            ),
            models.CheckConstraint(
                condition=models.Q(action="recommend", rank__isnull=False)
                | (~models.Q(action="recommend") & models.Q(rank__isnull=True)),
                name="review_rank_iff_recommend",
            ),
        ]
        indexes = [
            models.Index(
                fields=["quota_holder", "programme", "category", "quota_level", "active"],
                name="review_quota_bucket_idx",
            ),
            models.Index(
                fields=["org", "programme", "category", "level", "active"],
                name="review_level_idx",
            ),
            models.Index(fields=["application", "version"], name="review_app_version_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} v{self.version} {self.level}: {self.action}"

    @property
    def counts(self) -> bool:
        return self.active and self.action == ReviewAction.RECOMMEND


class JointVerdict(models.TextChoices):
    PENDING = "", _("待发表意见")
    AGREE = "agree", _("同意")
    DISAGREE = "disagree", _("不同意")
    RETURN = "return", _("退回修改")


class JointOpinion(models.Model):
    """One org's opinion at a joint review step (``kind = "joint_review"``) of one submitted
    version. A row per org is opened (pending) when the application reaches the step, so
    each org's reviewers find it in their queue; the step's own decision
    (:class:`ReviewDecision`, in the lead org's name) is recorded once enough orgs agree
    (``edupilot/review/joint.py``)."""

    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="joint_opinions"
    )
    version = models.PositiveIntegerField(_("版本"))
    step = models.PositiveSmallIntegerField(_("审核步骤"))
    level = models.CharField(_("审核阶段"), max_length=64)
    org = models.ForeignKey(
        "orgs.Org", verbose_name=_("审核单位"), on_delete=models.PROTECT, related_name="+"
    )
    verdict = models.CharField(
        _("意见"), max_length=10, choices=JointVerdict.choices, blank=True, default=""
    )
    opinion = models.TextField(_("审核意见"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("联合审核意见")
        verbose_name_plural = _("联合审核意见")
        ordering = ["application", "version", "step", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "version", "step", "org"], name="review_joint_one_per_org"
            )
        ]
        indexes = [models.Index(fields=["org", "verdict"], name="review_joint_org_idx")]

    def __str__(self) -> str:
        return f"{self.application_id} v{self.version} {self.level} {self.org_id}: {self.verdict}"

    # Read like a decision by the pages and the API while the stage is still open.
    rank = None

    @property
    def action(self) -> str:
        return {
            JointVerdict.AGREE: ReviewAction.RECOMMEND,
            JointVerdict.DISAGREE: ReviewAction.NOT_RECOMMEND,
            JointVerdict.RETURN: ReviewAction.RETURN,
        }.get(self.verdict, "")

    @property
    def reasons(self) -> str:
        return "" if self.verdict == JointVerdict.AGREE else self.opinion
