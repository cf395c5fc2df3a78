"""XLSX exports: a small class per table, one writer for all.

A subclass declares ``title`` and ``columns`` and yields rows from ``rows()``::

    class SchoolList(XlsxExport):
        title = "试点学校推荐汇总表"
        columns = [
            Column("学校名称", 30),
            Column("出口带宽（Mbps）", 14, "int"),
            Column("提交时间", 18, "datetime"),
        ]

        def __init__(self, *, scope, programme):
            self.scope, self.programme = scope, programme

        def rows(self):
            for app in selectors.applications_for(scope=self.scope, programme=self.programme):
                yield [app.applicant_org.name, app.applicant_org.bandwidth_mbps, app.submitted_at]

    SchoolList(scope=..., programme=...).write(fileobj, progress=report)

``write`` streams with XlsxWriter's ``constant_memory`` mode, so memory stays flat however
many rows there are; rows must therefore come in order, which a generator gives naturally.
Text cells are always written as text, never as formulas, so an applicant who types
``=HYPERLINK(...)`` into a form gets that text in the sheet, not a live formula.
Large exports run as background jobs (see ``edupilot.core.jobs`` and :func:`export_job_result`).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Literal
from zoneinfo import ZoneInfo

import xlsxwriter
from django.http import FileResponse
from django.utils.translation import gettext as _

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHANGHAI = ZoneInfo("Asia/Shanghai")

Kind = Literal["text", "int", "number", "percent", "date", "datetime", "bool"]
Progress = Callable[..., None]

# Excel's own limits; a longer cell is cut with a visible mark rather than refused.
MAX_CELL_CHARS = 32767
MAX_SHEET_ROWS = 1_048_576
_INVALID_SHEET_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})


@dataclass(frozen=True)
class Column:
    """One column: its header (Chinese), its width in characters, and the kind of value.

    kinds: ``text``; ``int``; ``number`` (two decimals, or ``num_format``); ``percent``
    (0.25 shows as 25.0%); ``date``; ``datetime`` (aware values shown in Asia/Shanghai);
    ``bool`` (是/否).
    """

    header: str
    width: float = 14
    kind: Kind = "text"
    num_format: str | None = None
    wrap: bool = False
    # A header cell spanning adjacent columns of the same group, above their own headers
    # (试点工作负责人 over 姓名/职务/联系电话): the header then takes two rows.
    group: str = ""


_FORMATS: dict[str, dict] = {
    "text": {},
    "int": {"num_format": "0"},
    "number": {"num_format": "0.00"},
    "percent": {"num_format": "0.0%"},
    "date": {"num_format": "yyyy-mm-dd"},
    "datetime": {"num_format": "yyyy-mm-dd hh:mm"},
    "bool": {"align": "center"},
}


class XlsxExport:
    """Base of every XLSX export. Subclasses set ``title``, ``columns`` and ``rows()``."""

    title: str = ""
    columns: Sequence[Column] = ()
    # A line above the header (the notice's table title); the header then starts on row 2.
    heading: str = ""
    # Lines between the heading and the header, each across the table's width, such as
    # "申报单位（盖章）：……  填表人：……  联系电话：……" of a summary table.
    preamble: Sequence[str] = ()
    # Call progress(done, total) every this many rows.
    progress_every: int = 500

    def rows(self) -> Iterable[Sequence]:
        raise NotImplementedError

    def total(self) -> int | None:
        """The number of rows, if cheap to know (for the progress bar); None if not."""
        return None

    def filename(self) -> str:
        return f"{self.title or 'export'}.xlsx"

    def sheet_name(self) -> str:
        # Excel: at most 31 characters, none of []:*?/\ .
        return (self.title or "Sheet1").translate(_INVALID_SHEET_CHARS)[:31]

    # -- writing ------------------------------------------------------------------------
    def write(
        self, fileobj: IO[bytes] | str | os.PathLike, progress: Progress | None = None
    ) -> int:
        """Write the workbook to ``fileobj`` (a path or a binary file); return rows written."""
        target = os.fspath(fileobj) if isinstance(fileobj, str | os.PathLike) else fileobj
        workbook = xlsxwriter.Workbook(
            target,
            {
                "constant_memory": True,
                # Text stays text: no formulas, numbers or URLs guessed from strings.
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "remove_timezone": True,
                "tmpdir": tempfile.gettempdir(),
            },
        )
        try:
            return self._write_sheet(workbook, progress)
        finally:
            workbook.close()

    def _write_sheet(self, workbook, progress: Progress | None) -> int:
        sheet = workbook.add_worksheet(self.sheet_name())
        columns = list(self.columns)
        if not columns:
            raise ValueError("an export needs at least one column")
        base = {"font_name": "宋体", "font_size": 11, "valign": "vcenter"}
        header_fmt = workbook.add_format(
            {
                **base,
                "bold": True,
                "bg_color": "#D9E2F3",
                "border": 1,
                "align": "center",
                "text_wrap": True,
            }
        )
        cell_fmts = []
        for col in columns:
            spec = {**base, **_FORMATS[col.kind]}
            if col.num_format:
                spec["num_format"] = col.num_format
            if col.wrap:
                spec["text_wrap"] = True
            cell_fmts.append(workbook.add_format(spec))

        for i, col in enumerate(columns):
            sheet.set_column(i, i, col.width)

        row_no = 0
        if self.heading:
            title_fmt = workbook.add_format(
                {**base, "bold": True, "font_size": 14, "align": "center"}
            )
            sheet.set_row(0, 28)
            if len(columns) > 1:
                sheet.merge_range(0, 0, 0, len(columns) - 1, self.heading, title_fmt)
            else:
                sheet.write_string(0, 0, self.heading, title_fmt)
            row_no = 1
        if self.preamble:
            line_fmt = workbook.add_format({**base, "align": "left"})
            for line in self.preamble:
                sheet.set_row(row_no, 22)
                if len(columns) > 1:
                    sheet.merge_range(row_no, 0, row_no, len(columns) - 1, str(line), line_fmt)
                else:
                    sheet.write_string(row_no, 0, str(line), line_fmt)
                row_no += 1
        row_no = _write_header(sheet, row_no, columns, header_fmt)
        header_row = row_no - 1
        sheet.freeze_panes(row_no, 0)

        total = self.total()
        every = max(1, int(self.progress_every))
        done = 0
        if progress is not None:
            progress(0, total)
        writers = [_writer_for(col.kind) for col in columns]
        width = len(columns)
        for values in self.rows():
            if row_no >= MAX_SHEET_ROWS:
                raise ValueError(
                    _("导出超过 Excel 的行数上限（%(n)d 行），请缩小范围后重试。")
                    % {"n": MAX_SHEET_ROWS - header_row - 1}
                )
            for i in range(width):
                value = values[i] if i < len(values) else None
                if value is not None and value != "":
                    writers[i](sheet, row_no, i, value, cell_fmts[i])
            row_no += 1
            done += 1
            if progress is not None and done % every == 0:
                progress(done, total)
        if done:
            sheet.autofilter(header_row, 0, row_no - 1, width - 1)
        if progress is not None:
            progress(done, total if total is not None else done)
        return done

    # -- conveniences -------------------------------------------------------------------
    def response(self) -> FileResponse:
        """Write to a temporary file and return it as a download (for small exports)."""
        tmp = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
        self.write(tmp)
        tmp.seek(0)
        return FileResponse(
            tmp, as_attachment=True, filename=self.filename(), content_type=XLSX_CONTENT_TYPE
        )


def _write_header(sheet, row: int, columns: list[Column], fmt) -> int:
    """Write the header at ``row``; return the first row after it.

    With groups, the header takes two rows: a group's name merged across its adjacent
    columns above their own headers, and each ungrouped header merged down over both rows.
    """
    if not any(col.group for col in columns):
        sheet.set_row(row, 30)
        for i, col in enumerate(columns):
            sheet.write_string(row, i, str(col.header), fmt)
        return row + 1
    top, sub = row, row + 1
    sheet.set_row(top, 22)
    sheet.set_row(sub, 30)
    spans: list[tuple[int, int, str]] = []  # (first, last, group) of adjacent equal groups
    for i, col in enumerate(columns):
        if col.group and spans and spans[-1][2] == col.group and spans[-1][1] == i - 1:
            spans[-1] = (spans[-1][0], i, col.group)
        elif col.group:
            spans.append((i, i, col.group))
    grouped = {i for first, last, _g in spans for i in range(first, last + 1)}
    # constant_memory flushes a row as soon as a later row is written, so the top row is
    # written completely before the sub row, and the vertical merges of ungrouped headers
    # are recorded afterwards (merge_range would write into the already flushed top row).
    for first, last, group in spans:
        if last > first:
            sheet.merge_range(top, first, top, last, group, fmt)
        else:
            sheet.write_string(top, first, group, fmt)
    for i, col in enumerate(columns):
        if i not in grouped:
            sheet.write_string(top, i, str(col.header), fmt)
    for i, col in enumerate(columns):
        if i in grouped:
            sheet.write_string(sub, i, str(col.header), fmt)
        else:
            sheet.write_blank(sub, i, None, fmt)
    for i in range(len(columns)):
        if i not in grouped:
            sheet.merge.append([top, i, sub, i])
    return sub + 1


def _text(sheet, r, c, value, fmt):
    s = str(value)
    if len(s) > MAX_CELL_CHARS:
        s = s[: MAX_CELL_CHARS - 1] + "…"
    sheet.write_string(r, c, s, fmt)


def _number(sheet, r, c, value, fmt):
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int | float | Decimal):
        sheet.write_number(r, c, float(value), fmt)
    else:
        _text(sheet, r, c, value, fmt)


def _datetime(sheet, r, c, value, fmt):
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(SHANGHAI).replace(tzinfo=None)
        sheet.write_datetime(r, c, value, fmt)
    elif isinstance(value, dt.date):
        sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), fmt)
    else:
        _text(sheet, r, c, value, fmt)


def _bool(sheet, r, c, value, fmt):
    if isinstance(value, bool):
        sheet.write_string(r, c, "是" if value else "否", fmt)
    else:
        _text(sheet, r, c, value, fmt)


def _writer_for(kind: str):
    return {
        "text": _text,
        "int": _number,
        "number": _number,
        "percent": _number,
        "date": _datetime,
        "datetime": _datetime,
        "bool": _bool,
    }[kind]


def export_job_result(export: XlsxExport, report: Progress):
    """Run ``export`` inside a background job: write to a temporary file, return the result.

    For use in a job function registered with ``edupilot.core.jobs.register_job``::

        @register_job("review.summary_xlsx")
        def summary_xlsx(job, report):
            return export_job_result(SummaryExport(scope=job.scope(), **job.params), report)
    """
    from edupilot.core.jobs import JobResult

    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="edupilot-export-")
    os.close(fd)
    try:
        export.write(path, progress=report)
    except BaseException:
        os.unlink(path)
        raise
    return JobResult(
        filename=export.filename(),
        content_type=XLSX_CONTENT_TYPE,
        content=path,
        delete_after=True,
    )
