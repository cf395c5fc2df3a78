"""orgs.scoping.scoped: a model's wider visibility that reaches no row for this scope
(``Q(pk__in=[])``: an applicant's, a region's without folds) is left out of the filter —
the same rows, less to compile on every read — and a real one is still OR-ed in."""

from django.db.models import Q

from edupilot.applications.models import Application
from edupilot.orgs.models import Membership, Role
from edupilot.orgs.scoping import Scope, scoped
from tests.conftest import make_school, make_user, org


def _lookups(node):
    for child in node.children:
        if hasattr(child, "children"):
            yield from _lookups(child)
        else:
            yield child


def _scope(o, role):
    return Scope.for_membership(Membership.objects.get(user=make_user(o, role)))


def test_an_empty_wider_visibility_is_not_compiled(seeded, monkeypatch):
    school = make_school(org("410102"))
    applicant = _scope(school, Role.APPLICANT)
    qs = scoped(Application.objects.all(), applicant, org_field="applicant_org")
    plain = Application.objects.filter(applicant_org__pk=school.pk)
    assert str(qs.query) == str(plain.query)
    # Not only the same SQL: no empty IN left for Django to compile and drop on every read.
    assert not [lk for lk in _lookups(qs.query.where) if getattr(lk, "rhs", None) == []]

    unit_scope = _scope(org("410100"), Role.REVIEWER)
    wider = Q(current_org_id=-1)
    monkeypatch.setattr(Application, "scope_extra_q", staticmethod(lambda scope, **kw: wider))
    qs = scoped(Application.objects.all(), unit_scope, org_field="applicant_org")
    assert '"current_org_id" = -1' in str(qs.query)
