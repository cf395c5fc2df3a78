"""Pilots made from real submitted applications, and the people who act on them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from edupilot.orgs.models import Org, OrgKind, Role
from edupilot.pilots.creation import pilots_create
from edupilot.pilots.models import PilotState, Submission, SubmissionState
from tests.review.conftest import load, reviewer, school_in, submit_as


def make_pilot(programme, category="school", parent=None, **form):
    """A unit's pilot: a real application submitted, then made a pilot (the final list's step)."""
    issuer = programme.issuer
    parent = parent or _county_under(issuer)
    unit = school_in(parent)
    app = submit_as(unit, programme, category, **form)
    (pilot,) = pilots_create(applications=[app], actor=unit.actor)
    pilot.refresh_from_db()
    return pilot, unit


def _county_under(org_: Org) -> Org:
    """A county below the issuer (the issuer's own first county when it is a city)."""
    qs = Org.objects.filter(kind=OrgKind.COUNTY, path__startswith=org_.path).order_by("path")
    return qs.first()


def in_acceptance(pilot):
    """The unit handed in its acceptance materials (p1's submit, done here by hand)."""
    stage = pilot.spec.stage_of("acceptance")
    sub, _ = Submission.objects.update_or_create(
        pilot=pilot,
        stage=stage.key,
        period="",
        defaults={"kind": "acceptance", "state": SubmissionState.SUBMITTED,
                  "submitted_at": timezone.now(), "data": {"summary": "总结"}},
    )  # fmt: skip
    pilot.state = PilotState.ACCEPTANCE
    pilot.save(update_fields=["state"])
    return sub


def issuer_admin(programme):
    return reviewer(programme.issuer, Role.PROGRAMME_ADMIN)


@pytest.fixture
def quanzhou(seeded):
    return load("quanzhou-smart-campus-2018.toml")


@pytest.fixture
def henan(seeded):
    return load("henan-tencent-smart-campus-2019.toml")


@pytest.fixture
def zhejiang(seeded):
    return load("zhejiang-smart-education-2019.toml")
