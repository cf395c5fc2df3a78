"""Graded outcomes and scored indicators of a standard: partial credit, veto items, a minimum
share per dimension, modules that must each pass, "incomplete" apart from "not met", and
grades by score band with a gate — each tried against values that should break it."""

from __future__ import annotations

import io

import pytest

from edupilot.certification import engine, services
from edupilot.certification.standards import StandardFileInvalid, parse_file, parse_toml_text
from edupilot.certification.standards.resolving import resolve

from .conftest import STANDARDS, SYSTEM

STAR = (STANDARDS / "example-star-rated.toml").read_text(encoding="utf-8")
FULL = {"S-01": True, "S-02": 1000.0, "S-03": 20.0, "S-04": 10.0}


def compiled(text: str = STAR) -> engine.CompiledStandard:
    resolved = resolve(parse_toml_text(text, "star.toml"), None)
    return engine.CompiledStandard(
        code=resolved.spec.code,
        indicators=[i.to_row() for i in resolved.indicators],
        rule=resolved.spec.rule.model_dump(mode="json"),
        dimensions=[d.model_dump(mode="json") for d in resolved.dimensions],
    )


def assess(values, text: str = STAR):
    return compiled(text).assess(values, ["primary"])


def test_full_marks_reach_the_top_grade_with_subtotals():
    out = assess(FULL)
    assert out.passed and out.grade == "five" and out.grade_name == "五星"
    assert out.score == out.max_score == 50
    assert out.dimensions == {"environment": [20.0, 20.0], "application": [30.0, 30.0]}
    assert out.modules == {"infrastructure": True, "teaching": True}
    assert out.summary()["grade_name"] == "五星"


def test_partial_credit_earns_points_within_the_range_and_no_more():
    # 14 of 20 points on S-03: met (≥ 12), 44/50 = 88 % → four stars.
    out = assess({**FULL, "S-03": 14.0})
    assert out.passed and out.score == 44 and out.grade == "four"
    # A value above the item's range earns its maximum, not more.
    assert assess({**FULL, "S-03": 25.0}).score == 50


def test_the_gate_keeps_the_top_grade_from_a_school_with_a_basic_item_unmet():
    # S-04 at 5 of 10 is below its basic 6: 45/50 = 90 % is a five-star score, but five
    # stars need every basic item met (all_basic = false: the school still passes).
    out = assess({**FULL, "S-04": 5.0})
    assert out.score == 45 and out.unmet_basic == ["S-04"]
    assert out.passed and out.grade == "four"
    assert assess({**FULL, "S-04": 6.0}).grade == "five"


def test_a_veto_item_fails_the_school_whatever_its_score():
    out = assess({**FULL, "S-01": False})
    assert not out.passed and not out.incomplete and out.grade == ""
    assert out.veto_unmet == ["S-01"]
    assert out.reasons[0].startswith("否决项未达到")


def test_a_dimension_below_its_minimum_share_fails():
    # application: 12 + 2 = 14 of 30 = 46.7 % < 50 %; the total 34/50 = 68 % fails too.
    out = assess({**FULL, "S-03": 12.0, "S-04": 2.0})
    assert not out.passed
    assert any("智慧应用" in r and "50%" in r for r in out.reasons)


def test_each_module_must_pass():
    # A module may need every basic item of its dimensions met: S-04 at 5 < 6 fails it,
    # though the total (90 %) and the dimension (83 %) would pass.
    text = STAR.replace(
        'dimensions = ["application"]\nmin_percent = 50',
        'dimensions = ["application"]\nall_basic = true',
    )
    out = assess({**FULL, "S-04": 5.0}, text)
    assert out.modules["teaching"] is False and not out.passed
    assert "模块“教学应用模块”未通过" in out.reasons
    # The infrastructure module needs 60 % of its dimension: 10 of 20 is not enough.
    out = assess({**FULL, "S-02": 0.0})
    assert out.modules["infrastructure"] is False and not out.passed


def test_missing_data_is_incomplete_not_unmet():
    gap = {k: v for k, v in FULL.items() if k != "S-03"}
    out = assess(gap)
    assert not out.passed and out.incomplete and out.missing == ["S-03"]
    zero = assess({**FULL, "S-03": 0.0})
    assert not zero.passed and not zero.incomplete
    result = engine.combine([out])
    assert result.provisional == engine.INCOMPLETE and result.grade == ""


def test_below_the_lowest_grade_is_not_certified():
    # 10 + 8 + 12 + 6 = 36/50 = 72 %: three stars.
    out = assess({"S-01": True, "S-02": 500.0, "S-03": 12.0, "S-04": 6.0})
    assert out.passed and out.grade == "three"
    # 34/50 = 68 %: the rule's 70 % refuses it; without that rule no grade is reached.
    low = {"S-01": True, "S-02": 500.0, "S-03": 10.0, "S-04": 6.0}
    assert any("得分率 68%" in r for r in assess(low).reasons)
    text = STAR.replace("min_percent = 70\ndescription", "min_percent = 0\ndescription")
    out = assess(low, text)
    assert not out.passed and out.reasons == ["未达到最低认定等级"]


def test_the_grade_comes_from_the_main_standard_and_shows_on_the_result():
    result = engine.combine([assess(FULL)])
    assert result.as_json()["grade_name"] == "五星"


def test_a_grade_may_add_a_cel_condition():
    text = STAR.replace(
        'name = "五星"\nmin_percent = 90',
        'name = "五星"\nmin_percent = 90\nexpr = "advanced_met >= 2"',
    )
    # One advanced item only (S-02): five stars are out of reach, four stars are not.
    assert assess(FULL, text).grade == "four"


# --- the file: every mistake names file, line and field -------------------------------------


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "field", "needle", "message"),
    [
        (
            'name = "三星"\nmin_percent = 70',
            'name = "三星"\nmin_percent = 85',
            "rule.grades[3].min_percent",
            "min_percent = 85",
            "从高到低",
        ),
        (
            'dimensions = ["application"]\n',
            'dimensions = ["applications"]\n',
            "rule.modules[2].dimensions",
            'dimensions = ["applications"]',
            "未定义的维度：applications",
        ),
        (
            "basic = 12                        # met at 12 of 20 points",
            "basic = 21",
            "indicators[3]",
            'code = "S-03"',
            "超过该项满分",
        ),
        (
            "veto = true                       # 一票否决",
            "veto = true\noptional = true\nadvanced = true",
            "indicators[1]",
            'code = "S-01"',
            "可选指标不能是否决项",
        ),
        (
            'name = "四星"\nmin_percent = 80',
            'name = "四星"\nmin_percent = 80\nresult = "fail"',
            "rule.grades[2].result",
            'result = "fail"',
            "未达到最低等级即不予认定",
        ),
        (
            'key = "four"',
            'key = "five"',
            "rule.grades[2].key",
            'key = "five"\nname = "四星"',
            "认定等级 five 重复",
        ),
        (
            'name = "智慧应用"\nmin_percent = 50',
            'name = "智慧应用"\nmin_percent = 150',
            "dimensions[2].min_percent",
            "min_percent = 150",
            "",
        ),
    ],
)
def test_mistakes_name_file_line_and_field(old, new, field, needle, message, tmp_path):
    assert old in STAR
    bad = STAR.replace(old, new, 1)
    path = tmp_path / "star-bad.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(StandardFileInvalid) as exc:
        resolve(parse_file(path), None)
    error = exc.value.errors[0]
    assert error.file.endswith("star-bad.toml")
    assert error.field == field
    assert message in error.message
    first = needle.split("\n")[0]
    assert error.line is not None
    if field.startswith("indicators"):
        # A whole-indicator check points at the table's header, just above its code.
        assert error.line == line_of(bad, first) - 1
    elif "\n" in needle:
        assert error.line >= line_of(bad, first)
    else:
        assert error.line == line_of(bad, first)


def test_a_derived_standard_cannot_undo_a_veto(seeded):
    services.standard_load(parsed=parse_toml_text(STAR, "star.toml"), **SYSTEM)
    child = """schema_version = 1
code = "example-star-lax"
title = "派生"
extends = "example-star-rated"

[[overrides]]
code = "S-01"
veto = false
"""
    with pytest.raises(StandardFileInvalid) as exc:
        services.standard_load(parsed=parse_toml_text(child, "lax.toml"), **SYSTEM)
    error = exc.value.errors[0]
    assert (error.file, error.line, error.field) == ("lax.toml", 8, "overrides[1].veto")
    assert "否决项" in error.message


def test_loaded_standard_keeps_veto_and_assesses_the_same(seeded):
    outcome = services.standard_load(parsed=parse_toml_text(STAR, "star.toml"), **SYSTEM)
    std = outcome.standard
    assert std.indicators.get(code="S-01").veto is True
    plan = engine.CompiledStandard(
        code=std.code,
        indicators=[r.as_engine_row() for r in std.indicators.order_by("order")],
        rule=std.rule,
        dimensions=std.dimensions,
    )
    assert plan.assess({**FULL, "S-03": 14.0}, ["primary"]).grade == "four"
    assert not plan.assess({**FULL, "S-01": False}, ["primary"]).passed


def test_standard_show_prints_grades_modules_dimensions_and_veto(seeded):
    import json

    from django.core.management import call_command

    services.standard_load(parsed=parse_toml_text(STAR, "star.toml"), **SYSTEM)
    out = io.StringIO()
    call_command("certification", "standard", "show", "example-star-rated", stdout=out)
    text = out.getvalue()
    assert "等级 五星（five）：得分率 ≥ 90%，必达项全部达标" in text
    assert "模块 基础设施模块（environment）：得分率 ≥ 60%" in text
    assert "维度 智慧应用（application）：30 分，得分率不低于 50%" in text
    assert "S-01 网络安全责任制（否决项）" in text
    assert "S-03 课堂教学应用（专家评分）：得分，要求 ≥12，20 分" in text
    out = io.StringIO()
    call_command(
        "certification", "standard", "show", "example-star-rated", "--format", "json", stdout=out
    )
    (data,) = json.loads(out.getvalue())
    assert [g["key"] for g in data["grades"]] == ["five", "four", "three"]
    assert data["max_score"] == "50" and data["indicators"][0]["veto"] is True


# --- end to end: the grade on the decision, the page, the certificate, the list, the export ---


def test_a_graded_batch_shows_the_grade_everywhere(hz, client):
    import datetime as dt

    from django.urls import reverse
    from pypdf import PdfReader

    from edupilot.certification.exports import BatchResultsExport
    from edupilot.certification.models import Batch, Entry

    from .conftest import acting, scope_for

    star = services.standard_load(parsed=parse_toml_text(STAR, "star.toml"), **SYSTEM).standard
    batch = services.batch_create(
        owner=hz.city,
        code="hz-star",
        name="杭州市星级评价",
        certification_date=dt.date(2099, 9, 30),
        cutoff=dt.date(2099, 8, 31),
        standard=star,
        **acting(hz.city_admin, hz.city),
    )
    values = {**FULL, "S-03": 14.0}  # 44 of 50: four stars
    entry = batch.entries.get(school=hz.cd_senior)
    weak = batch.entries.get(school=hz.cd_vocational)
    Entry.objects.filter(pk=entry.pk).update(
        data={k: [v, "i0", "2099-08-31"] for k, v in values.items()}
    )
    Entry.objects.filter(pk=weak.pk).update(
        data={k: [v, "i0", "2099-08-31"] for k, v in {**FULL, "S-01": False}.items()}
    )
    services.assess_entries(batch=batch, entry_ids=[entry.pk, weak.pk])
    entry.refresh_from_db()
    assert entry.provisional == "pass" and entry.provisional_grade == "四星"
    # The veto item: not certifiable, whatever the score.
    with pytest.raises(services.Refused, match="不能认定为智慧校园"):
        services.entry_decide(
            entry=weak, decision="certified", opinion="—", **acting(hz.city_reviewer, hz.city)
        )
    services.entry_decide(
        entry=entry, decision="certified", opinion="达标", **acting(hz.city_reviewer, hz.city)
    )
    entry.refresh_from_db()
    assert entry.grade_name == "四星"

    client.force_login(hz.city_reviewer)
    page = client.get(reverse("certification:entry_detail", args=[entry.pk])).content.decode()
    assert 'id="grade">四星<' in page
    assert "维度小计" in page and "智慧应用 24/30" in page
    weak_page = client.get(reverse("certification:entry_detail", args=[weak.pk])).content.decode()
    assert "否决项未达到：S-01" in weak_page
    pdf = client.get(reverse("certification:certificate", args=[entry.pk])).content
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "认定等级：四星" in text

    scope = scope_for(hz.city_reviewer, hz.city)
    rows = list(BatchResultsExport(scope=scope, batch=batch).rows())
    row = next(r for r in rows if r[3] == "杭州市第一中学")
    header = [c.header for c in BatchResultsExport.columns]
    assert row[header.index("认定等级")] == "四星"
    assert row[header.index("维度得分")] == "基础环境 20/20；智慧应用 24/30"

    Batch.objects.filter(pk=batch.pk).update(state="published")
    public = client.get(reverse("certification_public:batch", args=[batch.code])).content
    public = public.decode()
    assert "认定等级" in public and "四星" in public


def test_xlsx_standard_takes_veto_score_items_and_dimension_minimums(seeded):
    import xlsxwriter

    from edupilot.certification.standards import parse_bytes

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    meta = wb.add_worksheet("标准")
    for r, row in enumerate(
        [
            ["字段", "值"],
            ["标准代码", "xlsx-star"],
            ["标准名称", "表格星级"],
            ["规则.全部基本要求", "否"],
        ]
        + [["规则.最低得分率", 60]]
    ):
        meta.write_row(r, 0, row)
    dims = wb.add_worksheet("维度")
    dims.write_row(0, 0, ["维度代码", "名称", "最低得分率"])
    dims.write_row(1, 0, ["env", "基础环境", 50])
    inds = wb.add_worksheet("指标")
    inds.write_row(0, 0, ["指标代码", "指标名称", "维度", "计量方式", "基本要求", "否决项", "权重"])
    inds.write_row(1, 0, ["X-01", "安全责任制", "env", "是/否", "是", "是", 10])
    inds.write_row(2, 0, ["X-02", "应用评分", "env", "得分", 6, "", 10])
    wb.close()
    std = services.standard_load(parsed=parse_bytes(buf.getvalue(), "星级.xlsx"), **SYSTEM).standard
    assert std.indicators.get(code="X-01").veto is True
    assert std.indicators.get(code="X-02").measure == "score"
    assert std.dimensions[0]["min_percent"] == "50"
    assert std.rule["min_percent"] == "60"


def test_standard_page_shows_grades_modules_minimums_and_veto(hz, client):
    from django.urls import reverse

    star = services.standard_load(parsed=parse_toml_text(STAR, "star.toml"), **SYSTEM).standard
    client.force_login(hz.city_admin)
    page = client.get(reverse("certification:standard_detail", args=[star.pk])).content.decode()
    assert "五星" in page and "得分率不低于 90%" in page
    assert "基础设施模块" in page and "智慧应用 50%" in page
    assert "否决项" in page and "≥12分" in page
