"""The XLSX export base: headers, kinds, frozen header, progress, text never a formula."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from edupilot.documents.xlsx import XLSX_CONTENT_TYPE, Column, XlsxExport


class SchoolExport(XlsxExport):
    title = "试点学校推荐汇总表"
    columns = [
        Column("学校名称", 30),
        Column("出口带宽（Mbps）", 14, "int"),
        Column("覆盖率", 10, "percent"),
        Column("经费（万元）", 12, "number"),
        Column("提交时间", 18, "datetime"),
        Column("截止日期", 12, "date"),
        Column("城乡", 8, "bool"),
    ]

    def __init__(self, n: int):
        self.n = n

    def total(self):
        return self.n

    def rows(self):
        submitted = dt.datetime(2019, 9, 20, 1, 30, tzinfo=dt.UTC)
        for i in range(self.n):
            yield [
                f"第{i}小学",
                100 + i,
                Decimal("0.25"),
                Decimal("12.50"),
                submitted,
                dt.date(2019, 9, 27),
                i % 2 == 0,
            ]


def test_headers_kinds_and_frozen_header():
    buf = io.BytesIO()
    written = SchoolExport(3).write(buf)
    assert written == 3
    buf.seek(0)
    wb = openpyxl.load_workbook(buf)
    ws = wb["试点学校推荐汇总表"]
    assert [c.value for c in ws[1]] == [c.header for c in SchoolExport.columns]
    assert ws[1][0].font.b
    assert ws.freeze_panes == "A2"
    row = [c.value for c in ws[2]]
    assert row[0] == "第0小学"
    assert row[1] == 100
    assert row[2] == pytest.approx(0.25) and ws[2][2].number_format == "0.0%"
    assert row[3] == pytest.approx(12.5)
    # Aware times are shown in Beijing time: 01:30 UTC is 09:30 in Shanghai.
    assert row[4] == dt.datetime(2019, 9, 20, 9, 30)
    assert row[5] == dt.datetime(2019, 9, 27)
    assert row[6] == "是"
    assert ws.column_dimensions["A"].width == pytest.approx(30, abs=1)


def test_progress_every_n_rows_and_at_the_end():
    calls = []
    export = SchoolExport(1200)
    export.progress_every = 500
    export.write(io.BytesIO(), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 1200), (500, 1200), (1000, 1200), (1200, 1200)]


class FreeText(XlsxExport):
    title = "a/b:c*d?[e]"
    heading = "附件3：设区市推荐汇总表"
    columns = [Column("项目名称", 40), Column("备注", 20), Column("数量", 8, "int")]

    def rows(self):
        yield ['=HYPERLINK("http://evil.example","点我")', "+1-2", "不是数字"]
        yield ["短行"]
        yield ["x" * 40000, None, None]


def test_text_is_never_a_formula_and_heading_sits_above_the_header(tmp_path):
    path = tmp_path / "out.xlsx"
    FreeText().write(path)
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    assert ws.title == "a_b_c_d__e_"
    assert ws["A1"].value == "附件3：设区市推荐汇总表"
    assert "A1:C1" in {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[2]] == ["项目名称", "备注", "数量"]
    assert ws.freeze_panes == "A3"
    a3 = ws["A3"]
    assert a3.data_type == "s" and a3.value.startswith("=HYPERLINK")
    assert ws["B3"].value == "+1-2"
    # A non-number in a number column is kept as text, not dropped.
    assert ws["C3"].value == "不是数字"
    # Short rows leave the missing cells empty; over-long text is cut at Excel's limit.
    assert ws["B4"].value is None
    assert len(ws["A5"].value) == 32767 and ws["A5"].value.endswith("…")


def test_calamine_reads_the_chinese_back(tmp_path):
    path = tmp_path / "out.xlsx"
    SchoolExport(2).write(path)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[0][0] == "学校名称"
    assert rows[2][0] == "第1小学"


def test_response_for_small_exports():
    response = SchoolExport(2).response()
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert "filename*=utf-8''" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    assert content[:2] == b"PK"


def test_empty_export_still_has_its_header():
    buf = io.BytesIO()
    assert SchoolExport(0).write(buf) == 0
    buf.seek(0)
    ws = openpyxl.load_workbook(buf).worksheets[0]
    assert ws.max_row == 1 and ws["A1"].value == "学校名称"
