"""The pilot-period demo (edupilot.pilots.demo): 泉州's one-year notice whose final list came
out before its pilots started, ten months ago — the public portal must not read a final list
dated after today."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from edupilot import demo as site_demo
from edupilot.audit.services import Actor
from edupilot.orgs.demo import generate_schools
from edupilot.pilots import demo
from edupilot.pilots.models import Pilot
from edupilot.selection.models import Announcement, AnnouncementState


@pytest.fixture
def pilot_demo(seeded):
    generate_schools(["quanzhou"], scale=0.2, seed=2024)
    site_demo.create_accounts()
    programme = demo.load_demo(actor=Actor.system())
    assert programme is not None
    return programme


def test_the_final_list_is_dated_before_the_pilots_started(client, pilot_demo):
    now = timezone.now()
    ann = Announcement.objects.get(programme=pilot_demo)
    assert ann.state == AnnouncementState.CLOSED
    pilots = list(Pilot.objects.filter(programme=pilot_demo))
    assert len(pilots) == demo.PILOTS
    starts = {p.starts_on for p in pilots}
    assert len(starts) == 1
    start = starts.pop()
    # Ten months in: the start lies in the past, and the list was out before it.
    assert start <= timezone.localdate() - dt.timedelta(days=270)
    assert ann.published_at < ann.objection_until < ann.final_published_at < now
    assert timezone.localdate(ann.final_published_at) < start
    page = client.get(reverse("public_index") + "?section=final-lists").content.decode()
    assert timezone.localdate(ann.final_published_at).isoformat() in page


def test_the_public_reads_the_accepted_typical_case(client, pilot_demo):
    page = client.get(reverse("public_index") + "?section=pilot-cases").content.decode()
    best = Pilot.objects.filter(programme=pilot_demo, unit__name__isnull=False).order_by("pk")[5]
    assert f"{best.unit.name}：典型案例" in page
