"""A platform admin sees every org's rows, also of models that widen their scope with
``scope_extra_q`` (applications, pilots, certification entries): ``Q() | extra`` would be
``extra`` alone, and the admin would see none of them."""

from __future__ import annotations

import pytest

from edupilot.applications.models import Application
from edupilot.certification.models import Entry
from edupilot.orgs.models import Membership
from edupilot.orgs.scoping import Scope, scoped
from edupilot.pilots.models import Pilot
from tests.builders import build_world
from tests.conftest import seed_database

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model, field",
    [(Application, "applicant_org"), (Pilot, "unit"), (Entry, "school")],
    ids=["Application", "Pilot", "Entry"],
)
def test_the_platform_admin_sees_every_row(model, field):
    seed_database()
    world = build_world()
    scope = Scope.for_membership(Membership.objects.get(user=world.platform))
    everything = model.objects.count()
    assert everything >= 2
    assert scoped(model.objects.all(), scope, org_field=field).count() == everything
    # Both provinces' rows, as a province reviewer sees only its own.
    province = world.a.scope("province")
    assert 0 < scoped(model.objects.all(), province, org_field=field).count() < everything
