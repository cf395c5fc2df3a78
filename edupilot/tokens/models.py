"""API tokens (personal access tokens) for the systems that exchange data with a bureau.

A token acts as one membership (and so in its scope), read-only or read-write, until it
expires or is revoked. Only a SHA-256 hash of the secret is kept; the secret is shown once.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    name = models.CharField(_("名称"), max_length=60)
    membership = models.ForeignKey(
        "orgs.Membership",
        verbose_name=_("身份"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    read_only = models.BooleanField(_("只读"), default=True)
    # The secret's first characters, shown in lists so a person can tell tokens apart.
    prefix = models.CharField(_("令牌开头"), max_length=16, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("有效期至"))
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "live" if self.expires_at > timezone.now() else "expired"
