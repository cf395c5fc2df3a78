"""programmes_concerning: the one rule for which programmes a scope (or an org) deals with."""

import pytest
from django.utils import timezone

from edupilot.orgs.models import Membership, Role
from edupilot.orgs.scoping import Scope
from edupilot.programmes.selectors import open_programmes_covering, programmes_concerning
from tests.conftest import make_school, make_user, org

pytestmark = pytest.mark.django_db

HENAN, ZHEJIANG = "henan-tencent-2019", "zhejiang-smart-education-2019"
QUANZHOU = "quanzhou-smart-campus-2018"  # issued by a city


def scope_of(org_code: str, role: str) -> Scope:
    user = make_user(org(org_code), role)
    return Scope.for_membership(Membership.objects.get(user=user))


def codes(qs) -> set[str]:
    return set(qs.values_list("code", flat=True))


def test_a_school_is_concerned_by_the_calls_above_it_only(programmes):
    school = make_school(org("410105"), stages=",primary,")
    assert codes(programmes_concerning(school)) == {HENAN}
    user = make_user(school, Role.APPLICANT)
    scope = Scope.for_membership(Membership.objects.get(user=user))
    assert codes(programmes_concerning(scope)) == {HENAN}


def test_a_reviewer_sees_the_lineage_and_what_its_subtree_issued(programmes):
    fujian = scope_of("350000", Role.REVIEWER)  # Quanzhou's notice is issued below it
    assert QUANZHOU in codes(programmes_concerning(fujian))
    assert not programmes_concerning(fujian, lineage_only=True).exists()
    jinjiang = scope_of("350582", Role.REVIEWER)  # below Quanzhou: concerned by its notice
    assert codes(programmes_concerning(jinjiang)) == {QUANZHOU}
    zhengzhou = scope_of("410100", Role.PROGRAMME_ADMIN)
    assert codes(programmes_concerning(zhengzhou)) == {HENAN}
    assert ZHEJIANG not in codes(programmes_concerning(zhengzhou))


def test_experts_platform_and_anonymous(programmes):
    assert codes(programmes_concerning(scope_of("410300", Role.EXPERT))) == {HENAN}
    everything = programmes_concerning(scope_of("410000", Role.PLATFORM_ADMIN))
    assert {HENAN, ZHEJIANG, QUANZHOU} <= codes(everything)
    assert not programmes_concerning(Scope.anonymous()).exists()


def test_the_open_calls_covering_an_org_are_those_concerning_it_at_every_depth(programmes):
    """open_programmes_covering reads the lineage one path per argument (one compiled
    query per depth): the same calls, in the same order, as programmes_concerning."""
    now = timezone.now()
    orgs = [org(c) for c in ("410000", "410100", "410105", "350500", "350582", "330000")]
    orgs += [make_school(org("410105")), make_school(org("350582"))]
    for o in orgs:
        expected = [
            p.pk
            for p in programmes_concerning(o).filter(is_active=True, kind="call")
            if p.is_open(now)
        ]
        assert [p.pk for p in open_programmes_covering(o, now)] == expected, o.path
    assert {p.code for p in open_programmes_covering(orgs[-1], now)} == {QUANZHOU}
    assert {p.code for p in open_programmes_covering(orgs[-2], now)} == {HENAN}


def test_the_review_queues_compiled_read_gives_the_rules_active_calls(programmes):
    """The queue reads a reviewer's calls through SQL compiled once per depth of the tree
    (review.queue._calls_issued, with ``concerning_paths``): the same programmes, in the same
    order, as the rule's queryset, at every depth and for the other roles."""
    from edupilot.review.queue import review_programmes

    scopes = [
        scope_of("350000", Role.REVIEWER),
        scope_of("350500", Role.REVIEWER),
        scope_of("350582", Role.REVIEWER),
        scope_of("410000", Role.REVIEWER),
        scope_of("410100", Role.PROGRAMME_ADMIN),
        scope_of("410300", Role.EXPERT),
        scope_of("410000", Role.PLATFORM_ADMIN),
    ]
    for scope in scopes:
        expected = list(
            programmes_concerning(scope)
            .filter(is_active=True, kind="call")
            .order_by("-updated_at")
            .values_list("pk", flat=True)
        )
        assert [p.pk for p in review_programmes(scope)] == expected, scope
    assert any(review_programmes(s) for s in scopes[:4])
