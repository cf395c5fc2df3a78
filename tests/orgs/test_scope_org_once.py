"""The scope's own org is loaded once per request (with the membership), not re-fetched by views."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from edupilot.orgs.models import Membership, Role
from edupilot.orgs.scoping import Scope
from tests.conftest import make_school, make_user, org

pytestmark = pytest.mark.django_db


def own_org_queries(queries, org_id: int) -> list[str]:
    """Queries that read the org row ``org_id`` itself (the membership's join included)."""
    by_id = re.compile(rf'(?<!NOT \()"orgs_org"\."id" = {org_id}\b')
    out = []
    for q in queries:
        sql = q["sql"]
        if by_id.search(sql) or (
            'FROM "orgs_membership" INNER JOIN "orgs_org"' in sql and "is_active" in sql
        ):
            out.append(sql)
    return out


def fetch(client, user, url, status=200):
    """The queries of one request (a redirect is followed by the test, as its own request)."""
    client.force_login(user)
    org_id = Membership.objects.get(user=user).org_id
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return own_org_queries(ctx.captured_queries, org_id)


def test_a_reviewers_home_reads_its_own_org_once(client, programmes):
    user = make_user(org("410100"), Role.REVIEWER)
    assert len(fetch(client, user, reverse("core:home"), status=302)) == 1
    queue = client.get(reverse("core:home"))["Location"]
    assert queue == reverse("review:queue")
    queries = fetch(client, user, queue)
    assert len(queries) <= 1, "\n\n".join(queries)


@pytest.mark.parametrize(
    "where, role, name",
    [
        ("410100", Role.REVIEWER, "documents:index"),
        ("410100", Role.REVIEWER, "accounts:admin_request_new"),
        ("410105", Role.REVIEWER, "accounts:provision"),
    ],
)
def test_a_bureau_page_reads_its_own_org_once(client, programmes, where, role, name):
    user = make_user(org(where), role)
    queries = fetch(client, user, reverse(name))
    assert len(queries) <= 1, "\n\n".join(queries)


@pytest.mark.parametrize("name, status", [("applications:home", 200), ("orgs:mine", 302)])
def test_a_school_page_reads_its_own_org_once(client, programmes, name, status):
    user = make_user(make_school(org("410105"), stages=",primary,"), Role.APPLICANT)
    queries = fetch(client, user, reverse(name), status)
    assert len(queries) <= 1, "\n\n".join(queries)


def test_scope_org_is_the_membership_org_or_fetched_once(programmes, django_assert_num_queries):
    user = make_user(org("410100"), Role.REVIEWER)
    m = Membership.objects.select_related("org").get(user=user)
    scope = Scope.for_membership(m)
    with django_assert_num_queries(0):
        assert scope.org is m.org
    bare = Scope(user_id=user.pk, membership_id=m.pk, role=m.role, org_id=m.org_id)
    with django_assert_num_queries(1):
        assert bare.org.pk == m.org_id
        assert bare.org is bare.org
    assert Scope.anonymous().org is None
    assert bare == Scope(user_id=user.pk, membership_id=m.pk, role=m.role, org_id=m.org_id)


def test_acting_as_is_an_authenticated_scope_at_the_org_without_a_membership(
    programmes, django_assert_num_queries
):
    zhengzhou, hangzhou = org("410100"), org("330100")
    with django_assert_num_queries(0):
        scope = Scope.acting_as(zhengzhou, Role.REVIEWER)
        assert scope.org is zhengzhou
    assert (scope.user_id, scope.membership_id, scope.role) == (0, 0, Role.REVIEWER)
    assert (scope.org_path, scope.org_tier, scope.org_kind) == (
        zhengzhou.path,
        zhengzhou.tier,
        zhengzhou.kind,
    )
    assert scope.is_authenticated and scope.is_reviewer
    assert scope.contains_org(org("410105")) and not scope.contains_org(hangzhou)
    assert Scope.acting_as(zhengzhou, Role.PROGRAMME_ADMIN, user_id=7).user_id == 7
