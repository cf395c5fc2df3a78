"""The applicant home with several open calls: the eligibility rules' facts are asked once
for all of them (the org's lists, its memberships in others' bids), and each call still
judges on its own bids."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from edupilot.applications.models import Application, ApplicationMember, AppState
from edupilot.applications.selectors import choices_for_org
from edupilot.programmes.models import Programme
from tests.conftest import org

IN_REGION_BID = "本校已列入本项目的区域试点申报，不可再以学校试点重复申报。"


def second_call(henan) -> Programme:
    """Another open call of the same province (the same file under another code)."""
    copy = Programme.objects.get(pk=henan.pk)
    copy.pk = None
    copy.code = "henan-second-call"
    copy.title = "第二批智慧校园试点"
    copy.save()
    return copy


def home_queries(client, school) -> tuple[int, str]:
    client.force_login(school.user)
    url = reverse("applications:home")
    client.get(url)  # the process's caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_a_second_open_call_costs_the_home_page_no_query(client, henan, school):
    one, _body = home_queries(client, school)
    second = second_call(henan)
    two, body = home_queries(client, school)
    assert second.title in body and henan.title in body
    assert two == one


def test_a_membership_in_a_region_bid_refuses_the_school_category_of_that_call_only(henan, school):
    second = second_call(henan)
    county = org("金水区")
    bid = Application.objects.create(
        programme=henan, category="region", applicant_org=county, state=AppState.SUBMITTED
    )
    ApplicationMember.objects.create(application=bid, org=school.org)
    failures = {
        c.programme.code: [f.message for f in c.failures]
        for c in choices_for_org(school.org)
        if c.category.code == "school"
    }
    assert failures == {henan.code: [IN_REGION_BID], second.code: []}
    # A withdrawn region bid no longer binds its members.
    Application.objects.filter(pk=bid.pk).update(state=AppState.WITHDRAWN)
    assert all(not c.failures for c in choices_for_org(school.org))


def test_a_membership_in_a_bid_of_a_call_no_longer_open_binds_nothing(henan, school):
    """The memberships are read for every programme (one compiled query): one of a call
    that is not open is left out, not judged, not an error."""
    closed = second_call(henan)
    closed.is_active = False
    closed.save()
    bid = Application.objects.create(
        programme=closed, category="region", applicant_org=org("金水区"), state=AppState.SUBMITTED
    )
    ApplicationMember.objects.create(application=bid, org=school.org)
    choices = choices_for_org(school.org)
    assert {c.programme.code for c in choices} == {henan.code}
    assert all(not c.failures for c in choices)
