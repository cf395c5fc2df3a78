"""The AST guard behind the rule "every state change goes through a transition table".

Used by ``tests/core/test_workflow_guard.py`` (the whole tree) and certification's own test.
"""

from __future__ import annotations

import ast

CREATES = ("create", "get_or_create", "update_or_create")


def _state_changes(tree: ast.AST) -> list[tuple[int, str]]:
    """Where code changes a ``state`` other than through a table: an assignment to
    ``.state``, ``setattr(…, "state", …)``, ``update(state=…)``, or a new row whose
    ``state=`` is not ``WORKFLOW.initial(…)``. Filters (``filter(state=…)``, ``Q``) read."""
    found = []

    def targets(node):
        if isinstance(node, ast.Tuple | ast.List):
            for elt in node.elts:
                yield from targets(elt)
        else:
            yield node

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                for t in targets(target):
                    if isinstance(t, ast.Attribute) and t.attr == "state":
                        found.append((node.lineno, "assigns .state"))
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        args = node.args
        if fname == "setattr" and len(args) > 1 and getattr(args[1], "value", None) == "state":
            found.append((node.lineno, "setattr(…, 'state')"))
        for kw in node.keywords:
            if kw.arg != "state":
                continue
            if fname in ("update", "bulk_update"):
                found.append((node.lineno, f"{fname}(state=…)"))
            elif fname in CREATES or fname[:1].isupper() and fname != "Q":
                value = kw.value
                initial = (
                    isinstance(value, ast.Call)
                    and isinstance(value.func, ast.Attribute)
                    and value.func.attr == "initial"
                )
                if not initial:
                    found.append((node.lineno, f"{fname}(state=…) without WORKFLOW.initial"))
    return found
