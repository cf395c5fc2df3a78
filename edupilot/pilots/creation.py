"""Making pilots when a final list is published (``selection.signals.final_list_published``)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from edupilot.applications.models import Application, AppState
from edupilot.audit.services import Actor, audit_record
from edupilot.orgs.models import Org

from .models import Pilot
from .periods import add_months
from .workflows import PILOT


def supervisor_of(application: Application) -> int:
    """The org that supervises the pilot: the org of the flow stage ``[pilot] supervisor``
    names in the application's chain, else of its first review step (its nearest level)."""
    spec = application.programme.parsed.pilot
    key = spec.supervisor if spec else None
    chain = application.chain or []
    step = next((s for s in chain if key and s.get("level") == key), None)
    if step is None and chain:
        step = chain[0]
    if step is None:  # no review step at all: the issuer supervises
        return application.programme.issuer_id
    return step["org"]


@transaction.atomic
def pilots_create(
    *, applications: list[Application], actor: Actor, now: dt.datetime | None = None
) -> list[Pilot]:
    """One pilot per application just put on the final list; idempotent per application.
    A round's units (FORWARDED to the parent programme) are no pilots of the round: their
    pilot period, if any, is the parent's."""
    now = now or timezone.now()
    made = []
    existing = set(
        Pilot.objects.filter(application__in=applications).values_list("application_id", flat=True)
    )
    for a in applications:
        spec = a.programme.parsed.pilot
        if spec is None or a.pk in existing or a.state == AppState.FORWARDED:
            continue
        starts = timezone.localdate(now)
        if isinstance(spec.starts, dt.date):  # a date the notice fixes, moved like its others
            starts = a.programme.shift(spec.starts)
        pilot = Pilot(
            application=a,
            programme=a.programme,
            category=a.category,
            topic=a.topic,
            title=a.title,
            unit=a.applicant_org,
            unit_path=a.applicant_path or a.applicant_org.path,
            supervisor=Org(pk=supervisor_of(a)),
            starts_on=starts,
            ends_on=(
                add_months(starts, spec.duration_months) - dt.timedelta(days=1)
                if spec.duration_months
                else None
            ),
            state=PILOT.initial("create"),
        )
        pilot.save()
        audit_record(
            actor=actor,
            action="pilot.create",
            obj=pilot,
            after={"application": a.pk, "supervisor": pilot.supervisor_id, "starts": str(starts)},
        )
        made.append(pilot)
    return made
