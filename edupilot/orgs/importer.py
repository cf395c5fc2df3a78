"""Reading and checking rosters of schools (XLSX or CSV) for ``orgs_import``.

This module only reads and validates: it turns a file into rows of typed values and a list
of problems, each naming the row (as the spreadsheet numbers it), the column and the reason
in Chinese. Writing is services.orgs_import's job.

Bureaus' spreadsheets come from many hands, so reading is tolerant where it cannot hurt:
a title row above the header, full-width characters, "(必填)" in a header, numbers that Excel
stored as floats, "100M" for a bandwidth, "小学；初中" for stages. It is strict where a
guess could write a wrong fact: unknown kinds, stages or localities are refused, not guessed.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Locality, OrgKind, Ownership, Stage

MAX_ROWS = 200_000
HEADER_SCAN_ROWS = 10


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, encoding, no header)."""


@dataclass(frozen=True)
class Column:
    field: str
    label: str  # the canonical Chinese header, used in messages
    aliases: tuple[str, ...]


# Canonical header first; aliases are compared after normalisation (NFKC, no spaces, lower).
COLUMNS: tuple[Column, ...] = (
    Column(
        "code",
        "学校标识码",
        (
            "学校标识码",
            "学校代码",
            "标识码",
            "机构代码",
            "单位代码",
            "代码",
            "code",
            "schoolcode",
            "school_code",
        ),
    ),
    Column("name", "学校名称", ("学校名称", "机构名称", "单位名称", "名称", "name")),
    Column(
        "parent",
        "上级机构代码",
        (
            "上级机构代码",
            "上级代码",
            "上级机构",
            "主管部门代码",
            "主管单位代码",
            "parent",
            "parentcode",
            "parent_code",
        ),
    ),
    Column("kind", "类型", ("类型", "机构类型", "单位类型", "kind", "type")),
    Column("stages", "学段", ("学段", "办学层次", "stages", "stage")),
    Column("ownership", "办学性质", ("办学性质", "举办性质", "ownership")),
    Column("locality", "城乡类别", ("城乡类别", "城乡分类", "城乡", "locality")),
    Column(
        "bandwidth_mbps",
        "出口带宽(Mbps)",
        (
            "出口带宽(mbps)",
            "出口带宽(m)",
            "出口带宽",
            "带宽(mbps)",
            "带宽",
            "bandwidth",
            "bandwidth_mbps",
            "bandwidth(mbps)",
        ),
    ),
    Column(
        "teacher_count", "教师数", ("教师数", "专任教师数", "教职工数", "teachers", "teacher_count")
    ),
    Column("student_count", "学生数", ("学生数", "在校生数", "students", "student_count")),
    Column(
        "computer_count",
        "计算机数",
        ("计算机数", "计算机台数", "电脑数", "computers", "computer_count"),
    ),
    Column("address", "通讯地址", ("通讯地址", "地址", "学校地址", "address")),
    Column("postcode", "邮编", ("邮编", "邮政编码", "postcode", "zip", "zipcode")),
    Column("website", "网址", ("网址", "网站", "学校网址", "website", "url")),
    Column(
        "division_code",
        "所在行政区划代码",
        ("所在行政区划代码", "行政区划代码", "区划代码", "division_code"),
    ),
    Column("contact_name", "联系人", ("联系人", "联系人姓名", "contact", "contact_name")),
    Column(
        "contact_phone",
        "联系电话",
        ("联系电话", "联系人电话", "联系人手机", "电话", "contact_phone", "phone"),
    ),
    Column("contact_email", "联系邮箱", ("联系邮箱", "电子邮箱", "邮箱", "email", "contact_email")),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}

# Kinds a roster may create. The administrative tree above schools (province, city, county,
# functional zone) comes from the division registry (regions.py), never from a spreadsheet.
IMPORTABLE_KINDS = (OrgKind.SCHOOL, OrgKind.UNIVERSITY, OrgKind.UNIT)

KIND_VALUES = {
    "school": OrgKind.SCHOOL,
    "学校": OrgKind.SCHOOL,
    "中小学": OrgKind.SCHOOL,
    "中小学校": OrgKind.SCHOOL,
    "幼儿园": OrgKind.SCHOOL,
    "教学点": OrgKind.SCHOOL,
    "中职": OrgKind.SCHOOL,
    "中职学校": OrgKind.SCHOOL,
    "university": OrgKind.UNIVERSITY,
    "高等学校": OrgKind.UNIVERSITY,
    "高校": OrgKind.UNIVERSITY,
    "大学": OrgKind.UNIVERSITY,
    "高等院校": OrgKind.UNIVERSITY,
    "unit": OrgKind.UNIT,
    "直属单位": OrgKind.UNIT,
    "单位": OrgKind.UNIT,
    "事业单位": OrgKind.UNIT,
    "局直属单位": OrgKind.UNIT,
    # Recognised so that the message can say why they are refused.
    "province": OrgKind.PROVINCE,
    "省级": OrgKind.PROVINCE,
    "city": OrgKind.CITY,
    "设区市": OrgKind.CITY,
    "市级": OrgKind.CITY,
    "county": OrgKind.COUNTY,
    "县(市、区)": OrgKind.COUNTY,
    "县级": OrgKind.COUNTY,
    "zone": OrgKind.ZONE,
    "功能区": OrgKind.ZONE,
}

STAGE_VALUES: dict[str, tuple[str, ...]] = {
    "kindergarten": (Stage.KINDERGARTEN,),
    "幼儿园": (Stage.KINDERGARTEN,),
    "学前": (Stage.KINDERGARTEN,),
    "学前教育": (Stage.KINDERGARTEN,),
    "primary": (Stage.PRIMARY,),
    "小学": (Stage.PRIMARY,),
    "junior": (Stage.JUNIOR,),
    "初中": (Stage.JUNIOR,),
    "初级中学": (Stage.JUNIOR,),
    "senior": (Stage.SENIOR,),
    "高中": (Stage.SENIOR,),
    "普通高中": (Stage.SENIOR,),
    "高级中学": (Stage.SENIOR,),
    "vocational": (Stage.VOCATIONAL,),
    "中职": (Stage.VOCATIONAL,),
    "中等职业学校": (Stage.VOCATIONAL,),
    "中等职业教育": (Stage.VOCATIONAL,),
    "职高": (Stage.VOCATIONAL,),
    "职业高中": (Stage.VOCATIONAL,),
    "中专": (Stage.VOCATIONAL,),
    "技工学校": (Stage.VOCATIONAL,),
    "teaching_point": (Stage.TEACHING_POINT,),
    "教学点": (Stage.TEACHING_POINT,),
    "九年一贯制": (Stage.PRIMARY, Stage.JUNIOR),
    "完全中学": (Stage.JUNIOR, Stage.SENIOR),
    "十二年一贯制": (Stage.PRIMARY, Stage.JUNIOR, Stage.SENIOR),
}
STAGE_ORDER = [s.value for s in Stage]

OWNERSHIP_VALUES = {
    "public": Ownership.PUBLIC,
    "公办": Ownership.PUBLIC,
    "公立": Ownership.PUBLIC,
    "private": Ownership.PRIVATE,
    "民办": Ownership.PRIVATE,
    "私立": Ownership.PRIVATE,
}

LOCALITY_VALUES = {
    "urban": Locality.URBAN,
    "城区": Locality.URBAN,
    "城市": Locality.URBAN,
    "town": Locality.TOWN,
    "镇区": Locality.TOWN,
    "城镇": Locality.TOWN,
    "县镇": Locality.TOWN,
    "镇": Locality.TOWN,
    "rural": Locality.RURAL,
    "乡村": Locality.RURAL,
    "农村": Locality.RURAL,
}

CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{1,31}$")
# Fields that must match a pattern (after full-width digits and signs are folded), and what
# the row report says when one does not.
PATTERNS = {
    "postcode": (re.compile(r"^\d{6}$"), gettext_lazy("邮编应为 6 位数字")),
    "division_code": (
        re.compile(r"^\d{6}(\d{3}|\d{6})?$"),
        gettext_lazy("行政区划代码应为 6、9 或 12 位数字"),
    ),
    "contact_phone": (
        re.compile(r"^[0-9+()\- ]{5,30}$"),
        gettext_lazy("电话号码只能含数字、空格、“-”“+”和括号"),
    ),
}
INT_LIMITS = {
    "bandwidth_mbps": 100_000,
    "teacher_count": 100_000,
    "student_count": 500_000,
    "computer_count": 500_000,
}
MAX_LENGTHS = {
    "name": 200,
    "address": 200,
    "website": 200,
    "contact_name": 60,
    "contact_email": 120,
}


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it (1 = first line of the file)
    column: str  # the header as written in the file ("" when the row as a whole is refused)
    reason: str

    def __str__(self) -> str:
        where = _("第%(row)s行") % {"row": self.row}
        if self.column:
            where += _("“%(column)s”列") % {"column": self.column}
        return _("%(where)s：%(reason)s") % {"where": where, "reason": self.reason}


@dataclass
class ParsedRow:
    row: int
    code: str
    values: dict = field(default_factory=dict)  # field -> typed value (only non-blank cells)
    parent_ref: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class ParsedTable:
    header_row: int
    columns: dict[str, str]  # field -> header as written
    extra_columns: list[str]
    rows: list[ParsedRow]
    errors: list[RowError]
    total_rows: int
    # Each data row's code and name as written ("T41… 兰考县实验小学"), to name refused rows.
    labels: dict[int, str] = field(default_factory=dict)


# --- reading ----------------------------------------------------------------------------------


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        # Excel stores 4101050001 and 450000 as floats; write them back as integers.
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("\u3000", " ").strip()


def _read_xlsx(data: bytes) -> list[list[str]]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        index = 0
        for i, meta in enumerate(wb.sheets_metadata):
            # The first visible worksheet: bureaus hide helper sheets of drop-down lists.
            if str(getattr(meta, "visible", "")).lower().endswith("visible") and str(
                getattr(meta, "typ", "")
            ).lower().endswith("worksheet"):
                index = i
                break
        sheet = wb.get_sheet_by_index(index)
        # Keep leading empty rows so that row numbers match what Excel shows.
        rows = sheet.to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError) as exc:
        raise ImportFileError(_("无法读取 Excel 文件：%(error)s") % {"error": exc}) from exc
    return [[_cell_text(v) for v in row] for row in rows]


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _("无法识别文件编码：CSV 文件须为 UTF-8 或 GBK/GB18030 编码")
        ) from exc


def _read_csv(data: bytes) -> list[list[str]]:
    text = decode_text(data)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [[_cell_text(c) for c in row] for row in reader]
    except csv.Error as exc:
        raise ImportFileError(_("CSV 格式错误：%(error)s") % {"error": exc}) from exc


def read_rows(data: bytes) -> list[list[str]]:
    """Cells as text, by content (not by file name): XLSX/XLS by their magic bytes, else CSV."""
    if not data:
        raise ImportFileError(_("文件为空"))
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        return _read_xlsx(data)
    if b"\x00" in data[:2048] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(_("不支持的文件格式：请上传 Excel（.xlsx）或 CSV 文件"))
    return _read_csv(data)


# --- headers ----------------------------------------------------------------------------------


def normalise_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"\s+", "", text).strip("*")
    return text.lower()


_ALIASES = {normalise_header(a): c.field for c in COLUMNS for a in c.aliases}


def match_header(text: str) -> str | None:
    key = normalise_header(text)
    if key in _ALIASES:
        return _ALIASES[key]
    # "学校名称(必填)", "学段（可多选）": try again without a trailing remark.
    stripped = re.sub(r"\([^()]*\)$", "", key)
    return _ALIASES.get(stripped) if stripped != key else None


def find_header(rows: list[list[str]]) -> int:
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        fields = {match_header(c) for c in row if c}
        if "code" in fields and len(fields - {None}) >= 2:
            return i
    raise ImportFileError(
        _(
            "未找到表头：前 10 行中须有一行同时含“学校标识码”（或“代码”）列和至少一个其他已知列，"
            "如“学校名称”“上级机构代码”"
        )
    )


# --- values -----------------------------------------------------------------------------------


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def parse_code(text: str) -> str:
    code = _nfkc(text)
    if not CODE_RE.match(code):
        raise ValueError(_("代码只能由字母、数字、“-”和“_”组成，2–32 位"))
    return code


def parse_int(text: str, field_name: str) -> int:
    raw = _nfkc(text).replace(",", "")
    number = raw
    multiplier = 1
    if field_name == "bandwidth_mbps":
        m = re.fullmatch(r"([0-9.]+)\s*(m|mb|mbps|m/s|兆|g|gb|gbps|千兆)?", raw.lower())
        if m is None:
            raise ValueError(_("“%(text)s”不是带宽数值，请填写 Mbps 数，如 100") % {"text": text})
        number = m.group(1)
        if m.group(2) in ("g", "gb", "gbps", "千兆"):
            multiplier = 1000
    try:
        value = float(number)
    except ValueError:
        raise ValueError(_("“%(text)s”不是数字") % {"text": text}) from None
    if not value.is_integer() and multiplier == 1:
        raise ValueError(_("“%(text)s”应为整数") % {"text": text})
    value = int(value * multiplier)
    if value < 0:
        raise ValueError(_("不能为负数"))
    limit = INT_LIMITS[field_name]
    if value > limit:
        raise ValueError(
            _("%(value)s 超出合理范围（最大 %(limit)s）") % {"value": value, "limit": limit}
        )
    return value


def parse_stages(text: str) -> str:
    parts = [p for p in re.split(r"[;,、/+|\s]+", _nfkc(text)) if p]
    found: set[str] = set()
    for p in parts:
        stages = STAGE_VALUES.get(p.lower())
        if stages is None:
            raise ValueError(
                _(
                    "不认识的学段“%(stage)s”，可填：幼儿园、小学、初中、高中、中职、教学点（多个学段用分号分隔，如“小学;初中”）"
                )
                % {"stage": p}
            )
        found.update(stages)
    ordered = [s for s in STAGE_ORDER if s in found]
    return f",{','.join(ordered)}," if ordered else ""


def parse_choice(text: str, table: dict, what: str, allowed: str) -> str:
    value = table.get(_nfkc(text).lower())
    if value is None:
        raise ValueError(
            _("不认识的%(what)s“%(text)s”，可填：%(allowed)s")
            % {"what": what, "text": text, "allowed": allowed}
        )
    return str(value)


def parse_kind(text: str) -> str:
    kind = parse_choice(text, KIND_VALUES, "类型", "学校、高等学校、直属单位")
    if kind not in IMPORTABLE_KINDS:
        raise ValueError(_("省、市、县和功能区由行政区划数据生成，不能通过导入创建或修改"))
    return kind


def parse_value(field_name: str, text: str):
    if field_name == "stages":
        return parse_stages(text)
    if field_name == "kind":
        return parse_kind(text)
    if field_name == "ownership":
        return parse_choice(text, OWNERSHIP_VALUES, "办学性质", "公办、民办")
    if field_name == "locality":
        return parse_choice(text, LOCALITY_VALUES, "城乡类别", "城区、镇区、乡村")
    if field_name in INT_LIMITS:
        return parse_int(text, field_name)
    if field_name in PATTERNS:
        pattern, problem = PATTERNS[field_name]
        value = _nfkc(text)
        if not pattern.match(value):
            raise ValueError(str(problem))
        return value
    if field_name == "contact_email":
        value = _nfkc(text)
        try:
            validate_email(value)
        except ValidationError:
            raise ValueError(_("“%(text)s”不是有效的电子邮箱") % {"text": text}) from None
        return value
    if field_name == "website":
        value = _nfkc(text)
        if re.search(r"\s", value):
            raise ValueError(_("网址中不能有空格"))
    else:
        value = text.strip()
    limit = MAX_LENGTHS.get(field_name)
    if limit and len(value) > limit:
        raise ValueError(_("超过 %(limit)s 个字符") % {"limit": limit})
    return value


# --- the table ------------------------------------------------------------------------------------


def parse_table(data: bytes) -> ParsedTable:
    """Read ``data`` and check every cell. Problems of rows are collected, not raised."""
    rows = read_rows(data)
    header_index = find_header(rows)
    header = rows[header_index]
    columns: dict[str, str] = {}
    positions: dict[int, str] = {}
    extra_positions: dict[int, str] = {}
    errors: list[RowError] = []
    for pos, text in enumerate(header):
        if not text:
            continue
        f = match_header(text)
        if f is None:
            extra_positions[pos] = text.strip()
            continue
        if f in columns:
            raise ImportFileError(
                _("第%(row)s行表头中“%(column)s”与“%(text)s”指同一项，请只保留一列")
                % {"row": header_index + 1, "column": columns[f], "text": text}
            )
        columns[f] = text.strip()
        positions[pos] = f
    data_rows = rows[header_index + 1 :]
    if len(data_rows) > MAX_ROWS:
        raise ImportFileError(_("一次最多导入 %(max)s 行，请分批导入") % {"max": MAX_ROWS})
    parsed: list[ParsedRow] = []
    seen: dict[str, int] = {}
    labels: dict[int, str] = {}
    total = 0
    for offset, cells in enumerate(data_rows):
        row_no = header_index + offset + 2
        if not any(c for c in cells):
            continue
        total += 1
        raw = {f: (cells[p] if p < len(cells) else "") for p, f in positions.items()}
        labels[row_no] = " ".join(_nfkc(raw[f]) for f in ("code", "name") if raw.get(f))[:80]
        code_text = raw.get("code", "")
        if not code_text:
            errors.append(RowError(row_no, columns["code"], _("缺少学校标识码")))
            continue
        try:
            code = parse_code(code_text)
        except ValueError as exc:
            errors.append(RowError(row_no, columns["code"], str(exc)))
            continue
        if code in seen:
            errors.append(
                RowError(
                    row_no,
                    columns["code"],
                    _("代码 %(code)s 与第%(first_row)s行重复")
                    % {"code": code, "first_row": seen[code]},
                )
            )
            continue
        seen[code] = row_no
        row = ParsedRow(row=row_no, code=code)
        row_errors = []
        for f, text in raw.items():
            if f == "code" or not text:
                continue
            if f == "parent":
                row.parent_ref = _nfkc(text)
                continue
            try:
                row.values[f] = parse_value(f, text)
            except ValueError as exc:
                row_errors.append(RowError(row_no, columns[f], str(exc)))
        for p, name in extra_positions.items():
            if p < len(cells) and cells[p]:
                row.extra[name] = cells[p]
        if row_errors:
            errors.extend(row_errors)
            continue
        parsed.append(row)
    return ParsedTable(
        header_row=header_index + 1,
        columns=columns,
        extra_columns=list(extra_positions.values()),
        rows=parsed,
        errors=errors,
        total_rows=total,
        labels=labels,
    )


def roster_template() -> bytes:
    """An empty roster (XLSX) with the canonical headers and one example row."""
    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet("学校名单")
    head = wb.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})
    note = wb.add_format({"font_color": "#66788A", "italic": True})
    example = {
        "code": "4101050001",
        "name": "郑州市金水区示例小学",
        "parent": "410105",
        "kind": "学校",
        "stages": "小学;初中",
        "ownership": "公办",
        "locality": "城区",
        "bandwidth_mbps": 100,
    }
    for i, col in enumerate(COLUMNS):
        ws.write(0, i, col.label, head)
        ws.set_column(i, i, max(10, len(col.label) * 2 + 2))
        if col.field in example:
            ws.write(1, i, example[col.field], note)
    ws.freeze_panes(1, 0)
    wb.close()
    return out.getvalue()
