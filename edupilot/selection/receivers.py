"""How selection follows what happens elsewhere: a resubmitted application supersedes the
open expert work and pending decisions on its old version. Connected by importing this module
(SelectionConfig.ready())."""

from __future__ import annotations

from django.dispatch import receiver
from django.utils import timezone

from edupilot.applications.models import Application
from edupilot.applications.signals import application_submitted
from edupilot.audit.services import Actor, audit_record

from .models import ApprovalDecision, ExpertAssignment


@receiver(application_submitted, sender=Application, dispatch_uid="selection.on_submitted")
def on_application_submitted(sender, application: Application, actor: Actor, **kwargs) -> None:
    """A resubmission is a new version: the expert tasks and pending decisions on the old one
    stop counting (their rows and scores stay, for the record); the new version is reviewed
    afresh, by the same experts if the issuer assigns them again."""
    now = timezone.now()
    open_tasks = list(
        ExpertAssignment.objects.select_for_update()
        .filter(application=application, is_active=True)
        .exclude(version=application.version)
    )
    pending = list(
        ApprovalDecision.objects.select_for_update().filter(
            application=application, is_active=True, announcement__isnull=True
        )
    )
    if not open_tasks and not pending:
        return
    for a in open_tasks:
        a.withdraw(now)
    for d in pending:
        d.revoke(now)
    audit_record(
        actor=actor,
        action="selection.superseded",
        obj=application,
        before={"open_tasks": [a.pk for a in open_tasks], "pending": [d.pk for d in pending]},
        after={"version": application.version},
    )
