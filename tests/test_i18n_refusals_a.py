"""Refusals in the user's language (review, applications, selection, accounts, api, core,
documents, dashboards, tokens).

A refusal raised by a service (``Refused`` and the other exceptions whose message a page or the
API shows as it is), a permission predicate's reason (``return False, "…"``, the reasons given
to ``first_refusal``), a flash message (``messages.<level>(request, "…")``) and a JSON error
body must go through gettext: a Chinese literal or f-string there reaches an English user in
Chinese. The walk below fails on any such literal, naming file and line; the behaviour tests
read one service refusal and one permission reason as an English user does.

The Chinese text stays the msgid, so Chinese pages read exactly as before.
"""

from __future__ import annotations

import ast
import gettext as gettext_module
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real

from edupilot.applications.services import can_withdraw
from edupilot.orgs.models import Role
from edupilot.selection.permissions import can_open_selection
from tests.applications.conftest import Who
from tests.conftest import make_user, org
from tests.test_i18n import switch_to_english

ROOT = Path(settings.BASE_DIR)
APPS = [
    "review",
    "applications",
    "selection",
    "accounts",
    "api",
    "core",
    "documents",
    "dashboards",
    "tokens",
]
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
# Exceptions outside the Refused family whose message is shown to the user as it is.
SHOWN = {"UploadRejected", "ScanRefused", "AdminRequestRefused", "SheetUnavailable"}
# Responses and Django's exceptions that carry a message to the page or the API client.
BODIES = {"JsonResponse", "Status", "PermissionDenied", "ValidationError"}


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "migrations" in parts or "demo" in path.stem:
                continue  # demo data are data
            yield path


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _refusal_classes() -> set[str]:
    """``Refused`` and every class below it anywhere in the project, by name."""
    bases: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(filter(None, map(_name, node.bases)))
    found = {"Refused"}
    while True:
        more = {c for c, bs in bases.items() if bs & found} - found
        if not more:
            return found | SHOWN
        found |= more


def _untranslated(node: ast.AST) -> list[ast.AST]:
    """Chinese string literals and f-strings inside ``node`` that no gettext call wraps."""
    out = []

    def visit(n, wrapped):
        if isinstance(n, ast.Call) and _name(n.func) in GETTEXT:
            wrapped = True
        literal = isinstance(n, ast.Constant) and isinstance(n.value, str)
        if not wrapped and literal and CJK.search(n.value):
            out.append(n)
        for child in ast.iter_child_nodes(n):
            visit(child, wrapped)

    visit(node, False)
    return out


def _messages_of(tree: ast.AST, refusals: set[str]):
    """(what, message expression) for every place a message reaches the user."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name in refusals or name in BODIES:
                yield name, node
            elif (
                isinstance(node.func, ast.Attribute)
                and _name(node.func.value) == "messages"
                and len(node.args) >= 2
            ):
                yield f"messages.{name}", node.args[1]
            elif name == "first_refusal":
                for arg in node.args[1:]:
                    if isinstance(arg, ast.Tuple) and len(arg.elts) == 2:
                        yield "first_refusal", arg.elts[1]
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
            elts = node.value.elts
            if len(elts) == 2 and isinstance(elts[0], ast.Constant) and elts[0].value is False:
                yield "return False", elts[1]


def test_refusals_and_reasons_go_through_gettext():
    refusals = _refusal_classes()
    assert {"ReviewError", "SelectionDenied", "ApplicationError"} <= refusals
    bad = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for what, expr in _messages_of(tree, refusals):
            for literal in _untranslated(expr):
                where = f"{path.relative_to(ROOT.parent)}:{literal.lineno}"
                bad.append(f"{where} {what}: {literal.value[:40]!r}")
    assert not bad, "Chinese messages not wrapped in gettext:\n" + "\n".join(sorted(set(bad)))


def test_the_walk_finds_what_it_looks_for():
    """The walk itself: each kind of untranslated message is caught, the wrapped ones are not."""
    source = """
def f(request, x):
    raise ReviewError(f"申报{x}不存在。")
    raise ReviewError(_("申报%(x)s不存在。") % {"x": x})
    messages.error(request, "请先选择。")
    messages.error(request, _("请先选择。"))
    first_refusal(who, (x, "已撤回。"), (x, _("已撤回。")))
    return JsonResponse({"message": "请先登录。"}, status=403)
    return Status(400, {"message": "草稿已保存。"})
def g():
    return False, "不能撤回。"
def h():
    return False, _("不能撤回。")
"""
    tree = ast.parse(source)
    found = [
        (what, lit.value)
        for what, expr in _messages_of(tree, {"ReviewError"})
        for lit in _untranslated(expr)
    ]
    assert sorted(found) == sorted(
        [
            ("ReviewError", "申报"),
            ("ReviewError", "不存在。"),
            ("messages.error", "请先选择。"),
            ("first_refusal", "已撤回。"),
            ("JsonResponse", "请先登录。"),
            ("Status", "草稿已保存。"),
            ("return False", "不能撤回。"),
        ]
    )


# --- read by an English user ---------------------------------------------------------------------

# The English of the messages read below, as handed to the catalogue with this change. Until
# the compiled catalogue holds them, they stand in as its fallback; afterwards the
# catalogue's own translation is read (the fallback is asked only for what it lacks).
ENGLISH = {
    "请先选择要推荐的申报。": "Select the applications to recommend first.",
    "只有项目管理员可以组织专家评审和审定。": (
        "Only programme admins can organise the expert review and the final decision."
    ),
    "只有已提交、尚未开始审核的申报可以撤回。": (
        "Only an application that has been submitted and whose review has not started "
        "can be withdrawn."
    ),
}


class _Pending(gettext_module.NullTranslations):
    def gettext(self, message):
        return ENGLISH.get(message, message)


@pytest.fixture
def english(monkeypatch):
    monkeypatch.setattr(trans_real.translation("en"), "_fallback", _Pending())


def _english(msgid: str) -> str:
    with translation.override("en"):
        text = translation.gettext(msgid)
    assert text != msgid and not CJK.search(text), text
    return text


@pytest.mark.django_db
def test_a_service_refusal_reads_in_english(client, english, seeded):
    """A reviewer who switched to English and recommends nothing is told why in English."""
    client.force_login(make_user(org("郑州市"), Role.REVIEWER))
    switch_to_english(client, next_url=reverse("review:queue"))
    response = client.post(reverse("review:bulk"), {"action": "recommend"}, follow=True)
    html = response.content.decode()
    assert _english("请先选择要推荐的申报。") in html
    assert "请先选择要推荐的申报。" not in html
    # Chinese users read what they read before.
    client.post(reverse("core:set_language"), {"language": "zh-hans", "next": "/"})
    response = client.post(reverse("review:bulk"), {"action": "recommend"}, follow=True)
    assert "请先选择要推荐的申报。" in response.content.decode()


@pytest.mark.django_db
def test_permission_reasons_read_in_english(english, seeded):
    reviewer = Who(org("郑州市"), Role.REVIEWER)
    with translation.override("en"):
        ok, reason = can_open_selection(reviewer.scope)
    assert not ok and reason == _english("只有项目管理员可以组织专家评审和审定。")

    draft = type("Draft", (), {"state": "draft", "current_step": None})()
    with translation.override("en"):
        ok, reason = can_withdraw(draft)
    assert not ok and reason == _english("只有已提交、尚未开始审核的申报可以撤回。")
    with translation.override("zh-hans"):
        assert can_withdraw(draft) == (False, "只有已提交、尚未开始审核的申报可以撤回。")


@pytest.mark.django_db
def test_an_upload_refusal_reads_in_english(english, seeded):
    """A message kept at module level (gettext_lazy) is worded in the language of the moment."""
    from edupilot.applications.files import REFUSALS

    ENGLISH["“%(name)s”没有任何页面。"] = "“%(name)s” has no pages."
    try:
        with translation.override("en"):
            assert REFUSALS["no_pages"] % {"name": "a.pdf"} == "“a.pdf” has no pages."
        with translation.override("zh-hans"):
            assert REFUSALS["no_pages"] % {"name": "a.pdf"} == "“a.pdf”没有任何页面。"
    finally:
        del ENGLISH["“%(name)s”没有任何页面。"]
