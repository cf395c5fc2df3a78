"""Shared infrastructure rows: background jobs, in-app notifications, sent reminders."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def user_ref(*, blank: bool = False) -> models.ForeignKey:
    """Who did something (filed, decided, uploaded…): the row outlives the account (then
    None), and the user gets no reverse relation."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=blank,
        on_delete=models.SET_NULL,
        related_name="+",
    )


class JobState(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class Job(models.Model):
    """One background job (an export, a batch PDF) started by a user in one membership.

    ``membership`` is the scope the job was started in: the job function re-enters it
    (``job.scope()``), so a job never sees more than its user did, and only that user in
    that membership may see the job and download its result.
    """

    kind = models.CharField(_("类型"), max_length=64)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=JobState.choices, default=JobState.QUEUED
    )
    done = models.PositiveIntegerField(_("已完成"), default=0)
    total = models.PositiveIntegerField(_("总数"), null=True, blank=True)
    message = models.CharField(_("进度说明"), max_length=300, blank=True)
    result_name = models.CharField(_("结果文件名"), max_length=255, blank=True)
    result_path = models.CharField(_("结果存储路径"), max_length=500, blank=True)
    result_content_type = models.CharField(max_length=100, blank=True)
    result_size = models.PositiveBigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs"
    )
    membership = models.ForeignKey(
        "orgs.Membership", null=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Shown to the user when it is a JobError's message; otherwise the traceback, for admins.
    error = models.TextField(_("错误"), blank=True)
    error_public = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_by", "membership", "-created_at"]),
            models.Index(fields=["state", "finished_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"

    @property
    def kind_label(self) -> str:
        from .jobs import job_label

        return job_label(self.kind)

    @property
    def is_finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)

    @property
    def percent(self) -> int | None:
        if self.state == JobState.DONE:
            return 100
        if not self.total:
            return None
        return max(0, min(100, int(self.done * 100 / self.total)))

    def scope(self):
        """The scope the job was started in, re-read once (a revoked membership sees nothing)."""
        cached = getattr(self, "_scope_cache", None)
        if cached is None:
            cached = self._scope_cache = self._load_scope()
        return cached

    def _load_scope(self):
        from edupilot.orgs.models import Membership
        from edupilot.orgs.scoping import Scope

        membership = (
            Membership.objects.select_related("org")
            .filter(
                pk=self.membership_id,
                user_id=self.created_by_id,
                is_active=True,
                user__is_active=True,
            )
            .first()
        )
        if membership is None:
            return Scope.anonymous()
        return Scope.for_membership(membership)


class EmailStatus(models.TextChoices):
    NONE = "none", _("不发送")
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Notification(models.Model):
    """One message to one user, shown in the app and (when the user has an address) mailed."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(_("事件"), max_length=64)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=500, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    email_status = models.CharField(
        _("邮件"), max_length=10, choices=EmailStatus.choices, default=EmailStatus.NONE
    )
    email_error = models.CharField(max_length=500, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The unread list and unread_count (the badge itself is a counter on the user).
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["recipient", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class ReminderSent(models.Model):
    """A reminder already sent, by its provider's key, so a reminder goes out once."""

    key = models.CharField(max_length=255, unique=True)
    provider = models.CharField(max_length=100)
    recipients = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("已发送提醒")
        verbose_name_plural = _("已发送提醒")

    def __str__(self) -> str:
        return self.key
