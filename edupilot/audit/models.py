"""Append-only audit events, chained by hash.

Each event stores the hash of the one before it; ``hash`` covers the event's own fields and
``prev_hash``. Rewriting or deleting any past row breaks every later link, which
``edupilot audit verify`` finds.
"""

import hashlib
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS = "0" * 64


class AppendOnlyError(Exception):
    pass


class AuditEvent(models.Model):
    created_at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    actor_org = models.ForeignKey(
        "orgs.Org", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("动作"), max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # The actor was using a password handed down by an upper org (accounts: a reset by
    # someone else, until the owner sets its own): pages show such acts as "代设密码期间".
    handed_down = models.BooleanField(_("代设密码期间"), default=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return (
            f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"
        )

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")

    def payload(self) -> dict:
        data = {
            "created_at": self.created_at.isoformat(),
            "actor": self.actor_id,
            "actor_name": self.actor_name,
            "actor_org": self.actor_org_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "before": self.before,
            "after": self.after,
            "ip": self.ip,
        }
        if self.handed_down:
            # Only when set, so that events written before the field existed keep their hash.
            data["handed_down"] = True
        return data

    def compute_hash(self) -> str:
        body = json.dumps(self.payload(), sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)
        return hashlib.sha256(f"{self.prev_hash}|{body}".encode()).hexdigest()
