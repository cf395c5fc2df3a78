"""An ``org_review`` stage names an org outside the applicants' lineage (a city's 电教馆, an
office: a unit under the city). Its reviewers reach an application once it is at their step,
and keep reaching what they decided on (to see it, withdraw while they may); nothing else of
the city's subtree, and no other unit."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from edupilot.applications.selectors import applications_for
from edupilot.orgs.models import Locality, Org, OrgKind, Role
from edupilot.review import queue as review_queue
from edupilot.review import selectors as review_selectors
from edupilot.review import services as review
from edupilot.review.models import ReviewDecision
from edupilot.selection import experts, scoring
from edupilot.selection.models import ExpertAssignment
from tests.applications.conftest import Who
from tests.conftest import make_school, org
from tests.review.conftest import submit_as
from tests.selection.test_stage_flow import staged  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_the_named_org_reaches_the_applications_at_its_step(staged):  # noqa: F811
    programme, centre = staged
    city, county = org("430400"), org("衡阳县")
    school = Who(make_school(county, "衡阳县范围测试小学", locality=Locality.URBAN))
    bystander = Who(make_school(county, "衡阳县未申报小学"))
    county_rev = Who(county, Role.REVIEWER)
    centre_rev = Who(centre, Role.REVIEWER)
    other_unit = Org.objects.create(
        code="430400-jky", name="衡阳市教育科学研究所", kind=OrgKind.UNIT, parent=city
    )
    other_rev = Who(other_unit, Role.REVIEWER)
    city_admin = Who(city, Role.PROGRAMME_ADMIN)
    panel = [Who(org("350500"), Role.EXPERT, username=f"scope_panel{i}") for i in range(3)]

    app = submit_as(school, programme, "school", classrooms="3")
    submit_as(bystander, programme, "school", classrooms="3")

    def sees(who: Who) -> set[int]:
        return set(applications_for(who.scope).values_list("pk", flat=True))

    assert app.pk not in sees(centre_rev), "not before it is at the centre's step"
    review.review_recommend(
        application=app, scope=county_rev.scope, actor=county_rev.actor, opinion="同意"
    )
    for e in panel:
        experts.expert_pool_add(
            programme=programme,
            membership=e.membership,
            scope=city_admin.scope,
            actor=city_admin.actor,
        )
    experts.experts_auto_assign(programme=programme, scope=city_admin.scope, actor=city_admin.actor)
    for e in panel[:2]:
        scoring.expert_scores_save(
            assignment=ExpertAssignment.objects.get(application=app, expert=e.user),
            scores={"basis": "30", "plan": "50"},
            comment="同意。",
            submit=True,
            scope=e.scope,
            actor=e.actor,
        )
    app.refresh_from_db()
    assert app.current_org == centre

    # At its step: in its list, its queue and on its page, with the button.
    assert sees(centre_rev) == {app.pk}, "the one at its step, nothing else of the city"
    assert sees(other_rev) == set()
    queue = review_queue.review_queue(
        centre_rev.scope, review_queue.QueueFilters(programme=programme.pk)
    )
    assert [row["pk"] for row in queue.rows] == [app.pk]
    client = Client()
    client.force_login(centre_rev.user)
    page = client.get(reverse("review:detail", args=[app.pk]))
    assert page.status_code == 200
    assert reverse("review:recommend", args=[app.pk]) in page.content.decode()

    # After its recommendation it still reaches the application and its own decision.
    review.review_recommend(
        application=app, scope=centre_rev.scope, actor=centre_rev.actor, opinion="复核通过"
    )
    assert sees(centre_rev) == {app.pk}
    decision = ReviewDecision.objects.get(application=app, org=centre)
    assert review_selectors.access_decision(centre_rev.scope, decision.pk) == decision
    assert client.get(reverse("review:detail", args=[app.pk])).status_code == 200
    assert sees(other_rev) == set()
