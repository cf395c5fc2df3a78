"""Reading a participant list from CSV or XLSX into rows with line numbers.

Bureaus keep these lists in spreadsheets with Chinese headers; both Chinese and English
headers are accepted, and every row keeps the line it came from so errors can name it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from python_calamine import CalamineError, CalamineWorkbook

ORG_HEADERS = {"机构", "单位", "org", "机构代码或名称", "代码或名称"}
CODE_HEADERS = {"机构代码", "单位代码", "学校代码", "代码", "code", "org_code"}
NAME_HEADERS = {"机构名称", "单位名称", "学校名称", "名称", "name", "org_name"}
STATUS_HEADERS = {"状态", "status"}
NOTE_HEADERS = {"备注", "说明", "note"}


class TableInvalid(ValueError):
    pass


@dataclass(frozen=True)
class ListRow:
    line: int
    org_ref: str
    status: str
    note: str


def cell_text(value) -> str:
    """A spreadsheet or CSV cell as text (participant lists, certification imports)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Spreadsheets turn codes such as 410100 into 410100.0.
        return str(int(value))
    return str(value).strip()


def _rows_from_bytes(data: bytes, filename: str) -> list[list[str]]:
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        try:
            wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
            sheet = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
        except (CalamineError, ValueError, IndexError) as exc:
            raise TableInvalid(_("无法读取电子表格：%(error)s") % {"error": exc}) from exc
        return [[cell_text(c) for c in row] for row in sheet]
    if name.endswith((".csv", ".txt")):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise TableInvalid(_("CSV 文件编码无法识别（请使用 UTF-8 或 GBK）"))
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    raise TableInvalid(_("只支持 CSV 或 XLSX 文件"))


def read_list_rows(data: bytes, filename: str) -> list[ListRow]:
    """Rows of a list file: the first non-empty line is the header."""
    raw = _rows_from_bytes(data, filename)
    header_at = next((i for i, r in enumerate(raw) if any(r)), None)
    if header_at is None:
        raise TableInvalid(_("文件是空的"))
    header = [h.strip().lower() for h in raw[header_at]]

    def find(names: set[str]) -> int | None:
        lowered = {n.lower() for n in names}
        return next((i for i, h in enumerate(header) if h in lowered), None)

    org_i, code_i, name_i = find(ORG_HEADERS), find(CODE_HEADERS), find(NAME_HEADERS)
    status_i, note_i = find(STATUS_HEADERS), find(NOTE_HEADERS)
    if org_i is None and code_i is None and name_i is None:
        raise TableInvalid(
            _("第 %(line)s 行（表头）缺少机构列：请用“机构代码”“机构名称”或“机构”作列名")
            % {"line": header_at + 1}
        )
    rows = []
    for i, r in enumerate(raw[header_at + 1 :], start=header_at + 2):
        if not any(r):
            continue

        def get(idx: int | None, r=r) -> str:
            return r[idx] if idx is not None and idx < len(r) else ""

        ref = get(code_i) or get(org_i) or get(name_i)
        rows.append(ListRow(i, ref, get(status_i), get(note_i)))
    return rows
