"""Quanzhou's pilots (plan due 30 days after the start, monthly reports due the 25th), with two
schools supervised by one county and a third by another county, and a user for each role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from edupilot.applications.models import Application, AppState
from edupilot.audit.services import Actor
from edupilot.orgs.models import Org, Role
from edupilot.orgs.scoping import Scope
from edupilot.pilots.models import Pilot
from edupilot.programmes.models import Programme
from tests.conftest import make_school, make_user
from tests.review.conftest import load

START = dt.date(2026, 3, 1)
END = dt.date(2028, 2, 29)


@dataclass
class W:
    programme: Programme
    city: Org
    counties: list[Org]
    schools: list[Org]
    pilots: list[Pilot]
    users: dict = field(default_factory=dict)

    def scope(self, key: str) -> Scope:
        return Scope.for_membership(self.users[key].memberships.select_related("org").get())

    def actor(self, key: str) -> Actor:
        user = self.users[key]
        return Actor(user=user, org=user.memberships.get().org)


def build() -> W:
    programme = load("quanzhou-smart-campus-2018.toml")
    city = programme.issuer
    counties = list(Org.objects.filter(parent=city, kind="bureau").order_by("code")[:2]) or list(
        Org.objects.filter(parent=city).order_by("code")[:2]
    )
    schools = [
        make_school(counties[0], name="泉州试点甲小学"),
        make_school(counties[0], name="泉州试点乙小学"),
        make_school(counties[1], name="泉州试点丙小学"),
    ]
    pilots = []
    for s in schools:
        app = Application.objects.create(
            programme=programme, category="school", applicant_org=s, state=AppState.PILOT
        )
        pilots.append(
            Pilot.objects.create(
                application=app,
                programme=programme,
                category="school",
                unit=s,
                supervisor=s.parent,
                starts_on=START,
                ends_on=END,
            )
        )
    w = W(programme, city, counties, schools, pilots)
    for key, org, role in [
        ("school0", schools[0], Role.APPLICANT),
        ("school1", schools[1], Role.APPLICANT),
        ("school2", schools[2], Role.APPLICANT),
        ("county0", counties[0], Role.REVIEWER),
        ("county0_admin", counties[0], Role.PROGRAMME_ADMIN),
        ("county1", counties[1], Role.REVIEWER),
        ("county1_admin", counties[1], Role.PROGRAMME_ADMIN),
        ("city_admin", city, Role.PROGRAMME_ADMIN),
    ]:
        w.users[key] = make_user(org, role, username=f"qz_{key}")
        w.users[key].email = f"{key}@example.cn"
        w.users[key].save(update_fields=["email"])
    return w
