"""core.prepared keeps a compiled query's row converters per connection: each evaluation
after the first converts its rows (dates, booleans, JSON) exactly as Django does, without
working the converters out again."""

from __future__ import annotations

import pytest
from django.db.models.sql import compiler

from edupilot.core.prepared import prepared
from edupilot.orgs.models import Membership, Org
from tests.conftest import make_school, make_user, org

pytestmark = pytest.mark.django_db


@prepared
def _schools(parent_id: int):
    return Org.objects.filter(parent_id=parent_id).order_by("code")


@prepared
def _memberships(org_id: int):
    return Membership.objects.filter(org_id=org_id).select_related("user", "org").order_by("pk")


def _plain(qs):
    return [(o.pk, *(getattr(o, f.attname) for f in o._meta.concrete_fields)) for o in qs]


@pytest.fixture
def worked_out(monkeypatch):
    """How many times Django works out a row's converters."""
    seen = []
    original = compiler.SQLCompiler.get_converters

    def counted(self, expressions):
        seen.append(len(expressions))
        return original(self, expressions)

    monkeypatch.setattr(compiler.SQLCompiler, "get_converters", counted)
    return seen


def test_rows_are_converted_as_django_does_every_time(seeded, worked_out):
    county = org("金水区")
    make_school(county, extra={"note": "x"})
    user = make_user(county)
    for _ in range(3):
        assert _plain(_schools(county.pk)) == _plain(
            Org.objects.filter(parent=county).order_by("code")
        )
        got = list(_memberships(county.pk))
        assert [(m.user.date_joined, m.user.is_active, m.org.extra) for m in got] == [
            (user.date_joined, True, county.extra)
        ]
    other = org("二七区")
    worked_out.clear()
    list(_schools(county.pk))
    list(_memberships(other.pk))
    assert worked_out == []  # kept from the first evaluations
    # Anything else done to it is an ordinary query, converters and all.
    assert _schools(county.pk).filter(is_active=True).count() >= 1
