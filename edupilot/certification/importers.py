"""Reading other systems' exports (XLSX or CSV) into typed values per school.

A :class:`~.models.DataSource` says which columns hold the school code and name and which
column feeds which indicator. Each row is matched to a school of the batch by code first,
then by exact name; whatever does not match or parse becomes a row-level issue naming the
row, the column and the cell, and the rest of the file still imports.

Everything here streams: rows are read, matched and parsed a block at a time and handed on
(:func:`iter_blocks`), so that the caller can write them in bounded chunks; only the row
report is kept, and only its first :data:`MAX_ISSUES` lines. An XLSX sheet is read a few
megabytes of XML at a time (:mod:`.xlsx_stream`), a CSV through an incremental decoder.

This module reads and matches; writing the values into the batch is services.py's job.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from edupilot.programmes.tables import cell_text

from . import engine, xlsx_stream

MAX_ISSUES = 5000  # enough to fix a file by; a file that bad gets its first issues only


class TableError(ValueError):
    """The file as a whole cannot be read (message in Chinese)."""


def _norm_header(value: Any) -> str:
    return "".join(str(value or "").split())


def read_table(
    content: bytes | IO[bytes], filename: str, *, sheet: str = "", header_row: int = 1
) -> tuple[list[str], Iterator[tuple[int, list]]]:
    """Headers and an iterator of (row number, cells) after the header row.

    ``content`` is the file's bytes or a seekable binary file, which is read as the rows are
    (keep it open until they are consumed).
    """
    fh = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
    fh.seek(0)
    magic = fh.read(4)
    fh.seek(0)
    xlsx = magic == b"PK\x03\x04"
    rows = _xlsx_rows(fh, filename, sheet) if xlsx else _csv_rows(fh, filename)
    headers: list[str] | None = None
    for rowno, cells in rows:
        if rowno == header_row:
            headers = [_norm_header(c) for c in cells]
            break
    if headers is None:
        raise TableError(f"文件“{filename}”没有第 {header_row} 行（表头）")

    def body():
        for rowno, cells in rows:
            if any(c not in (None, "") for c in cells):
                yield rowno, cells

    return headers, body()


def _xlsx_rows(fh: IO[bytes], filename: str, sheet: str):
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(fh)
        if sheet and sheet not in wb.sheet_names:
            wb.get_sheet_by_name(sheet)  # calamine's own words for what is wrong
        rows = xlsx_stream.open_rows(fh, sheet)
        if rows is None:  # laid out otherwise than usual: read the sheet whole
            ws = wb.get_sheet_by_name(sheet) if sheet else wb.get_sheet_by_index(0)
            rows = enumerate(ws.iter_rows(), start=1)
        del wb
    except Exception as exc:  # calamine's errors: not a workbook, no such sheet
        if sheet:
            raise TableError(f"文件“{filename}”中没有工作表“{sheet}”，或无法读取：{exc}") from exc
        raise TableError(f"无法读取 XLSX 文件“{filename}”：{exc}") from exc
    try:
        yield from rows
    except Exception as exc:  # a piece of the sheet calamine cannot read
        raise TableError(f"无法读取 XLSX 文件“{filename}”：{exc}") from exc


def _csv_encoding(fh: IO[bytes]) -> str | None:
    """UTF-8 (often with a BOM) if the whole file decodes as such, else GB18030 if it does:
    decided in one pass per encoding over the stream, without holding the text."""
    for encoding in ("utf-8-sig", "gb18030"):
        fh.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _csv_rows(fh: IO[bytes], filename: str):
    # Chinese systems export CSV in UTF-8 (often with a BOM) or in GB18030/GBK.
    encoding = _csv_encoding(fh)
    if encoding is None:
        raise TableError(f"文件“{filename}”的编码无法识别（应为 UTF-8 或 GBK）")
    fh.seek(0)
    text = io.TextIOWrapper(fh, encoding=encoding, newline="")
    try:
        dialect = csv.Sniffer().sniff(text.read(4096), delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    text.seek(0)
    reader = csv.reader(text, dialect)
    rowno = 0
    try:
        for rowno, cells in enumerate(reader, start=1):
            yield rowno, cells
    except csv.Error as exc:
        raise TableError(f"文件“{filename}”第 {rowno + 1} 行无法按 CSV 读取：{exc}") from exc
    finally:
        text.detach()  # the caller closes the file


@dataclass
class Issue:
    row: int
    column: str
    school: str
    message: str


@dataclass
class Roster:
    """The schools of a batch an importer may write to, for matching rows."""

    by_code: dict[str, int]
    by_name: dict[str, list[int]]
    allowed: set[int]
    # Org codes/names that exist but are not in the batch, with the reason (kindergarten …).
    outside: dict[str, str] = field(default_factory=dict)


@dataclass
class ColumnSpec:
    index: int
    header: str
    indicator: str
    measure: str
    levels: list[str]
    scale: float
    parse: Any = None
    parse_column: Any = None

    def __post_init__(self):
        self.parse = engine.make_parser(self.measure, self.levels, scale=self.scale)
        self.parse_column = engine.make_column_parser(self.measure, self.levels, scale=self.scale)


@dataclass
class ReadResult:
    """Counts and the row report; the values themselves stream on (:func:`iter_values`)."""

    total_rows: int = 0
    matched_rows: int = 0
    issues: list[Issue] = field(default_factory=list)  # the first MAX_ISSUES
    issue_count: int = 0  # all of them

    def issue(self, row: int, column: str, school: str, message: str) -> None:
        self.issue_count += 1
        if len(self.issues) < MAX_ISSUES:
            self.issues.append(Issue(row, column[:100], school[:200], message[:300]))


def plan_columns(
    headers: list[str],
    *,
    mapping: list[dict],
    indicators: dict[str, dict],
    result: ReadResult,
    header_row: int,
) -> list[ColumnSpec]:
    """Which file column feeds which indicator; problems with the mapping become issues."""
    position = {h: i for i, h in enumerate(headers) if h}
    out = []
    for item in mapping:
        header = _norm_header(item.get("column"))
        code = item.get("indicator", "")
        if code not in indicators:
            result.issue(
                header_row, header, "", f"映射中的指标 {code} 不在本批次的认定标准中，该列未导入"
            )
            continue
        if header not in position:
            result.issue(
                header_row, header, "", f"文件中没有列“{header}”（映射到指标 {code}），该列未导入"
            )
            continue
        ind = indicators[code]
        out.append(
            ColumnSpec(
                position[header],
                header,
                code,
                ind["measure"],
                list(ind.get("levels") or []),
                float(item.get("scale") or 1),
            )
        )
    return out


BLOCK_ROWS = 500  # rows matched, then parsed column by column, at a time


@dataclass
class Block:
    """Matched rows of one block with their values a column at a time: ``columns[j][i]`` is
    indicator ``indicators[j]``'s value for the school ``entry_ids[i]`` (None: no value).
    Every row has at least one value; rows are in the file's order."""

    entry_ids: list[int]
    indicators: list[str]
    columns: list[list]

    def values(self, i: int) -> dict[str, Any]:
        """Row ``i``'s ``{indicator: value}``, as :func:`iter_values` yields it."""
        return {
            k: v
            for k, col in zip(self.indicators, self.columns, strict=True)
            if (v := col[i]) is not None
        }

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        indicators = self.indicators
        for entry_id, vals in zip(self.entry_ids, zip(*self.columns, strict=True), strict=True):
            if None in vals:
                yield (
                    entry_id,
                    {k: v for k, v in zip(indicators, vals, strict=True) if v is not None},
                )
            else:
                yield entry_id, dict(zip(indicators, vals, strict=True))


def iter_values(**kwargs) -> Iterator[tuple[int, dict[str, Any]]]:
    """:func:`iter_blocks`' rows one at a time: ``(entry id, {indicator: value})`` for each
    matched row that has values, in the file's order."""
    for block in iter_blocks(**kwargs):
        yield from block.rows()


def iter_blocks(
    *,
    headers: list[str],
    rows: Iterator[tuple[int, list]],
    code_column: str,
    name_column: str,
    columns: list[ColumnSpec],
    roster: Roster,
    result: ReadResult,
    progress=None,
    total_hint: int | None = None,
) -> Iterator[Block]:
    """Match each row to a school and parse its mapped cells: yields a :class:`Block` of the
    matched rows that have values, :data:`BLOCK_ROWS` rows of the file at a time, in the
    file's order; counts the rows and reports the issues into ``result`` (row by row, each
    row's columns in the mapping's order). Each block's rows are matched one by one, then
    their cells parsed a column at a time (:func:`~.values.make_column_parser`)."""
    match = _matcher(headers, code_column, name_column, roster, result)
    width = max((col.index + 1 for col in columns), default=0)
    block: list[tuple[int, list]] = []
    for rowno, cells in rows:
        result.total_rows += 1
        if progress is not None and result.total_rows % 2000 == 0:
            progress(result.total_rows, total_hint, "正在读取与匹配")
        block.append((rowno, cells))
        if len(block) >= BLOCK_ROWS:
            if found := _block_values(block, match, columns, width, result):
                yield found
            block = []
    if block and (found := _block_values(block, match, columns, width, result)):
        yield found


def _matcher(headers, code_column: str, name_column: str, roster: Roster, result: ReadResult):
    """``match(rowno, cells, pending) -> (entry id, label) or None``; a row that does not
    match (or repeats a school) adds its issue to ``pending`` as ``((rowno, -1), …)``."""
    code_idx = headers.index(_norm_header(code_column)) if code_column else None
    name_idx = headers.index(_norm_header(name_column)) if name_column else None
    seen: dict[int, int] = {}
    key_column = code_column or name_column

    def match(rowno: int, cells: list, pending: list):
        code = cell_text(cells[code_idx]) if code_idx is not None and code_idx < len(cells) else ""
        name = cell_text(cells[name_idx]) if name_idx is not None and name_idx < len(cells) else ""
        label = name or code
        entry_id = roster.by_code.get(code) if code else None
        if entry_id is None and name:
            candidates = roster.by_name.get(name, [])
            if len(candidates) > 1:
                message = f"学校名称“{name}”对应多所学校，请在文件中提供学校代码"
                pending.append(((rowno, -1), name_column, label, message))
                return None
            entry_id = candidates[0] if candidates else None
        if entry_id is None:
            reason = roster.outside.get(code) or roster.outside.get(name)
            if reason:
                pending.append(((rowno, -1), key_column, label, reason))
            elif code:
                message = f"学校代码“{code}”和名称“{name}”均未匹配到本批次的学校"
                pending.append(((rowno, -1), code_column, label, message))
            else:
                message = f"学校名称“{name}”未匹配到本批次的学校"
                pending.append(((rowno, -1), name_column, label, message))
            return None
        if entry_id not in roster.allowed:
            message = "该校不在您单位的管辖范围内，未导入"
            pending.append(((rowno, -1), key_column, label, message))
            return None
        if entry_id in seen:
            message = f"与第 {seen[entry_id]} 行是同一所学校，已忽略本行"
            pending.append(((rowno, -1), key_column, label, message))
            return None
        seen[entry_id] = rowno
        result.matched_rows += 1
        return entry_id, label

    return match


def _block_values(
    block, match, columns: list[ColumnSpec], width: int, result: ReadResult
) -> Block | None:
    """One block of rows: matched, parsed a column at a time, issues in row order."""
    pending: list = []
    kept, cells_of = [], []
    for rowno, cells in block:
        found = match(rowno, cells, pending)
        if found is None:
            continue
        if len(cells) < width:
            cells = [*cells, *[None] * (width - len(cells))]
        kept.append((rowno, *found))
        cells_of.append(cells)
    parsed = []
    if kept and columns:
        by_column = list(zip(*cells_of, strict=False))  # every row has at least ``width`` cells
        for position, col in enumerate(columns):
            parsed.append(_parse_column(col, position, by_column[col.index], kept, pending))
    for key, column, label, message in sorted(pending, key=lambda issue: issue[0]):
        result.issue(key[0], column, label, message)
    entry_ids = [entry_id for _rowno, entry_id, _label in kept]
    if not parsed or not entry_ids:
        return None
    # Rows without any value are not handed on. Such a row has a None in every column, so
    # only the gaps of the column with the fewest need looking at (usually there are none).
    fewest = min(parsed, key=lambda vals: vals.count(None))
    if None in fewest:
        gaps, i = [], -1
        for _ in range(fewest.count(None)):
            i = fewest.index(None, i + 1)
            gaps.append(i)
        empty = {i for i in gaps if all(vals[i] is None for vals in parsed)}
        if empty:
            if len(empty) == len(entry_ids):
                return None
            keep = [i for i in range(len(entry_ids)) if i not in empty]
            entry_ids = [entry_ids[i] for i in keep]
            parsed = [[vals[i] for i in keep] for vals in parsed]
    return Block(entry_ids, [col.indicator for col in columns], parsed)


def _parse_column(col: ColumnSpec, position: int, cells, kept: list, pending: list) -> list:
    """The column's values for the kept rows: at once where the column's shape allows, else
    (and for each cell the column parser left) cell by cell; a cell that cannot be read
    becomes an issue and no value."""
    values = col.parse_column(cells)
    if values is None:
        values = [None] * len(cells)
        todo = range(len(cells))
    elif None in values:
        todo, i = [], -1
        for _ in range(values.count(None)):  # the few cells left: found by C's index
            i = values.index(None, i + 1)
            todo.append(i)
    else:
        return values
    parse = col.parse
    for i in todo:
        try:
            values[i] = parse(cells[i])
        except engine.ValueError_ as exc:
            rowno, _entry_id, label = kept[i]
            pending.append(((rowno, position), col.header, label, f"{col.indicator}：{exc}"))
    return values
