"""Labels built in Python go through gettext: each is Chinese by default and English on an
English page (docs/i18n.md, "Known gaps").

The Chinese checks pin the default output. The English checks need the compiled catalogue:
until it holds a label's msgid they skip, naming the msgids that are missing (gettext
returns the msgid unchanged under ``override("en")``). Data (org, group, class and stage
names from programme files) is written in ASCII here, so that any CJK character left in an
English output is a label that was not translated.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import translation
from django.utils.translation import gettext

from edupilot.applications.presenters import display_value, version_diff
from edupilot.certification.models import Standard
from edupilot.dashboards.tables import UNLIMITED, Table
from edupilot.pilots import periods
from edupilot.programmes import quotas as q
from edupilot.programmes import schema
from edupilot.review import sets as review_sets
from edupilot.review.selectors import chain_view
from edupilot.selection.board import QuotaUseLine
from edupilot.selection.scoring import ScoreLine, _grade_line

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def english_or_skip(*msgids: str) -> None:
    """Skip unless the compiled English catalogue translates every one of ``msgids``."""
    with translation.override("en"):
        missing = [m for m in msgids if gettext(m) == m]
    if missing:
        pytest.skip(
            f"not in the compiled English catalogue yet (see /work/wt/i18n-i18nc.json): {missing}"
        )


def in_lang(lang: str, fn, *args, **kwargs):
    with translation.override(lang):
        return fn(*args, **kwargs)


def assert_english(text) -> None:
    text = str(text)
    assert not CJK.search(text), text


# --- quotas (programmes/quotas.py) -------------------------------------------------------------

PERCENT = schema.PercentQuota(
    policy="percent",
    level="county",
    count={"what": "schools", "stages": ["primary", "junior"]},
    percent=Decimal(20),
    minimum=2,
    earlier_rounds=["round-1"],
)
EACH = schema.EachQuota(policy="each", level="county", quota=3)
APPORTION = schema.ApportionQuota(
    policy="apportion", level="county", count={"what": "counties"}, total=10, minimum=1
)
TABLE = schema.TableQuota(policy="table", level="county", entries=[{"org": "x", "quota": 1}])

QUOTA_MSGIDS = (
    "学校数（%(stages)s）",
    "小学",
    "初中",
    "、",
    "%(what)s × %(percent)s%%，%(rounding)s%(minimum)s",
    "四舍五入",
    "，每单位不少于 %(minimum)s",
    "（与往轮 %(rounds)s 合计：往轮已推荐的计入名额）",
    "每个单位 %(quota)s 个",
    "总数 %(total)s 按%(what)s用最大余额法分配%(minimum)s",
    "县（市、区）数",
    "名额表",
    "%(what)s %(count)s × %(percent)s%% = %(exact)s，%(rounding)s得 %(rounded)s",
    "，不少于 %(minimum)s，取 %(value)s",
)


def test_quota_formulas_in_chinese_are_unchanged():
    assert in_lang("zh-hans", q.formula_text, PERCENT) == (
        "学校数（小学、初中） × 20%，四舍五入，每单位不少于 2"
        "（与往轮 round-1 合计：往轮已推荐的计入名额）"
    )
    assert in_lang("zh-hans", q.formula_text, EACH) == "每个单位 3 个"
    assert in_lang("zh-hans", q.formula_text, APPORTION) == (
        "总数 10 按县（市、区）数用最大余额法分配，每单位不少于 1"
    )
    assert in_lang("zh-hans", q.formula_text, TABLE) == "名额表"
    what = in_lang("zh-hans", q.count_label, PERCENT.count)
    assert in_lang("zh-hans", q._percent, 7, PERCENT, what) == (
        2,
        "学校数（小学、初中） 7 × 20% = 1.4，四舍五入得 1，不少于 2，取 2",
    )


def test_quota_formulas_in_english():
    english_or_skip(*QUOTA_MSGIDS)
    for policy in (PERCENT, EACH, APPORTION, TABLE):
        assert_english(in_lang("en", q.formula_text, policy))
    what = in_lang("en", q.count_label, PERCENT.count)
    value, how = in_lang("en", q._percent, 7, PERCENT, what)
    assert value == 2
    assert_english(how)
    assert "× 20%" in how


# --- certification standards -------------------------------------------------------------------


def test_standard_applies_to_all_stages():
    standard, some = Standard(applies_to=""), Standard(applies_to="primary,junior")
    assert in_lang("zh-hans", standard.get_applies_to_display) == "全部学段"
    assert in_lang("zh-hans", some.get_applies_to_display) == "小学、初中"
    english_or_skip("全部学段", "小学", "初中", "、")
    assert_english(in_lang("en", standard.get_applies_to_display))
    assert_english(in_lang("en", some.get_applies_to_display))


# --- review: set-rule badges and opinion headings ----------------------------------------------


def _titled_app():
    category = SimpleNamespace(
        titles=[
            SimpleNamespace(list="model", name="Model school", admit="outside_quota", priority=True)
        ]
    )
    app = SimpleNamespace(**{review_sets._flag("model"): True})
    return app, category


def test_title_badge():
    app, category = _titled_app()
    assert (
        in_lang("zh-hans", review_sets.title_badge, app, category)
        == "Model school · 不占名额 · 优先"
    )
    english_or_skip("不占名额", "优先")
    assert_english(in_lang("en", review_sets.title_badge, app, category))


def _chain_app():
    category = SimpleNamespace(
        levels=[SimpleNamespace(key="county", name="County", opinion_title="")]
    )
    programme = SimpleNamespace(
        parsed=SimpleNamespace(form_for=lambda c: SimpleNamespace(opinions=[])),
        level_deadline=lambda category, level: None,
    )
    return SimpleNamespace(
        category_spec=category,
        category="c",
        programme=programme,
        chain=[
            {"level": "county", "name": "County review", "org": 1, "org_name": "A",
             "org_names": ["A", "B"]},
        ],
        current_step=0,
        state="submitted",
        version=1,
    )  # fmt: skip


def test_level_opinion_heading():
    step = in_lang("zh-hans", chain_view, _chain_app(), [])[0]
    assert step.opinion_title == "County意见"
    assert step.org_name == "A、B"
    english_or_skip("%(level)s意见", "、")
    step = in_lang("en", chain_view, _chain_app(), [])[0]
    assert_english(step.opinion_title)
    assert_english(step.org_name)


# --- selection: the board's direct bucket, score groups ----------------------------------------


def test_board_direct_bucket():
    line = QuotaUseLine(holder=SimpleNamespace(name="Acme City"), direct=True, label="", limit=2)
    assert in_lang("zh-hans", lambda: line.name) == "Acme City（直属）"
    english_or_skip("%(org)s（直属）")
    assert_english(in_lang("en", lambda: line.name))


def _graded_line(lang: str) -> ScoreLine:
    rubric = schema.Rubric(
        criteria=[{"key": "a", "name": "A", "max": 10, "group": "g"}],
        groups=[{"key": "g", "name": "Design", "min_percent": 80}],
    )
    score = SimpleNamespace(criterion="a", score=Decimal(5))
    submitted = [SimpleNamespace(scores=SimpleNamespace(all=lambda: [score]))]
    line = ScoreLine(application=None)
    in_lang(lang, _grade_line, line, rubric, submitted)
    return line


def test_score_group_headers():
    line = _graded_line("zh-hans")
    assert [name for name, _got, _top in line.subtotals] == ["A", "Design（%）"]
    assert line.mandatory_unmet == ["Design（不低于 80%）"]
    english_or_skip("%(group)s（%%）", "%(group)s（不低于 %(min)s%%）")
    line = _graded_line("en")
    assert_english(line.subtotals[1][0])
    assert_english(line.mandatory_unmet[0])


# --- applications: the version diff ------------------------------------------------------------


def _diff(lang: str) -> list[dict]:
    fields = [
        SimpleNamespace(type="members", key="m", label="Members"),
        SimpleNamespace(type="group", key="g", label="Table"),
    ]
    form = SimpleNamespace(all_fields=lambda: fields)
    spec = SimpleNamespace(category=lambda code: SimpleNamespace(topics=[]),
                           form_for=lambda c: form, topics=[])  # fmt: skip
    app = SimpleNamespace(programme=SimpleNamespace(parsed=spec), category="c")
    old = SimpleNamespace(members=[{"code": "1", "name": "X"}], data={"g": [1]}, topic="")
    new = SimpleNamespace(members=[{"code": "2", "name": "Y"}], data={"g": [1, 2]}, topic="")
    return in_lang(lang, version_diff, app, old, new)


def test_version_diff_labels():
    members, group = _diff("zh-hans")
    assert (members["before"], members["after"]) == ("移出：X", "新增：Y")
    assert (group["before"], group["after"]) == ("1 行", "2 行（内容有修改）")
    boolean = SimpleNamespace(type="bool")
    assert [in_lang("zh-hans", display_value, boolean, v) for v in (True, False)] == ["是", "否"]
    english_or_skip("移出：%(names)s", "新增：%(names)s", "%(n)s 行", "%(n)s 行（内容有修改）", "是", "否")  # fmt: skip
    for change in _diff("en"):
        assert_english(change["before"])
        assert_english(change["after"])
    for v in (True, False):
        assert_english(in_lang("en", display_value, boolean, v))


# --- dashboards --------------------------------------------------------------------------------


def test_dashboard_unlimited_and_empty():
    table = Table("t", "T", "", [])
    assert str(table.empty) == "暂无数据。"
    assert str(UNLIMITED) == "不限"
    english_or_skip("暂无数据。", "不限")
    assert_english(in_lang("en", lambda: str(Table("t", "T", "", []).empty)))
    assert_english(in_lang("en", str, UNLIMITED))


# --- pilots: period and status labels ----------------------------------------------------------


def _first_labels(lang: str) -> list[str]:
    with translation.override(lang):
        return [
            label
            for cadence in ("monthly", "quarterly", "semiannual", "annual")
            for _k, label, _a, _b in list(
                periods._calendar_spans(cadence, dt.date(2024, 5, 3), dt.date(2024, 12, 31))
            )[:1]
        ]


PERIOD_MSGIDS = ("Y年n月", "%(year)s年第%(quarter)s季度", "%(year)s年上半年", "%(year)s年")


def test_pilot_period_labels_in_chinese_are_unchanged():
    assert _first_labels("zh-hans") == ["2024年5月", "2024年第2季度", "2024年上半年", "2024年"]
    assert str(periods.STATUS_LABELS["accepted_late"]) == "已通过（逾期提交）"
    message = in_lang("zh-hans", lambda: gettext("%(period)s尚未开始，不能填写。") % {"period": _first_labels("zh-hans")[0]})  # fmt: skip
    assert message == "2024年5月尚未开始，不能填写。"


def test_pilot_period_labels_in_english():
    english_or_skip(*PERIOD_MSGIDS, "%(period)s尚未开始，不能填写。", "已通过（逾期提交）")
    labels = _first_labels("en")
    assert labels[0] == "May 2024"
    for label in labels:
        assert_english(label)
    with translation.override("en"):
        assert_english(gettext("%(period)s尚未开始，不能填写。") % {"period": labels[0]})
        assert_english(periods.STATUS_LABELS["accepted_late"])


# --- stored text stays in LANGUAGE_CODE ----------------------------------------------------------


@pytest.mark.django_db
def test_quota_sync_stores_derivations_in_chinese_whoever_syncs(seeded):
    """The derivation is stored (override page, quota PDF): an English admin's sync must not
    rewrite it in English ("名额表" already has a translation, "Quota table")."""
    from edupilot.programmes.models import QuotaAllocation
    from edupilot.programmes.services import quota_sync
    from tests.review.conftest import load

    programme = load("quanzhou-smart-campus-2018.toml")
    rows = QuotaAllocation.objects.filter(programme=programme).order_by("pk")
    before = list(rows.values_list("pk", "derivation"))
    assert any(d.startswith("名额表") for _pk, d in before)
    in_lang("en", quota_sync, programme)
    assert list(rows.values_list("pk", "derivation")) == before
