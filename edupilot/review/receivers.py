"""Review's receivers: a (re)submission starts a new review."""

from __future__ import annotations

from django.dispatch import receiver
from django.utils import timezone

from edupilot.applications import signals
from edupilot.applications.models import Application, AppState
from edupilot.applications.workflows import APPLICATION
from edupilot.audit.services import Actor, audit_record

from . import joint
from .locks import _deactivate
from .models import Deactivation, ReviewDecision
from .support import _notify_reviewers

# --- the submission hook ------------------------------------------------------------------------


@receiver(signals.application_submitted, sender=Application, dispatch_uid="review.on_submitted")
def on_application_submitted(sender, application: Application, actor: Actor, **kwargs) -> None:
    """A (re)submission starts a new review: earlier decisions stop counting; a chain of one
    step goes straight to the issuer's decision."""
    now = timezone.now()
    # Only editable applications are resubmitted, and returning one already freed its
    # recommendations, so what is left here holds no rank: no level lock is needed (taking
    # one after application_submit's audit lock would invert the lock order).
    old = list(ReviewDecision.objects.filter(application=application, active=True).order_by("step"))
    if old:
        _deactivate(old, Deactivation.RESUBMITTED, now)
        audit_record(
            actor=actor,
            action="review.decisions_superseded",
            obj=application,
            before={"active_decisions": [d.pk for d in old]},
            after={"version": application.version},
        )
    if len(application.chain) == 1:
        APPLICATION.advance(application, "direct_to_issuer")
        application.save(update_fields=["state", "updated_at"])
        audit_record(
            actor=actor,
            action="review.direct_to_issuer",
            obj=application,
            before={"state": AppState.SUBMITTED},
            after={"state": AppState.RECOMMENDED, "org": application.chain[0]["org"]},
        )
    joint.open_step(application)
    first = application.chain[0]
    _notify_reviewers(
        application,
        0,
        event="review.submitted",
        title=f"{application.applicant_org.name}提交了申报（第 {application.version} 版）",
        body=f"{application.programme.title}·{application.category_name}，请{first['org_name']}{first['name']}。",
        actor=actor,
    )
