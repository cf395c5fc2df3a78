"""Cells parsed a column at a time give exactly what the cell parser gives (issue 12 §7).

The import parses each block of rows column by column (``values.make_column_parser``),
falling back to the cell parser where a column or a cell is of another shape. These tests
hold the two to the same values, the same issues in the same order, on columns of every
shape an export has (numbers, blanks, "88%", digit text, words, units, errors) and on a
whole file read through ``importers.iter_values``.
"""

from __future__ import annotations

import math

import pytest

from edupilot.certification import importers
from edupilot.certification.values import ValueError_, make_column_parser, make_parser
from tests.certification.conftest import xlsx_bytes as xlsx

COLUMNS = [
    [2000.0, 300.0, 1000.0, 0.0],  # numbers, as XLSX gives them
    [2000.0, "", 300.0, "", 1000.0],  # numbers with empty cells
    ["88%", "85%", "", "100%", "0%"],  # percent text with an empty cell
    ["88%", "101%", "85%"],  # one out of range
    ["88%", "88%", "", "88%", "85%", "", "85%"],  # few distinct texts, each read once
    ["101%", "88%", "101%"],  # a text out of range, twice
    ["88%", "8%8%", "85%"],  # two signs in one cell
    ["88%", "%", "85%"],
    ["88% ", " 85%", "85 %"],  # spaces around
    ["12", "7", "0", "300"],  # digits, as CSV gives every number
    ["12", "", "7"],
    ["1,000", "12台", "1000Mbps", "-3", "abc", "1e3"],
    [1, 2, 3.5, 0],  # ints among floats
    [True, 1.0, 0.0, False],
    [-1.0, 5.0],
    [math.nan, 5.0],
    [math.inf, 5.0],
    [1e308, 1e308],
    [None, 5.0, None],
    ["是", "否", "有", "无", 1.0, 0.0, "", "  是 ", "YES", "maybe", 2.0, True, False],
    ["深度融合", "常态应用", "初步应用", "", "未知", 3.0, 2.0, " 常态应用"],
    [],
]
MEASURES = [
    ("number", []),
    ("percent", []),
    ("score", []),
    ("yes_no", []),
    ("level", ["深度融合", "常态应用", "初步应用", "2"]),
]


def cell_by_cell(parse, col) -> list:
    out = []
    for raw in col:
        try:
            out.append(("value", parse(raw)))
        except ValueError_ as exc:
            out.append(("issue", str(exc)))
    return out


def by_column(measure, levels, scale, col) -> tuple[list, bool]:
    parse = make_parser(measure, levels, scale=scale)
    values = make_column_parser(measure, levels, scale=scale)(tuple(col))
    if values is None:
        return cell_by_cell(parse, col), False
    assert len(values) == len(col)
    out = []
    for raw, value in zip(col, values, strict=True):
        out.append(("value", value) if value is not None else cell_by_cell(parse, [raw])[0])
    return out, True


def same(a, b) -> bool:
    return a == b or (a[0] == b[0] == "value" and isinstance(a[1], float) and math.isnan(a[1]))


@pytest.mark.parametrize("scale", [1.0, 0.01, 100.0])
@pytest.mark.parametrize(("measure", "levels"), MEASURES)
def test_a_column_at_once_reads_as_cell_by_cell(measure, levels, scale):
    for col in COLUMNS:
        expected = cell_by_cell(make_parser(measure, levels, scale=scale), col)
        got, _fast = by_column(measure, levels, scale, col)
        assert all(same(a, b) for a, b in zip(got, expected, strict=True)), (col, got, expected)


def test_the_usual_shapes_take_the_column_path():
    """Numbers (with blanks), percent text (with blanks), digit text, yes/no and level
    words: read without the cell parser but for the blanks and the unknown words."""
    fast = [
        ("number", [], [2000.0, 300.0]),
        ("number", [], [2000.0, "", 300.0]),
        ("percent", [], ["88%", "", "85%"]),
        ("score", [], ["12", "7"]),
        ("yes_no", [], ["是", 1.0, "无"]),
        ("level", ["深度融合"], ["深度融合"]),
    ]
    for measure, levels, col in fast:
        values = make_column_parser(measure, levels)(tuple(col))
        assert values is not None and [v for v in values if v is None] == [None] * col.count(""), (
            measure,
            col,
            values,
        )


def reference_values(headers, rows, columns, roster, code_column, name_column):
    """The import as it read before the column path: row by row, cell by cell."""
    out, issues, seen = [], [], {}
    code_idx, name_idx = headers.index(code_column), headers.index(name_column)
    for rowno, cells in rows:
        code, name = importers.cell_text(cells[code_idx]), importers.cell_text(cells[name_idx])
        label = name or code
        entry_id = roster.by_code.get(code) if code else None
        if entry_id is None and name:
            candidates = roster.by_name.get(name, [])
            entry_id = candidates[0] if len(candidates) == 1 else None
        if entry_id is None:
            issues.append((rowno, "unmatched", label))
            continue
        if entry_id in seen:
            issues.append((rowno, "again", label))
            continue
        seen[entry_id] = rowno
        cells = [*cells, *[None] * (len(headers) - len(cells))]
        values = {}
        for col in columns:
            try:
                value = col.parse(cells[col.index])
            except ValueError_ as exc:
                issues.append((rowno, col.header, f"{col.indicator}：{exc}"))
                continue
            if value is not None:
                values[col.indicator] = value
        if values:
            out.append((entry_id, values))
    return out, issues


def test_a_file_imports_as_it_did_cell_by_cell(monkeypatch):
    """Blocks of 3 rows (the block edge falls inside the file), every shape of cell, rows
    that do not match or repeat a school: same values, same issues, same order."""
    monkeypatch.setattr(importers, "BLOCK_ROWS", 3)
    measures = [
        ("number", []),
        ("percent", []),
        ("yes_no", []),
        ("level", ["深度融合", "常态应用"]),
    ]
    header = ["代码", "名称", *[f"列{i}" for i in range(len(measures))]]
    cells = [
        [2000.0, "88%", "是", "深度融合"],
        ["", "90%", 1.0, "常态应用"],
        [300.0, "", "无", ""],
        ["百兆", "101%", "也许", "未知"],
        [12.0, "95%", 0.0, "深度融合"],
        [-1.0, "9 %", True, "常态应用"],
        ["", "", "", ""],
        [1000.0, "70%", "否", "常态应用"],
    ]
    rows = [header]
    for i, row in enumerate(cells):
        rows.append([f"S{i:03d}", f"学校{i}", *row])
    rows.insert(4, ["X999", "别处的学校", 1.0, "1%", "是", "深度融合"])
    rows.insert(6, ["S000", "学校0", 5.0, "5%", "是", "深度融合"])
    roster = importers.Roster(
        by_code={f"S{i:03d}": 100 + i for i in range(len(cells))},
        by_name={f"学校{i}": [100 + i] for i in range(len(cells))},
        allowed={100 + i for i in range(len(cells))},
    )
    mapping = [{"column": f"列{i}", "indicator": f"I-{i}"} for i in range(len(measures))]
    indicators = {f"I-{i}": {"measure": m, "levels": lv} for i, (m, lv) in enumerate(measures)}

    def read():
        headers, body = importers.read_table(xlsx(rows), "export.xlsx")
        result = importers.ReadResult()
        columns = importers.plan_columns(
            headers, mapping=mapping, indicators=indicators, result=result, header_row=1
        )
        return headers, body, columns, result

    headers, body, columns, result = read()
    got = list(
        importers.iter_values(
            headers=headers,
            rows=body,
            code_column="代码",
            name_column="名称",
            columns=columns,
            roster=roster,
            result=result,
        )
    )
    headers, body, columns, _ = read()
    expected, expected_issues = reference_values(headers, body, columns, roster, "代码", "名称")
    assert got == expected
    assert (result.total_rows, result.matched_rows) == (10, 8)
    issues = [(i.row, i.column, i.message) for i in result.issues]
    assert [row for row, _c, _m in issues] == [row for row, *_ in expected_issues]
    parse_issues = [(r, c, m) for r, c, m in issues if c.startswith("列")]
    assert parse_issues == [i for i in expected_issues if i[1] not in ("unmatched", "again")]
    assert len(parse_issues) == 5  # 百兆, 101%, 也许, 未知, -1 ("9 %" reads as 9)
