"""core.prepared: a queryset compiled once per process gives, for every call's values, the
rows the ordinary queryset gives — and whatever else is done to it uses the call's values."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from edupilot.core.prepared import prepared
from edupilot.orgs.models import Membership, Org, OrgKind, Role
from tests.conftest import make_school, make_user, org

pytestmark = pytest.mark.django_db


@prepared
def _children(parent_id: int, kind: str):
    return (
        Org.objects.filter(parent_id=parent_id, kind=kind).select_related("parent").order_by("code")
    )


@prepared
def _names(parent_id: int):
    return Org.objects.filter(parent_id=parent_id).order_by("-code").values_list("code", "name")


@prepared
def _memberships(org_id: int, active: bool | None):
    return Membership.objects.filter(org_id=org_id, is_active=active).order_by("pk")


def _plain_children(parent_id, kind):
    return (
        Org.objects.filter(parent_id=parent_id, kind=kind).select_related("parent").order_by("code")
    )


def test_each_call_reads_its_own_values_rows(seeded):
    for code in ("410100", "410300", "411300"):
        city = org(code)
        got = list(_children(city.pk, OrgKind.COUNTY.value))
        assert got == list(_plain_children(city.pk, OrgKind.COUNTY.value))
        assert got and {o.parent_id for o in got} == {city.pk}
        # select_related filled as Django fills it: no query for the parent.
        assert got[0].parent.name == city.name
    assert list(_names(org("410100").pk)) == list(
        Org.objects.filter(parent=org("410100")).order_by("-code").values_list("code", "name")
    )
    assert list(_children(org("410100").pk, "no-such-kind")) == []
    # By keyword: the same values, the same SQL.
    city = org("410100")
    assert list(_children(kind=OrgKind.COUNTY.value, parent_id=city.pk)) == list(
        _children(city.pk, OrgKind.COUNTY.value)
    )


def test_compiled_once_then_only_run(seeded, compiles, django_assert_num_queries):
    city, other = org("410100"), org("410300")
    list(_children(city.pk, OrgKind.COUNTY.value))  # maybe the first compile in this process
    compiles.clear()
    with django_assert_num_queries(2):
        list(_children(other.pk, OrgKind.COUNTY.value))
        list(_children(city.pk, OrgKind.COUNTY.value))
    assert compiles == []


def test_anything_else_done_to_it_uses_the_calls_values(seeded):
    city = org("410100")
    counties = _plain_children(city.pk, OrgKind.COUNTY.value)
    assert _children(city.pk, OrgKind.COUNTY.value).count() == counties.count() > 1
    assert _children(city.pk, OrgKind.COUNTY.value).first() == counties.first()
    assert _children(city.pk, OrgKind.COUNTY.value).exists()
    last = counties.last()
    assert list(_children(city.pk, OrgKind.COUNTY.value).filter(pk=last.pk)) == [last]
    assert _children(city.pk, OrgKind.COUNTY.value).get(pk=last.pk) == last
    assert list(_children(city.pk, OrgKind.COUNTY.value)[1:2]) == list(counties[1:2])
    assert str(city.pk) in str(_children(city.pk, OrgKind.COUNTY.value).query)
    # Not the placeholders': a clone built from the template would find nothing.
    assert not _children(city.pk, "no-such-kind").exists()


def test_a_bool_or_none_argument_has_its_own_sql(seeded):
    school = make_school(org("410102"))
    on, off = make_user(school), make_user(school)
    Membership.objects.filter(user=off).update(is_active=False)
    assert [m.user for m in _memberships(school.pk, True)] == [on]
    assert [m.user for m in _memberships(school.pk, False)] == [off]
    assert list(_memberships(school.pk, None)) == []  # is_active IS NULL: none
    assert len({key[2] for key in _memberships.cache}) >= 2


def test_a_value_of_another_type_is_built_the_ordinary_way(seeded):
    city = org("410100")
    kind = OrgKind.COUNTY  # a str subclass: not prepared, still right
    assert list(_children(city.pk, kind)) == list(_plain_children(city.pk, kind))


def test_what_cannot_be_prepared_is_refused_at_the_first_call(seeded):
    @prepared
    def by_prefix(code: str):
        return Org.objects.filter(code__startswith=code)

    @prepared
    def unused(code: str):
        return Org.objects.filter(code="410100")

    @prepared
    def transformed(pk: int):
        return Org.objects.filter(depth=pk + 1)

    with pytest.raises(ImproperlyConfigured, match="transformed"):
        list(by_prefix("41"))
    with pytest.raises(ImproperlyConfigured, match="did not reach"):
        list(unused("41"))
    with pytest.raises(ImproperlyConfigured, match="transformed"):
        list(transformed(1))


def test_a_scope_reads_only_its_rows_through_a_prepared_lookup(seeded):
    """The same SQL for two users: each gets its own memberships, not the first caller's."""
    a, b = make_school(org("410102")), make_school(org("410303"))
    ua, ub = make_user(a, Role.APPLICANT), make_user(b, Role.APPLICANT)
    assert [m.user for m in _memberships(a.pk, True)] == [ua]
    assert [m.user for m in _memberships(b.pk, True)] == [ub]


@prepared
def _orgs_by_pk(*pks: int):
    return Org.objects.filter(pk__in=pks).order_by("code").values_list("code", flat=True)


def test_a_list_of_keys_as_positional_values_has_one_sql_per_length(seeded):
    """``*pks`` with ``__in``: each key is a value of its own (one SQL per number of keys),
    a repeated key reads its row once, as the ordinary ``__in`` does."""
    cities = list(Org.objects.filter(kind=OrgKind.CITY).order_by("code")[:4])
    for n in (1, 2, 4):
        pks = [c.pk for c in cities[:n]]
        assert list(_orgs_by_pk(*pks)) == [c.code for c in cities[:n]]
        assert list(_orgs_by_pk(*reversed(pks))) == [c.code for c in cities[:n]]
    assert list(_orgs_by_pk(cities[0].pk, cities[0].pk)) == [cities[0].code]
    assert list(_orgs_by_pk(cities[1].pk, -1)) == [cities[1].code]
    assert {len(key[2]) for key in _orgs_by_pk.cache} >= {1, 2, 4}
