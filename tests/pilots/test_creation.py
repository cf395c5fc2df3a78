"""Becoming a pilot: the published final list makes one pilot per listed application, with
its supervisor and period from the file; each level sees its own pilots in one list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from edupilot.applications.models import AppState
from edupilot.orgs.models import Role
from edupilot.pilots.creation import pilots_create
from edupilot.pilots.models import Pilot, PilotState
from edupilot.pilots.periods import add_months
from edupilot.selection import announcements as ann
from edupilot.selection import approval
from tests.selection.test_experts_support import henan_school, load_henan, who

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(programmes):
    henan = load_henan()
    issuer = who("410000", Role.PROGRAMME_ADMIN)
    a1 = henan_school(henan, parent="金水区", name="郑州市金水区试点第一小学")
    a2 = henan_school(henan, parent="二七区", name="郑州市二七区试点小学")
    approval.selection_decide(
        applications=[a1, a2], outcome="approve", opinion="同意", scope=issuer.scope,
        actor=issuer.actor,
    )  # fmt: skip
    announcement = ann.announcement_publish(programme=henan, scope=issuer.scope, actor=issuer.actor)
    later = announcement.objection_until + dt.timedelta(minutes=1)
    ann.announcement_close(
        announcement=announcement, scope=issuer.scope, actor=issuer.actor, now=later
    )
    return henan, issuer, a1, a2, later


def test_the_final_list_makes_one_pilot_per_application(listed):
    henan, issuer, a1, a2, closed_at = listed
    pilots = {p.application_id: p for p in Pilot.objects.all()}
    assert set(pilots) == {a1.pk, a2.pk}
    p = pilots[a1.pk]
    a1.refresh_from_db()
    assert a1.state == AppState.PILOT
    assert p.state == PilotState.ACTIVE and p.unit_id == a1.applicant_org_id
    # Henan's school flow starts at the city: 郑州市 supervises its schools.
    assert p.supervisor_id == a1.chain[0]["org"] and p.supervisor.name == "郑州市"
    assert p.starts_on == timezone.localdate(closed_at) and p.ends_on is None
    # Idempotent: the same list again makes nothing new.
    assert pilots_create(applications=[a1, a2], actor=issuer.actor) == []


def test_each_level_sees_its_pilots_and_no_other(listed, client):
    henan, issuer, a1, a2, _ = listed
    p1 = Pilot.objects.get(application=a1)
    p2 = Pilot.objects.get(application=a2)
    school = who(a1.applicant_org.code, Role.APPLICANT)
    client.force_login(school.user)
    page = client.get(reverse("pilots:list"))
    assert a1.applicant_org.name in page.text and a2.applicant_org.name not in page.text
    assert client.get(reverse("pilots:detail", args=[p1.pk])).status_code == 200
    assert client.get(reverse("pilots:detail", args=[p2.pk])).status_code == 404
    for code in ("410100", "410000"):  # the city above both, and the issuer
        client.force_login(who(code, Role.REVIEWER).user)
        page = client.get(reverse("pilots:list") + "?state=active&q=试点")
        assert a1.applicant_org.name in page.text and a2.applicant_org.name in page.text
    client.force_login(who("410200", Role.REVIEWER).user)  # 开封市: none of them
    assert client.get(reverse("pilots:detail", args=[p1.pk])).status_code == 404
    assert a1.applicant_org.name not in client.get(reverse("pilots:list")).text


def test_add_months_keeps_the_day_or_takes_the_month_end():
    assert add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2025, 11, 30), 3) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2025, 3, 1), -10) == dt.date(2024, 5, 1)
