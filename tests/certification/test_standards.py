"""Standard files: validation with file/line/field, derived standards only ever stricter."""

from __future__ import annotations

import pytest

from edupilot.certification import services
from edupilot.certification.models import Standard
from edupilot.certification.standards import (
    StandardFileInvalid,
    parse_bytes,
    parse_file,
    parse_toml_text,
)

from .conftest import STANDARDS, SYSTEM, load_standards, xlsx_bytes

XIHU = (STANDARDS / "hz-xihu-smart-campus-2024.toml").read_text(encoding="utf-8")
ZJ = (STANDARDS / "zj-smart-campus-2022.toml").read_text(encoding="utf-8")


def line_of(text: str, needle: str, start: int = 0) -> int:
    lines = text.splitlines()
    for n, line in enumerate(lines[start:], start=start + 1):
        if needle in line:
            return n
    raise AssertionError(needle)


def test_shipped_standards_load_and_resolve(seeded):
    standards = load_standards()
    zj, xh, vc = standards["zj-sc-2022"], standards["hz-xihu-2024"], standards["moe-vc-2020"]
    assert zj.indicators.count() == 14
    # The district standard inherits all 14, adds one and tightens three.
    assert xh.indicators.count() == 15 and xh.extends == zj
    assert set(xh.indicators.filter(overridden=True).values_list("code", flat=True)) == {
        "ZJ-03",
        "ZJ-05",
        "ZJ-08",
    }
    assert xh.indicators.get(code="ZJ-05").optional is False
    # Placeholder thresholds are marked as such, not passed off as official.
    assert zj.verification == "unverified"
    assert not zj.indicators.exclude(verification="unverified").exists()
    assert vc.role == "additional" and vc.applies_to_list == ["vocational"]
    # Loading the same files again changes nothing.
    again = services.standard_load(
        parsed=parse_file(STANDARDS / "zj-smart-campus-2022.toml"), **SYSTEM
    )
    assert again.action == "unchanged"


def test_district_standard_lowering_a_threshold_is_refused(seeded):
    load_standards()
    weaker = XIHU.replace('code = "hz-xihu-2024"', 'code = "hz-weak"').replace(
        "basic = 6\n", "basic = 10\n"
    )
    parsed = parse_toml_text(weaker, "hz-weak.toml")
    with pytest.raises(StandardFileInvalid) as exc:
        services.standard_load(parsed=parsed, **SYSTEM)
    (error,) = exc.value.errors
    assert error.file == "hz-weak.toml"
    # The line of the override, the indicator, and both values.
    override_line = line_of(weaker, 'code = "ZJ-03"')
    assert error.line == override_line + 1  # the "basic = 10" line of that override
    assert error.field == "overrides[3].basic"
    assert "ZJ-03" in error.message and "生机比" in error.message
    assert "≤10:1" in error.message and "≤8:1" in error.message
    assert not Standard.objects.filter(code="hz-weak").exists()


def test_lowering_a_level_a_yes_no_and_a_stage_threshold(seeded):
    load_standards()
    text = (
        'code = "hz-weak2"\ntitle = "弱"\nextends = "zj-sc-2022"\n'
        '[[overrides]]\ncode = "ZJ-07"\nbasic = "初步应用"\n'
        '[[overrides]]\ncode = "ZJ-03"\nbasic_by_stage = { senior = 7 }\n'
        '[[overrides]]\ncode = "ZJ-01"\noptional = true\nadvanced = true\n'
    )
    with pytest.raises(StandardFileInvalid) as exc:
        services.standard_load(parsed=parse_toml_text(text, "w.toml"), **SYSTEM)
    messages = [e.message for e in exc.value.errors]
    assert any("ZJ-07" in m and "初步应用" in m and "常态应用" in m for m in messages)
    assert any("ZJ-03" in m and "高中" in m and "≤7:1" in m and "≤6:1" in m for m in messages)
    assert any("ZJ-01" in m and "不能改为可选" in m for m in messages)
    # Each error points at the line of the field that lowers the requirement.
    assert [e.line for e in exc.value.errors] == [6, 9, 12]


def test_type_errors_name_file_line_and_field(seeded):
    bad = ZJ.replace("basic = 1000", 'basic = "lots"').replace(
        'measure = "percent"\nbasic = 100\nweight = 8',
        'measure = "percent"\nbasic = 120\nweight = 8',
    )
    with pytest.raises(StandardFileInvalid) as exc:
        parse_toml_text(bad, "zj-bad.toml")
    errors = exc.value.errors
    assert {e.file for e in errors} == {"zj-bad.toml"}
    by_field = {e.field: e for e in errors}
    assert by_field["indicators[2]"].message.startswith("basic：应为数字")
    assert by_field["indicators[2]"].line == line_of(bad, 'code = "ZJ-02"') - 1
    assert "0 到 100" in by_field["indicators[4]"].message


def test_unknown_keys_and_rule_expressions_are_checked(seeded):
    with pytest.raises(StandardFileInvalid) as exc:
        parse_toml_text(ZJ.replace("all_basic = true", "all_basic = true\nmin_scroe = 3"), "a.toml")
    assert exc.value.errors[0].field == "rule.min_scroe"
    assert "不认识的字段" in exc.value.errors[0].message
    with pytest.raises(StandardFileInvalid) as exc:
        parse_toml_text(ZJ.replace("all_basic = true", 'expr = "scor > 1"'), "b.toml")
    assert "scor" in exc.value.errors[0].message
    spec = parse_toml_text(
        ZJ.replace("all_basic = true", "expr = \"basic_unmet == 0 && met['ZJ-02']\""), "c.toml"
    ).spec
    assert spec.rule.expr


def test_xlsx_standard_loads_like_toml(seeded):
    load_standards()
    content = xlsx_bytes([])
    # A derived standard as a bureau would keep it in a spreadsheet.
    import io

    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    meta = wb.add_worksheet("标准")
    for r, row in enumerate(
        [
            ["字段", "值"],
            ["标准代码", "hz-shangcheng-2024"],
            ["标准名称", "上城区中小学智慧校园认定标准"],
            ["依据标准", "zj-sc-2022"],
            ["规则.最低分", 90],
        ]
    ):
        meta.write_row(r, 0, row)
    adj = wb.add_worksheet("调整")
    adj.write_row(0, 0, ["指标代码", "基本要求", "分学段基本要求"])
    adj.write_row(1, 0, ["ZJ-02", 2000, "高中=3000"])
    inds = wb.add_worksheet("指标")
    inds.write_row(0, 0, ["指标代码", "指标名称", "维度", "计量方式", "基本要求", "权重"])
    inds.write_row(1, 0, ["SC-01", "数字家长学校", "区域特色", "是/否", "是", 3])
    wb.close()
    content = buf.getvalue()
    outcome = services.standard_load(parsed=parse_bytes(content, "上城.xlsx"), **SYSTEM)
    std = outcome.standard
    assert std.extends.code == "zj-sc-2022" and std.rule["min_score"] == "90"
    assert std.indicators.get(code="ZJ-02").basic == 2000
    assert std.indicators.get(code="ZJ-02").basic_by_stage == {"senior": 3000}
    assert std.indicators.get(code="SC-01").measure == "yes_no"

    # The same refusal, naming the sheet and row.
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    meta = wb.add_worksheet("标准")
    meta.write_row(0, 0, ["标准代码", "hz-weak-x"])
    meta.write_row(1, 0, ["标准名称", "弱"])
    meta.write_row(2, 0, ["依据标准", "zj-sc-2022"])
    adj = wb.add_worksheet("调整")
    adj.write_row(0, 0, ["指标代码", "基本要求"])
    adj.write_row(1, 0, ["ZJ-01", "是"])
    adj.write_row(2, 0, ["ZJ-02", 100])
    wb.close()
    with pytest.raises(StandardFileInvalid) as exc:
        services.standard_load(parsed=parse_bytes(buf.getvalue(), "弱.xlsx"), **SYSTEM)
    (error,) = exc.value.errors
    assert error.file == "弱.xlsx[调整]" and error.line == 3
    assert "ZJ-02" in error.message and "≥100Mbps" in error.message and "≥1000Mbps" in error.message


def test_changing_a_base_rechecks_its_derived_standards(seeded):
    load_standards()
    # The province raises its placeholder ratio to ≤5: Xihu's ≤6 would now be weaker.
    stricter = ZJ.replace('direction = "at_most"\nbasic = 8', 'direction = "at_most"\nbasic = 5')
    with pytest.raises(StandardFileInvalid) as exc:
        services.standard_load(parsed=parse_toml_text(stricter, "zj.toml"), **SYSTEM)
    assert "hz-xihu-2024" in exc.value.errors[0].message and "ZJ-03" in exc.value.errors[0].message
    assert Standard.objects.get(code="zj-sc-2022").indicators.get(code="ZJ-03").basic == 8

    # A change the district still satisfies goes through and reaches the district's copy.
    raised = ZJ.replace("basic = 1000\nadvanced = 2000", "basic = 1000\nadvanced = 2500")
    services.standard_load(parsed=parse_toml_text(raised, "zj.toml"), **SYSTEM)
    assert Standard.objects.get(code="hz-xihu-2024").indicators.get(code="ZJ-02").advanced == 2500


def test_a_standard_in_use_by_a_frozen_batch_cannot_change(hz):
    services.batch_freeze(batch=hz.batch, **SYSTEM)
    raised = ZJ.replace("basic = 1000\nadvanced = 2000", "basic = 1000\nadvanced = 2500")
    with pytest.raises(services.Refused, match="数据已冻结"):
        services.standard_load(parsed=parse_toml_text(raised, "zj.toml"), **SYSTEM)
