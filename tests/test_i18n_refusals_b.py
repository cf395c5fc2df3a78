"""Refusals in the user's language: certification, pilots, orgs and programmes.

A refusal (``Refused`` and its kin), a permission predicate's ``(False, reason)``, a page's
``messages.<level>(request, …)`` and an action's success message are read by whoever acts, in
the language they chose (POST /i18n/setlang/). Written as a Chinese literal, such a message
reaches an English user in Chinese; it goes through gettext instead, evaluated when the message
is made (``gettext``; ``gettext_lazy`` only at module level, never formatted there).

Walks the AST of every module of those apps (programme-file validation errors, demo data,
notifications, logs and operators' command output are other shapes and are not looked at), and
checks that the English translations handed to the catalogue cover every message marked here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import polib
import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real

ROOT = Path(__file__).resolve().parents[1]
EDUPILOT = ROOT / "edupilot"
APPS = ["certification", "pilots", "orgs", "programmes"]
PO = EDUPILOT / "locale" / "en" / "LC_MESSAGES" / "django.po"

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext"}
# Raised with a message the page or the API shows as it is (besides Refused's subclasses).
SHOWN_EXCEPTIONS = {
    "PermissionDenied",
    "ValidationError",
    "FileRefused",  # certification uploads
    "UnitError",  # orgs: functional zones and education groups
    "OrgChangedError",  # orgs: an edit that lost a race
    "TableInvalid",  # programmes: a participant list that cannot be read
}
MESSAGE_LEVELS = {"debug", "info", "success", "warning", "error"}


def app_modules() -> Iterator[Path]:
    for app in APPS:
        for path in sorted((EDUPILOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def refusal_classes() -> set[str]:
    """``Refused``, ``Denied`` and every class of the project derived from them (by name)."""
    bases: dict[str, set[str]] = {}
    for path in EDUPILOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
                )
    found = {"Refused", "Denied"}
    while True:
        more = {name for name, b in bases.items() if b & found} - found
        if not more:
            return found
        found |= more


def _name(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)


def _is_gettext(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _name(node) in GETTEXT


def untranslated(node: ast.AST) -> bool:
    """A Chinese literal or f-string in the message, not passed through gettext."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(CJK.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(untranslated(v) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return untranslated(node.left) or untranslated(node.right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return untranslated(node.left)  # the format: _("… %(x)s") % {...} is translated
    if isinstance(node, ast.IfExp):
        return untranslated(node.body) or untranslated(node.orelse)
    if isinstance(node, ast.Lambda):
        return untranslated(node.body)
    return False


def messages_of(tree: ast.AST, refusals: set[str]) -> Iterator[ast.AST]:
    """The message argument of every shape this file is about."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
            elts = node.value.elts
            if len(elts) == 2 and isinstance(elts[0], ast.Constant) and elts[0].value is False:
                yield elts[1]
        if not isinstance(node, ast.Call):
            continue
        name = _name(node)
        if name in refusals or name in SHOWN_EXCEPTIONS:
            yield from node.args[:1]
            if len(node.args) > 1 and isinstance(node.args[1], ast.Dict):  # field errors
                for v in node.args[1].values:
                    yield from (v.elts if isinstance(v, ast.List | ast.Tuple) else [v])
            yield from (k.value for k in node.keywords if k.arg == "message")
        f = node.func
        if (
            isinstance(f, ast.Attribute)
            and isinstance(f.value, ast.Name)
            and f.value.id == "messages"
            and f.attr in MESSAGE_LEVELS
            and len(node.args) > 1
        ):
            yield node.args[1]
        if name == "first_refusal":
            yield from (a.elts[1] for a in node.args[1:] if isinstance(a, ast.Tuple))
        if name in ("run_action", "object_action"):
            yield from (k.value for k in node.keywords if k.arg == "success")
        if name == "add_error" and len(node.args) > 1:
            yield node.args[1]


def problems_in(source: str, refusals: set[str], where: str = "<code>") -> list[str]:
    tree = ast.parse(source)
    out = [
        f"{where}:{m.lineno}: {ast.get_source_segment(source, m)}"
        for m in messages_of(tree, refusals)
        if untranslated(m)
    ]
    for node in ast.walk(tree):  # _() inside an f-string: the msgid would be the formatted text
        if isinstance(node, ast.JoinedStr) and any(
            _is_gettext(n) for v in node.values for n in ast.walk(v)
        ):
            out.append(f"{where}:{node.lineno}: gettext inside an f-string")
    return out


def import_time_gettext(source: str, where: str) -> list[str]:
    """``gettext`` (not lazy) called at module level: fixed in the language of the import."""
    if not re.search(r"^from django\.utils\.translation import gettext as _$", source, re.M):
        return []
    out = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return
        if isinstance(node, ast.Call) and _name(node) in ("_", "gettext"):
            out.append(f"{where}:{node.lineno}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return out


# --- the detector itself ------------------------------------------------------------------------


def test_the_check_finds_each_shape_and_passes_gettext():
    refusals = {"Refused", "Denied", "HonourError"}
    bad = """
def f(x, request):
    raise Refused("请填写理由")
    raise HonourError(f"第 {x} 名已授予")
    raise Refused(_("请选择"), {"rank": ["该名次已授予"]})
    return False, f"只有{x}可以办理"
    messages.error(request, "已保存" + x)
    first_refusal(OK, (x, "该异议已处理。"))
    run_action(request, x, success=lambda r: f"已退回{r}", back="/")
    msg = f"{_('已退回')}{x}"
"""
    found = problems_in(bad, refusals)
    assert sorted(int(p.split(":")[1]) for p in found) == [3, 4, 5, 6, 7, 8, 9, 10]

    good = """
def f(x, request):
    raise Refused(_("请填写理由"))
    raise HonourError(_("第 %(rank)s 名已授予") % {"rank": x}, {"rank": [_("该名次已授予")]})
    return False, _("只有%(who)s可以办理") % {"who": x}
    messages.error(request, _("已保存") + "；".join(x))
    first_refusal(OK, (x, _("该异议已处理。")))
    run_action(request, x, success=lambda r: _("已退回%(org)s") % {"org": r}, back="/")
    raise Refused(exc.message)
    return False, "" if x else reason
"""
    assert problems_in(good, refusals) == []
    assert import_time_gettext(
        'from django.utils.translation import gettext as _\nA = _("已保存")\n', "m"
    ) == ["m:2"]


# --- the apps -----------------------------------------------------------------------------------


def test_refusals_and_page_messages_go_through_gettext():
    refusals = refusal_classes()
    assert {"HonourError", "SubmissionError", "SelfAssessmentInvalid"} <= refusals
    found = []
    for path in app_modules():
        where = str(path.relative_to(ROOT))
        found += problems_in(path.read_text(encoding="utf-8"), refusals, where)
    assert found == [], "untranslated user-facing messages:\n" + "\n".join(found)


def test_no_gettext_at_import_time():
    found = []
    for path in app_modules():
        where = str(path.relative_to(ROOT))
        found += import_time_gettext(path.read_text(encoding="utf-8"), where)
    assert found == [], f"gettext at module level (use gettext_lazy): {found}"


# --- made in the language of the request ------------------------------------------------------


@pytest.fixture
def english(monkeypatch):
    """English with a marked translation of ``msgids`` (the real ones come with the catalogue
    the lead rebuilds): ``english("…")`` adds one; the text read back starts with "[en] "."""
    catalog = trans_real.translation("en")._catalog._catalogs[0]

    def add(*msgids: str) -> None:
        for msgid in msgids:
            monkeypatch.setitem(catalog, msgid, "[en] " + msgid)

    return add


def test_a_refusal_is_worded_when_raised_in_the_active_language(english):
    from edupilot.certification.files import FileRefused, evidence_type
    from edupilot.programmes.tables import TableInvalid, read_list_rows

    english("文件“%(filename)s”是空的", "文件是空的")
    with translation.override("en"):
        with pytest.raises(FileRefused, match=r"^\[en\] 文件“scan.pdf”是空的$"):
            evidence_type(b"", "scan.pdf")
        with pytest.raises(TableInvalid, match=r"^\[en\] 文件是空的$"):
            read_list_rows(b"\n", "list.csv")
    with pytest.raises(FileRefused, match=r"^文件“scan.pdf”是空的$"):
        evidence_type(b"", "scan.pdf")


def test_a_module_level_text_follows_the_language_of_each_use(english):
    """The self-assessment's score-sheet words are made at import: lazy, worded per use."""
    from decimal import Decimal

    from edupilot.certification.services.selfassess import SELF_WORDS
    from edupilot.core.inputs import read_points

    english("请为“{name}”自评打分（0–{max:f} 分）")
    items = [("d1", "基础设施", Decimal(10))]

    def refusal() -> str:
        _values, errors = read_points(
            items, {}, words=SELF_WORDS, places=Decimal("0.01"), complete=True
        )
        return errors["d1"][0]

    with translation.override("en"):
        assert refusal() == "[en] 请为“基础设施”自评打分（0–10 分）"
    assert refusal() == "请为“基础设施”自评打分（0–10 分）"


@pytest.mark.django_db
def test_an_english_user_reads_the_refusal_of_a_page_in_english(client, seeded, english):
    from tests.conftest import make_school, make_user, org

    reason = "只有项目管理员和平台管理员可以查看项目管理页面。"
    english(reason)
    applicant = make_user(make_school(org("金水区"), name="郑州市金水区语言测试小学"))
    client.force_login(applicant)
    assert reason in client.get(reverse("programmes:list")).content.decode()

    client.post(reverse("core:set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("programmes:list"))
    assert response.status_code == 403
    assert "[en] " + reason in response.content.decode()


# --- the English in the catalogue ---------------------------------------------------------------


def _app_msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in app_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if _is_gettext(node) and node.args and isinstance(node.args[0], ast.Constant):
                found.setdefault(node.args[0].value, str(path.relative_to(ROOT)))
    return found


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+(?::\w+)?\}")


def test_every_refusal_of_these_apps_has_its_english_in_the_catalogue():
    """Each message these apps mark has an English text in django.po, with the same
    placeholders, and no Chinese but what the user must type (a file's column names, quoted)."""
    english = {e.msgid: e.msgstr for e in polib.pofile(str(PO)) if not e.msgctxt}
    in_code = _app_msgids()
    assert in_code
    missing = {m: where for m, where in in_code.items() if not english.get(m)}
    assert missing == {}, "marked for translation, no English in django.po"
    for msgid in in_code:
        text = english[msgid]
        assert not re.search(r"[\u4e00-\u9fff]", re.sub("“[^”]*”", "", text)), msgid
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), msgid
