"""A static guard (Zulip's rule): views and API modules do not query org-owned models directly.

Every read of an org's data from a request goes through a selector that filters by the
scope (orgs.scoping.scoped / access), so there is no unscoped path from a URL to a row. This
test reads the source of every ``views.py``, ``views_*.py``, ``*_views.py``, ``api.py`` and
module of a ``views/`` package under edupilot/ and fails on ``<Model>.objects…`` or
``get_object_or_404(<Model>, …)`` of an org-owned model — one with a ForeignKey to orgs.Org,
directly or through such a model (an application's attachments, a batch's entries). A
query wrapped right in ``scoped(…)`` or ``access(…)`` is scoped and passes.

A violation that cannot be fixed at once is listed in ``ALLOWED`` with the reason; a listed
one that disappears fails too, so the list only shrinks.
"""

from __future__ import annotations

import ast
import importlib
from functools import cache
from pathlib import Path

from django.apps import apps
from django.db import models

import edupilot

ROOT = Path(edupilot.__file__).resolve().parent
SCOPING_CALLS = {"scoped", "access"}
FETCH_SHORTCUTS = {"get_object_or_404", "get_list_or_404"}

# (module under edupilot/, function, model) -> why it stays. Fix one: delete its line. Empty:
# every view and API module reads org-owned rows through its app's selectors.
ALLOWED: dict[tuple[str, str, str], str] = {}


@cache
def org_owned() -> frozenset[type[models.Model]]:
    """Models with a ForeignKey to orgs.Org, directly or through another org-owned model."""
    org = apps.get_model("orgs", "Org")
    owned = {org}
    changed = True
    while changed:
        changed = False
        for model in apps.get_models():
            if model in owned:
                continue
            for f in model._meta.get_fields():
                if f.many_to_one and f.concrete and f.related_model in owned:
                    owned.add(model)
                    changed = True
                    break
    return frozenset(owned)


def guarded_modules() -> list[Path]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        name = path.name
        if "migrations" in path.parts:
            continue
        if (
            name in ("views.py", "api.py")
            or name.startswith("views_")
            or name.endswith("_views.py")
            or path.parent.name == "views"  # a views package (certification/views/)
        ):
            out.append(path)
    return out


def _imported_names(tree: ast.AST, package: str) -> dict[str, object]:
    """Names bound by ``from … import …`` anywhere in the module, resolved to objects."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            try:
                module = importlib.import_module(base)
            except ImportError:
                continue
            for alias in node.names:
                obj = getattr(module, alias.name, None)
                if obj is None:
                    try:
                        obj = importlib.import_module(f"{base}.{alias.name}")
                    except ImportError:
                        continue
                out[alias.asname or alias.name] = obj
    return out


def _model_of(node: ast.AST, names: dict[str, object]):
    """The model class an expression names (``Org`` or ``models.Org``), if it is one."""
    if isinstance(node, ast.Name):
        obj = names.get(node.id)
    elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        obj = getattr(names.get(node.value.id), node.attr, None)
    else:
        return None
    if isinstance(obj, type) and issubclass(obj, models.Model):
        return obj
    return None


def violations(path: Path) -> list[tuple[int, str, str]]:
    """(line, enclosing function, model) of each direct query of an org-owned model."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(ROOT.parent).with_suffix("")
    package = ".".join(rel.parts[:-1])
    names = _imported_names(tree, package)
    owned = org_owned()
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node

    def function_of(node: ast.AST) -> str:
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node.name
        return "<module>"

    def inside_scoping(node: ast.AST) -> bool:
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
                if name in SCOPING_CALLS:
                    return True
        return False

    found = []
    for node in ast.walk(tree):
        model = None
        if isinstance(node, ast.Attribute) and node.attr in ("objects", "_default_manager"):
            model = _model_of(node.value, names)
        elif isinstance(node, ast.Call) and node.args:
            f = node.func
            fname = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
            if fname in FETCH_SHORTCUTS:
                model = _model_of(node.args[0], names)
        if model is not None and model in owned and not inside_scoping(node):
            found.append((node.lineno, function_of(node), model.__name__))
    return found


def test_views_and_api_do_not_query_org_owned_models_directly():
    seen, problems = set(), []
    for path in guarded_modules():
        rel = str(path.relative_to(ROOT))
        for lineno, function, model in violations(path):
            seen.add((rel, function, model))
            if (rel, function, model) not in ALLOWED:
                problems.append(
                    f"edupilot/{rel}:{lineno} ({function}): {model} queried directly; "
                    "read it through a selector (scoped/access) in the app's selectors.py"
                )
    assert not problems, "\n".join(problems)
    gone = sorted(set(ALLOWED) - seen)
    assert not gone, f"fixed, remove from ALLOWED: {gone}"


def test_the_guard_sees_what_it_should():
    names = {m.__name__ for m in org_owned()}
    # direct, through an application, through a batch's entry, and the tree itself
    assert {"Org", "Application", "Attachment", "Entry", "Evidence", "Programme"} <= names
    assert "User" not in names and "Blob" not in names
    modules = {str(p.relative_to(ROOT)) for p in guarded_modules()}
    assert {"orgs/views.py", "selection/views.py", "selection/views_experts.py"} <= modules
    assert {"programmes/api.py", "certification/views/batches.py"} <= modules
    assert "core/jobs_views.py" in modules
