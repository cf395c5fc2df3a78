"""Every lifecycle is one transition table, and no code changes a state any other way.

The tables (``<app>/workflows.py``) resolve: each row's service and permission exist, each
state is reached and something creates the object. An assignment to ``.state``, an
``update(state=…)`` or a new row in a state not from ``Workflow.initial`` anywhere in
``edupilot/`` fails here, naming file and line. ``docs/architecture.md`` shows each table as
a Mermaid diagram generated from it (``edupilot workflows``); a stale diagram fails too.
"""

from __future__ import annotations

import ast
import io
from importlib import import_module
from pathlib import Path

import pytest
from django.core.management import call_command

from edupilot.core.workflow import NEW, all_workflows
from tests.workflow_guard import _state_changes

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "edupilot"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

# (file, line text) pairs the guard may ignore, each with why.
NOT_A_LIFECYCLE = {
    ("review/queue.py", "filters.state = PENDING"): "the queue's tab filter, not a row's state",
}

EXPECTED = {
    "application",
    "announcement",
    "objection",
    "admin_request",
    "job",
    "certification.batch",
    "certification.entry",
    "certification.correction",
    "certification.visit",
    "certification.import",
}


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(import_module(module), name)


def test_every_lifecycle_has_a_table():
    assert {w.name for w in all_workflows()} >= EXPECTED


@pytest.mark.parametrize("wf", all_workflows(), ids=lambda w: w.name)
def test_each_table_resolves(wf):
    assert wf.model._meta.get_field(wf.field).choices
    reached = set()
    for t in wf.transitions:
        assert callable(_resolve(t.service)), t.service
        if t.permission is not None:
            assert _resolve(t.permission).__name__.startswith("can_"), t.permission
        assert str(t.who) and str(t.label)
        reached.update(s for s in (*t.source, *t.target) if s != NEW)
    assert reached == {str(s) for s in wf.states}, (wf.name, {str(s) for s in wf.states} - reached)
    assert any(NEW in t.source for t in wf.transitions), f"{wf.name}: nothing creates it"


def test_no_state_changes_outside_the_tables():
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts or path.name == "workflow.py":
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        rel = str(path.relative_to(PACKAGE))
        for n, what in _state_changes(ast.parse(text, filename=str(path))):
            if (rel, lines[n - 1].strip()) not in NOT_A_LIFECYCLE:
                offences.append(f"edupilot/{rel}:{n}: {what}")
    assert offences == [], "state changes outside a transition table:\n" + "\n".join(offences)


def test_the_engine_refuses_a_move_the_table_does_not_have(db):
    from edupilot.applications.models import Application, AppState
    from edupilot.applications.workflows import APPLICATION
    from edupilot.core.errors import Refused

    app = Application(state=AppState.DRAFT)
    with pytest.raises(Refused, match="当前状态为“草稿”，不能推荐"):
        APPLICATION.advance(app, "recommend")
    assert app.state == AppState.DRAFT
    assert APPLICATION.advance(app, "submit") == ["state"] and app.state == AppState.SUBMITTED


def test_the_architecture_page_shows_the_tables_as_they_are():
    out = io.StringIO()
    call_command("workflows", stdout=out)  # rendered in Chinese, as on the page
    generated = out.getvalue().strip()
    page = ARCHITECTURE.read_text(encoding="utf-8")
    begin, end = "<!-- workflows:begin -->", "<!-- workflows:end -->"
    assert begin in page and end in page, "docs/architecture.md lost its workflow markers"
    current = page.split(begin, 1)[1].split(end, 1)[0].strip()
    assert current == generated, (
        "docs/architecture.md shows stale lifecycle diagrams: run "
        "`edupilot workflows --write` and commit the page"
    )
