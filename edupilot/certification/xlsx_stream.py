"""One XLSX sheet read a few thousand rows at a time, with python-calamine.

calamine reads a sheet whole: for 50,000 schools × 80 indicators that is ~370 MB of cells
before the first row is seen. Here the sheet's XML is decompressed as a stream and cut after
a row's end tag every :data:`BLOCK` bytes; calamine reads each piece as a workbook of its
own (the file's own workbook, shared strings and styles, the piece as the sheet), so cell
values come out exactly as calamine gives them, with a few megabytes held at a time.

Rows come with their sheet row number (1-based) and their cells from column A, rows without
cells as empty lists, like reading the sheet whole. A workbook laid out otherwise than the
standard (the sheet not found through the workbook's relationships, ``sheetData`` not
found) gives None, and the caller reads the sheet whole.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from typing import IO
from xml.etree import ElementTree as ET  # noqa: S405 (small package parts; expat limits entities)

BLOCK = 1 << 20  # bytes of sheet XML per piece at least (~250 rows of 80 cells)

_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SHEET_DATA = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)sheetData(?:\s[^>]*)?(/?)>")
_EMPTY_SHEET = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData/></worksheet>"
)


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, part name) of ``part``."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", f"{name}.rels")
    out = {}
    for rel in ET.fromstring(zf.read(rels_name)).iter(_REL):  # noqa: S314
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        out[rel.get("Id", "")] = (rel.get("Type", ""), posixpath.normpath(path))
    return out


def _sheet_parts(zf: zipfile.ZipFile, sheet: str) -> tuple[str, str, list[str]] | None:
    """The name and part of ``sheet`` (the first sheet if empty), and every worksheet part."""
    root = [p for t, p in _rels(zf, "").values() if t.endswith("/officeDocument")]
    if len(root) != 1:
        return None
    workbook = root[0]
    rels = _rels(zf, workbook)
    sheets = [
        (el.get("name", ""), el.get(f"{{{_DOC}}}id", ""))
        for el in ET.fromstring(zf.read(workbook)).iter()  # noqa: S314
        if el.tag.endswith("}sheet")
    ]
    chosen = [(n, rid) for n, rid in sheets if n == sheet] if sheet else sheets[:1]
    if len(chosen) != 1 or chosen[0][1] not in rels:
        return None
    name, (kind, part) = chosen[0][0], rels[chosen[0][1]]
    worksheets = [p for t, p in rels.values() if t.endswith("/worksheet")]
    if not kind.endswith("/worksheet") or part not in zf.namelist():
        return None
    return name, part, worksheets


def open_rows(fh: IO[bytes], sheet: str, *, block: int = BLOCK) -> Iterator | None:
    """``(row number, cells)`` of the sheet, read piece by piece; None: read it whole."""
    fh.seek(0)
    try:
        zf = zipfile.ZipFile(fh)
        found = _sheet_parts(zf, sheet)
        if found is None:
            return None
        with zf.open(found[1]) as stream:
            start = b""
            while not _SHEET_DATA.search(start):
                more = stream.read(1 << 20)
                if not more:
                    return None
                start += more
    except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError, ValueError):
        return None
    return _rows(zf, *found, block)


def _rows(zf: zipfile.ZipFile, name: str, part: str, worksheets: list[str], block: int):
    # Every part calamine may look at, but the other sheets (empty) and this one (a piece).
    parts = {
        info.filename: _EMPTY_SHEET if info.filename in worksheets else zf.read(info.filename)
        for info in zf.infolist()
        if info.filename != part and not info.is_dir()
    }
    # Each piece carries the other parts (shared strings above all): keep them a fifth of it.
    block = max(block, 4 * sum(len(content) for content in parts.values()))
    next_row = 1
    for rowno, cells in _pieces(zf, name, part, parts, block):
        while next_row < rowno:  # rows without cells, as a whole-sheet read gives them
            yield next_row, []
            next_row += 1
        yield rowno, cells
        next_row = rowno + 1


def _pieces(zf: zipfile.ZipFile, name: str, part: str, parts: dict[str, bytes], block: int):
    """The sheet's rows, each piece of its XML read by calamine as a workbook of its own."""
    from python_calamine import CalamineWorkbook

    with zf.open(part) as stream:
        buf = b""
        while (m := _SHEET_DATA.search(buf)) is None:
            more = stream.read(block)
            if not more:
                return
            buf += more
        head, buf = buf[: m.end()], buf[m.end() :]
        if m.group(2):  # <sheetData/>: no rows
            return
        prefix = m.group(1)
        end_row, end_data = b"</" + prefix + b"row>", b"</" + prefix + b"sheetData>"
        root = re.search(rb"<([A-Za-z_][\w.:-]*)[\s>]", head.split(b"?>", 1)[-1])
        tail = end_data + b"</" + (root.group(1) if root else b"worksheet") + b">"
        done = False
        while not done:
            data = stream.read(block)
            buf += data
            if data:
                cut = buf.rfind(end_row)
                if cut < 0:
                    continue
                cut += len(end_row)
            else:
                done = True
                cut = buf.find(end_data)
                cut = len(buf) if cut < 0 else cut
            piece, buf = buf[:cut], buf[cut:]
            if not piece.strip():
                continue
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as mini:
                for part_name, content in parts.items():
                    mini.writestr(part_name, content)
                mini.writestr(part, head + piece + tail)
            del piece
            out.seek(0)
            ws = CalamineWorkbook.from_filelike(out).get_sheet_by_name(name)
            del out
            if ws.start is None:
                continue
            first_row, first_col = ws.start
            pad = [""] * first_col
            for i, cells in enumerate(ws.to_python(skip_empty_area=True)):
                yield first_row + i + 1, [*pad, *cells] if pad else cells
