"""Imports stream: values are written chunk by chunk as the file is read, and a large file
is never held whole (issue 12 §7). Memory is measured with tracemalloc (the Python heap,
deterministic), never with timings."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from edupilot.certification import services, xlsx_stream
from edupilot.certification.models import Entry, ImportState
from edupilot.certification.services import imports as import_services

from .conftest import COLUMNS, GOOD, acting, scope_for

HEADER = ["学校标识码", "学校名称", *COLUMNS.values()]
SCHOOLS = [
    ("HZXH001", "西湖区第一小学"),
    ("HZXH002", "西湖区第二中学"),
    ("HZSC001", "上城区第一小学"),
    ("HZCD001", "杭州市第一中学"),
]


def csv_export(unmatched: int) -> bytes:
    """The four Hangzhou schools, then ``unmatched`` rows of schools from elsewhere."""
    good = ",".join(str(v) for v in GOOD.values())
    lines = [",".join(HEADER)]
    lines += [f"{code},{name},{good}" for code, name in SCHOOLS]
    lines += [f"X{i:07d},其他省份某县第{i}所学校,{good}" for i in range(unmatched)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def start(hz, content: bytes, name: str):
    return services.import_prepare(
        batch=hz.batch,
        source=hz.source,
        content=content,
        filename=name,
        as_of=None,
        **acting(hz.city_admin, hz.city),
    ).run


def test_values_are_written_while_the_file_is_still_being_read(hz, monkeypatch):
    # Chunks of two schools, so that four schools make two chunks before row 2,000.
    monkeypatch.setattr(import_services, "CHUNK", 2)
    run = start(hz, csv_export(2100), "national.csv")
    written_at = {}

    def progress(done, total, message):
        if message == "正在读取与匹配":
            written_at[done] = Entry.objects.filter(batch=hz.batch).exclude(data={}).count()

    run = services.import_execute(
        run=run, scope=scope_for(hz.city_admin, hz.city), progress=progress, assess=False
    )
    assert run.state == ImportState.DONE
    assert (run.total_rows, run.matched_rows, run.issue_count) == (2104, 4, 2100)
    # By the 2,000th row both chunks (all four schools) were in the database: nothing waits
    # for the end of the file, so no more than a chunk of values is ever held.
    assert written_at[2000] == 4
    assert hz.entry(hz.xh_primary).data["ZJ-02"] == [1000.0, f"i{run.pk}", "2099-08-31"]


def test_a_large_csv_is_read_without_holding_it(hz):
    content = csv_export(150_000)
    assert len(content) > 20_000_000
    run = start(hz, content, "全国.csv")
    scope = scope_for(hz.city_admin, hz.city)
    tracemalloc.start()
    try:
        run = services.import_execute(run=run, scope=scope, assess=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert run.state == ImportState.DONE
    assert (run.matched_rows, run.issue_count, run.issues.count()) == (4, 150_000, 5000)
    # Holding the file (its bytes, its text) would take more than the whole file; streaming
    # takes the row report's first 5,000 lines and a chunk, whatever the file's length.
    assert peak < len(content) / 2, f"peak {peak / 1e6:.1f} MB for {len(content) / 1e6:.1f} MB"


def test_a_csv_that_cannot_be_read_to_its_end_writes_nothing(hz):
    # A cell over the csv module's field limit (128 KiB) on row 16: a clear error, and the
    # schools already read on rows 2-5 are not written either.
    content = csv_export(10) + b"HZSC001,x," + b"9" * 200_000 + b"\r\n"
    run = services.import_execute(
        run=start(hz, content, "broken.csv"), scope=scope_for(hz.city_admin, hz.city)
    )
    assert run.state == ImportState.FAILED
    assert "无法按 CSV 读取" in run.message and "第 16 行" in run.message
    assert hz.entry(hz.xh_primary).data == {}


def _whole_sheet(content: bytes, sheet: str = "") -> list:
    wb = CalamineWorkbook.from_filelike(io.BytesIO(content))
    ws = wb.get_sheet_by_name(sheet) if sheet else wb.get_sheet_by_index(0)
    return _trimmed(enumerate(ws.iter_rows(), start=1))


def _trimmed(rows) -> list:
    out = []
    for rowno, cells in rows:
        cells = list(cells)
        while cells and cells[-1] in ("", None):
            cells.pop()
        out.append((rowno, cells))
    while out and not out[-1][1]:
        out.pop()
    return out


def test_a_sheet_read_in_pieces_gives_what_calamine_gives_for_it_whole():
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})  # shared strings, unlike the bench
    wb.add_worksheet("说明").write(0, 0, "第一个工作表不是数据")
    ws = wb.add_worksheet("数据")
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["学校标识码", "学校名称", "A&B <c>", "是否"])
    for r in range(1, 300):
        ws.write_row(r, 0, [f"C{r:04d}", f"学校{r}", r * 1.5, True if r % 2 else "否"])
        if r % 7 == 0:
            ws.write_datetime(r, 4, dt.datetime(2024, 1, r % 28 + 1), day)
        if r % 11 == 0:
            ws.write_formula(r, 5, "=1+1", None, 2)
    ws.write(400, 2, "after a gap")
    wb.close()
    content = buf.getvalue()
    for sheet in ("数据", ""):
        pieces = xlsx_stream.open_rows(io.BytesIO(content), sheet, block=300)
        assert _trimmed(pieces) == _whole_sheet(content, sheet)


READ_IN_CHILD = """
import sys, io
from edupilot.certification import importers
from python_calamine import CalamineWorkbook

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0

content = open(sys.argv[2], "rb").read()
start, cells = hwm(), 0
if sys.argv[1] == "whole":
    for row in CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).iter_rows():
        cells += len(row)
else:
    headers, rows = importers.read_table(io.BytesIO(content), "x.xlsx")
    for _, row in rows:
        cells += len(row)
print(cells, hwm() - start)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak RSS read from /proc")
def test_an_xlsx_sheet_is_not_held_whole(tmp_path):
    # 20,000 rows × 40 cells. Peak RSS of a fresh process reading it: the import's reader
    # against calamine reading the sheet whole (which the import did before).
    path = tmp_path / "export.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("数据")
    ws.write_row(0, 0, ["学校标识码", *[f"指标{i}" for i in range(39)]])
    for r in range(1, 20_000):
        ws.write_row(r, 0, [f"C{r:06d}", *(["是", 1000, "95%", "常态应用"] * 10)[:39]])
    wb.close()

    def grows(kind):
        out = subprocess.run(
            [sys.executable, "-c", READ_IN_CHILD, kind, str(path)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
        cells, growth = map(int, out.stdout.split())
        assert cells >= 19_999 * 40
        return growth

    whole, streamed = grows("whole"), grows("streamed")
    assert streamed < whole / 2, f"streamed {streamed / 1e6:.0f} MB, whole {whole / 1e6:.0f} MB"
