"""Certification's transition tables: they resolve, they are the only way a state changes,
and the pages' buttons come from them."""

from __future__ import annotations

import ast
from importlib import import_module
from pathlib import Path

import pytest
from django.urls import reverse

from edupilot.certification import permissions, selectors, services, workflows
from edupilot.certification.models import BatchState, EntryState
from edupilot.core.workflow import NEW
from tests.workflow_guard import _state_changes

from .conftest import acting, scope_for

PACKAGE = Path(workflows.__file__).resolve().parent


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(import_module(module), name)


@pytest.mark.parametrize("wf", workflows.WORKFLOWS, ids=lambda w: w.name)
def test_each_table_resolves(wf):
    assert wf.model._meta.get_field(wf.field).choices
    states = {str(s) for s in wf.states}
    reached = set()
    for t in wf.transitions:
        assert callable(_resolve(t.service)), t.service
        assert t.service.startswith("edupilot.certification.services.")
        if t.permission is not None:
            predicate = _resolve(t.permission)
            assert predicate.__name__.startswith("can_"), t.permission
            # The command line (no scope) may do everything.
            assert predicate.__module__ == permissions.__name__
        if t.url is not None:
            assert reverse(t.url, args=[1])
        assert str(t.who) and str(t.label)
        reached.update(s for s in (*t.source, *t.target) if s != NEW)
    # Every state is reached by some row, and something creates the object.
    assert reached == states, (wf.name, states - reached)
    assert any(NEW in t.source for t in wf.transitions), wf.name
    diagram = wf.mermaid()
    assert diagram.startswith("stateDiagram-v2")
    assert all(f": {t.name}" in diagram for t in wf.transitions)


def test_tables_are_registered_once():
    from edupilot.core.workflow import all_workflows

    names = {w.name for w in all_workflows()}
    assert {w.name for w in workflows.WORKFLOWS} <= names


def test_every_predicate_follows_the_convention():
    for name in dir(permissions):
        if name.startswith("can_"):
            fn = getattr(permissions, name)
            params = list(fn.__code__.co_varnames[: fn.__code__.co_argcount])
            assert params[0] == "scope" and len(params) == 2, name


# --- no state changes but through the tables -----------------------------------------------------


def test_no_state_changes_outside_the_tables():
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offences += [f"{path.relative_to(PACKAGE)}:{n}: {what}" for n, what in _state_changes(tree)]
    assert offences == []


def test_the_guard_sees_what_it_should():
    code = """
batch.state = "frozen"
entry.state, entry.x = EntryState.FILED, 1
Entry.objects.filter(pk=1).update(state="filed")
Correction.objects.create(entry=e, state="pending")
Entry(batch=b, state=EntryState.QUEUED)
setattr(visit, "state", "done")
Entry(batch=b, state=ENTRY.initial("enrol"))
Entry.objects.filter(state="queued").exclude(state="filed")
Entry.objects.filter(Q(state="queued"))
"""
    assert [n for n, _ in _state_changes(ast.parse(code))] == [2, 3, 4, 5, 6, 7]


# --- the buttons ----------------------------------------------------------------------------------


def _names(actions):
    return [(a.name, a.allowed) for a in actions]


def test_batch_buttons_follow_the_state_and_say_why_not(hz):
    admin = scope_for(hz.city_admin, hz.city)
    page = selectors.batch_page(admin, hz.batch)
    assert _names(page["manage_actions"]) == [("sync", True), ("freeze", True)]
    # A district's reviewer sees the owner's buttons greyed, with who may press them.
    district = selectors.batch_page(scope_for(hz.xihu_reviewer, hz.xihu), hz.batch)
    assert [a.allowed for a in district["manage_actions"]] == [False, False]
    assert "只有杭州市的项目管理员" in district["manage_actions"][1].reason
    assert district["adopt_action"] is not None and not district["adopt_action"].allowed
    xihu_admin = selectors.batch_page(scope_for(hz.xihu_admin, hz.xihu), hz.batch)
    assert xihu_admin["adopt_action"].allowed
    assert admin and page["adopt_action"] is None  # the owner adopts nothing

    services.batch_freeze(batch=hz.batch, **acting(hz.city_admin, hz.city))
    hz.batch.refresh_from_db()
    page = selectors.batch_page(admin, hz.batch)
    assert _names(page["manage_actions"]) == [("publish", True)]
    assert page["import_action"] is None and page["data_actions"] == []
    assert selectors.batch_page(scope_for(hz.xihu_admin, hz.xihu), hz.batch)["adopt_action"] is None


def test_reassessing_a_frozen_batch_is_refused_by_the_table(hz):
    services.batch_freeze(batch=hz.batch, **acting(hz.city_admin, hz.city))
    with pytest.raises(services.Refused, match="不能重新评估"):
        services.batch_assess(batch=hz.batch, **acting(hz.city_admin, hz.city))


def test_entry_buttons(hz, client):
    entry = hz.entry(hz.xh_primary)
    mine = selectors.entry_page(scope_for(hz.xihu_reviewer, hz.xihu), entry)
    assert mine["decide_action"].allowed
    assert mine["visit_actions"]["assign"].allowed
    city = selectors.entry_page(scope_for(hz.city_reviewer, hz.city), entry)
    assert not city["decide_action"].allowed and "由西湖区认定" in city["decide_action"].reason
    school = selectors.entry_page(scope_for(hz.xh_school_user, hz.xh_primary), entry)
    # A school sees only what it may do: file a correction, not decide.
    assert school["decide_action"] is None and school["visit_actions"] == {}
    assert school["file_correction"].allowed

    client.force_login(hz.city_reviewer)
    page = client.get(reverse("certification:entry_detail", args=[entry.pk])).content.decode()
    assert 'title="西湖区第一小学由西湖区认定，您无权认定"' in page and "disabled" in page

    # An exempt school has nothing to decide.
    exempt = selectors.entry_page(scope_for(hz.city_reviewer, hz.city), hz.entry(hz.cd_exempt))
    assert exempt["decide_action"] is None and exempt["visit_actions"] == {}
    assert hz.entry(hz.cd_exempt).state == EntryState.EXEMPT
    assert hz.batch.state == BatchState.OPEN
