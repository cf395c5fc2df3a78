import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from edupilot.core.models import user_ref


class User(AbstractUser):
    full_name = models.CharField(_("姓名"), max_length=60, blank=True)
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)
    must_change_password = models.BooleanField(
        _("下次登录须修改密码"),
        default=False,
        help_text=_("批量开通或重置的账号首次登录时必须修改密码"),
    )
    # Set when someone else reset this account's password (an upper org hands accounts down
    # level by level): until the owner sets a password of its own, what the account does is
    # marked "代设密码期间" in the audit log and on the pages that show who acted.
    handed_down_at = models.DateTimeField(_("代设密码起始时间"), null=True, blank=True)
    ever_handed_down = models.BooleanField(default=False, editable=False)
    # The top bar's unread badge, kept by core.notifications (+k on notify, -k on marking
    # read, in the writer's transaction): the user row is read on every request anyway, so
    # the badge costs no query. ``unread_count`` is the exact COUNT it must equal.
    unread_notifications = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    def save(self, *args, **kwargs):
        # A whole-row save of a user read earlier (a profile edit, a password change) must not
        # write back a stale badge counter over a notification counted meanwhile.
        if (
            not self._state.adding
            and kwargs.get("update_fields") is None
            and not kwargs.get("force_insert")
        ):
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "unread_notifications"
            ]
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class CredentialPurpose(models.TextChoices):
    PROVISION = "provision", _("批量开通账号")
    RESET = "reset", _("重置密码")
    ADMIN_REQUEST = "admin_request", _("开通项目管理员账号")


class CredentialSheet(models.Model):
    """A list of one-time passwords, kept only until its creator has printed or downloaded it.

    The list is encrypted with a key that the server does not keep: the key lives in a
    cookie of the creator's browser, scoped to this sheet's URL. A copy of the database alone
    therefore reveals no password, and the ciphertext itself is erased when the creator
    destroys the sheet or when it expires (see credentials.py and docs/decisions).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credential_sheets"
    )
    org = models.ForeignKey(
        "orgs.Org", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    purpose = models.CharField(_("用途"), max_length=20, choices=CredentialPurpose.choices)
    count = models.PositiveIntegerField(_("账号数"), default=0)
    ciphertext = models.BinaryField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("初始密码单")
        verbose_name_plural = _("初始密码单")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} · {self.count}"


class AdminRequestState(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已开通")
    REJECTED = "rejected", _("未通过")


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class AdminAccountRequest(models.Model):
    """A lower org asks a programme's issuer for a programme admin account (Henan, attachment 2:
    《省辖市、直管县（市）“腾讯智慧校园”试点项目管理员回执表》)."""

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.PROTECT, related_name="admin_requests"
    )
    org = models.ForeignKey(
        "orgs.Org",
        verbose_name=_("申请单位"),
        on_delete=models.PROTECT,
        related_name="admin_requests",
    )
    full_name = models.CharField(_("姓名"), max_length=60)
    gender = models.CharField(_("性别"), max_length=10, choices=Gender.choices)
    unit = models.CharField(_("单位"), max_length=200)
    position = models.CharField(_("职务"), max_length=100)
    phone = models.CharField(_("手机号码"), max_length=20)
    wechat = models.CharField(_("微信号"), max_length=40, blank=True)
    state = models.CharField(
        _("状态"),
        max_length=20,
        choices=AdminRequestState.choices,
        default=AdminRequestState.PENDING,
    )
    decision_reason = models.TextField(_("审批意见"), blank=True)
    requested_by = user_ref(blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = user_ref(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("开通的账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="admin_requests",
    )

    class Meta:
        verbose_name = _("项目管理员账号申请")
        verbose_name_plural = _("项目管理员账号申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "org", "phone"],
                condition=models.Q(state="pending"),
                name="admin_request_one_pending_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.org.name} · {self.full_name}"


class PasswordHandover(models.Model):
    """One period during which an account ran on a password someone else set (a reset)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="handovers"
    )
    reset_by = user_ref(blank=True)
    reset_by_org = models.ForeignKey(
        "orgs.Org", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(_("重置理由"))
    started_at = models.DateTimeField(_("开始"))
    ended_at = models.DateTimeField(_("结束"), null=True, blank=True)

    class Meta:
        verbose_name = _("代设密码期间")
        verbose_name_plural = _("代设密码期间")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "started_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.started_at:%Y-%m-%d %H:%M}"

    def covers(self, when) -> bool:
        return self.started_at <= when and (self.ended_at is None or when < self.ended_at)
