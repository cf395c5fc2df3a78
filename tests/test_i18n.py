"""English as the second language: the switch, the key pages in both languages, and the
catalogue itself (complete, not fuzzy, compiled .mo equal to the .po, no source string missing).

The language is switched the way a person does it: a POST to the top bar's /i18n/setlang/,
after which the test client sends the language cookie Django set.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template import Context, Template
from django.template.base import Lexer, TokenType
from django.urls import reverse
from django.utils import translation

from edupilot.orgs.models import Role
from edupilot.selection import announcements as ann
from edupilot.selection import approval
from tests.applications.conftest import Who
from tests.conftest import make_school, make_user, org
from tests.review.conftest import load, submit_as
from tests.selection.test_experts_support import henan_school, load_henan, who

LOCALE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PO = LOCALE / "django.po"
MO = LOCALE / "django.mo"


def switch_to_english(client, next_url: str = "/") -> None:
    response = client.post(reverse("core:set_language"), {"language": "en", "next": next_url})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def assert_english(html: str, present: list[str], absent: list[str]) -> None:
    assert '<html lang="en">' in html
    for s in present:
        assert s in html, f"missing English text: {s!r}"
    for s in absent:
        assert s not in html, f"Chinese text left untranslated: {s!r}"


# Chrome of every page (base.html), in both languages.
BASE_EN = ["Sign out", "Notifications", "Server time (Beijing time)", ">中文</button>"]
BASE_ZH = ["退出", "通知", "服务器时间（北京时间）", ">English</button>"]


# --- the switch and the default ----------------------------------------------------------------


@pytest.mark.django_db
def test_default_is_chinese_without_cookie(client):
    html = text_of(client.get(reverse("accounts:login")))
    assert '<html lang="zh-CN">' in html
    for s in ["登录 EduPilot", "用户名", "密码", "连续多次输入错误密码后账号将被暂时锁定"]:
        assert s in html
    assert "Sign in" not in html
    assert "User name" not in html


@pytest.mark.django_db
def test_an_english_browser_still_gets_chinese_until_the_user_switches(client):
    html = text_of(client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9"))
    assert '<html lang="zh-CN">' in html and "登录 EduPilot" in html


@pytest.mark.django_db
def test_login_page_in_english_after_the_switch(client):
    switch_to_english(client, next_url=reverse("accounts:login"))
    html = text_of(client.get(reverse("accounts:login")))
    assert_english(
        html,
        present=["Sign in to EduPilot", "User name", "Password", "Repeated wrong passwords"],
        absent=["登录 EduPilot", "用户名", "密码", "连续多次输入错误密码"],
    )


@pytest.mark.django_db
def test_switching_back_to_chinese(client):
    switch_to_english(client)
    response = client.post(reverse("core:set_language"), {"language": "zh-hans", "next": "/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    html = text_of(client.get(reverse("accounts:login")))
    assert '<html lang="zh-CN">' in html
    assert "登录 EduPilot" in html


# --- an applicant, a reviewer, the public ------------------------------------------------------


@pytest.fixture
def henan(seeded):
    return load("henan-tencent-smart-campus-2019.toml")


@pytest.mark.django_db
def test_applicant_home_in_english_and_in_chinese(client, henan):
    school = make_school(org("金水区"), name="郑州市金水区双语测试小学")
    user = make_user(school, Role.APPLICANT)
    client.force_login(user)

    zh = text_of(client.get(reverse("applications:home")))
    for s in ["我的申报", "可申报的项目", "开始申报", *BASE_ZH]:
        assert s in zh

    switch_to_english(client, next_url=reverse("applications:home"))
    en = text_of(client.get(reverse("applications:home")))
    assert_english(
        en,
        present=["My applications", "Open programmes", "Start application", *BASE_EN],
        absent=["我的申报", "可申报的项目", "开始申报", "尚未发起任何申报", *BASE_ZH[:3]],
    )
    # Data stay as typed: the school's and the programme's names are not translated.
    assert "郑州市金水区双语测试小学" in en
    assert henan.title in en


@pytest.mark.django_db
def test_reviewer_queue_in_english(client, henan):
    applicant = Who(make_school(org("金水区"), name="郑州市金水区队列双语小学"))
    submit_as(applicant, henan, "school")
    reviewer = make_user(org("郑州市"), Role.REVIEWER)
    client.force_login(reviewer)
    switch_to_english(client, next_url=reverse("review:queue"))

    en = text_of(client.get(reverse("review:queue")))
    assert_english(
        en,
        present=[
            "Review and recommendation",
            "Recommendation quota",
            "Quota level",
            "Recommend selected (within quota)",
            "郑州市金水区队列双语小学",
            "Waiting at this level",  # the scope filter's options
            "In the area: Under review",
            "Submitted (earliest first)",  # and the sort's
        ],
        absent=[
            "审核推荐",
            "推荐名额",
            "名额层级",
            "推荐所选（在名额内）",
            "批量操作",
            "退出",
            "待本级审核",
            "辖区内：",
            "提交时间",
        ],  # fmt: skip
    )


@pytest.fixture
def announcement(seeded):
    henan = load_henan()
    issuer = who("410000", Role.PROGRAMME_ADMIN)
    a1 = henan_school(henan, parent="金水区", name="郑州市金水区公示双语小学")
    approval.selection_decide(
        applications=[a1],
        outcome="approve",
        opinion="同意立项",
        scope=issuer.scope,
        actor=issuer.actor,
    )
    return ann.announcement_publish(programme=henan, scope=issuer.scope, actor=issuer.actor)


@pytest.mark.django_db
def test_public_announcement_in_both_languages(client, announcement):
    url = reverse("selection_public:detail", args=[announcement.pk])

    zh = text_of(client.get(url))
    assert '<html lang="zh-CN">' in zh
    for s in ["公示期", "<h2>拟立项名单</h2>", "单位名称", "下载名单（PDF）", "如对名单有异议"]:
        assert s in zh

    switch_to_english(client, next_url=url)
    en = text_of(client.get(url))
    assert_english(
        en,
        present=[
            "Objection period",
            "<h2>Proposed pilots</h2>",
            "Any objection to the list should be made in writing",
            "Unit name",
            "Download the list (PDF)",
            "郑州市金水区公示双语小学",
        ],
        absent=["公示期", "<h2>拟立项名单</h2>", "单位名称", "下载名单（PDF）", "如对名单有异议"],
    )


# --- the catalogue ------------------------------------------------------------------------------


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


def test_catalogue_is_complete_and_not_fuzzy():
    po = polib.pofile(str(PO))
    assert len(po) > 1000
    assert not po.metadata_is_fuzzy
    assert po.fuzzy_entries() == []
    assert po.untranslated_entries() == []
    assert "nplurals=2" in po.metadata["Plural-Forms"]
    for e in po:
        outs = list(e.msgstr_plural.values()) if e.msgid_plural else [e.msgstr]
        for out in outs:
            assert out.strip(), e.msgid
            # The same placeholders, or the translated text fails when it is formatted.
            assert set(PLACEHOLDER.findall(out)) == set(PLACEHOLDER.findall(e.msgid)), e.msgid


def test_english_counts_take_the_plural_chinese_does_not_mark():
    template = Template(
        "{% load i18n %}{% blocktrans count n=k %}{{ n }} 个类别{% plural %}{{ n }} 个类别"
        "{% endblocktrans %}{% trans '、' %}{{ d|date:_('Y年n月') }}"
    )

    def render(k, lang):
        with translation.override(lang):
            return template.render(Context({"k": k, "d": dt.date(2024, 5, 1)}))

    assert render(1, "en") == "1 category, May 2024"
    assert render(3, "en") == "3 categories, May 2024"
    assert render(1, "zh-hans") == "1 个类别、2024年5月"


def test_compiled_catalogue_matches_the_po():
    """CI has no msgfmt: the .mo in the repository must be the compiled current .po."""

    def entries(catalogue):
        out = {}
        for e in catalogue:
            if not e.msgid or e.obsolete:
                continue
            key = (e.msgctxt, e.msgid, e.msgid_plural)
            out[key] = tuple(sorted(e.msgstr_plural.items())) if e.msgid_plural else e.msgstr
        return out

    po, mo = entries(polib.pofile(str(PO))), entries(polib.mofile(str(MO)))
    stale = sorted(k[1] for k in po.keys() ^ mo.keys())
    changed = sorted(k[1] for k in po.keys() & mo.keys() if po[k] != mo[k])
    assert not stale and not changed, (
        "django.mo is out of date with django.po; run "
        "`python manage.py compilemessages -l en --ignore '.venv/*'` "
        f"(differs: {(stale + changed)[:5]})"
    )


def _template_msgids(path: Path) -> set[str]:
    """Literal {% trans "…" %} strings and _("…") filter arguments of one template."""
    found = set()
    for token in Lexer(path.read_text(encoding="utf-8")).tokenize():
        if token.token_type == TokenType.BLOCK:
            m = re.match(r"""(?:trans|translate)\s+(["'])(.*?)\1""", token.contents)
            if m:
                found.add(m.group(2))
        if token.token_type in (TokenType.BLOCK, TokenType.VAR):
            found.update(q for _, q in re.findall(r"""_\((["'])(.*?)\1\)""", token.contents))
    return found


_GETTEXT = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
}


def _python_msgids(path: Path) -> set[str]:
    """First literal argument of every gettext call (msgid for _/gettext, msgid after context)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
        if name not in _GETTEXT or not node.args:
            continue
        arg = node.args[1] if name.startswith("pgettext") and len(node.args) > 1 else node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.add(arg.value)
    return found


def test_every_marked_source_string_is_in_the_catalogue():
    """A string marked for translation but missing here would show in Chinese in English mode.

    Checks the literal trans tags and gettext calls (blocktrans bodies need makemessages);
    when this fails, update the catalogue as docs/i18n.md says.
    """
    catalogue = {e.msgid for e in polib.pofile(str(PO))}
    root = Path(settings.BASE_DIR)
    missing = {}
    for path in sorted(root.rglob("*")):
        if "locale" in path.parts or "migrations" in path.parts:
            continue
        if path.suffix in (".html", ".txt") and "templates" in path.parts:
            ids = _template_msgids(path)
        elif path.suffix == ".py":
            ids = _python_msgids(path)
        else:
            continue
        for msgid in ids - catalogue:
            missing.setdefault(msgid, str(path.relative_to(root.parent)))
    assert not missing, (
        f"{len(missing)} strings missing from {PO.name}: {list(missing.items())[:10]}"
    )


def test_token_lifetimes_in_english(client, seeded):
    """The API token form's lifetimes are worded per request, not once at import in Chinese."""
    reviewer = make_user(org("郑州市"), Role.REVIEWER)
    client.force_login(reviewer)
    switch_to_english(client, next_url=reverse("tokens:list"))
    en = text_of(client.get(reverse("tokens:list")))
    assert_english(en, present=["90 days", "365 days"], absent=["90 天"])
