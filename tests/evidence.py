"""Real evidence files made in the tests (photos, Word, Excel, PowerPoint), and hostile ones.

The Office files are built as the Office formats are defined (a zip of XML parts with its
``[Content_Types].xml``), except the XLSX, which openpyxl writes.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from PIL import Image

from tests.conftest import pdf_bytes

_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="{main}"/></Relationships>'
)
_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/{main}" ContentType="{content_type}"/>{extra}</Types>'
)
_MAIN = {
    "docx": (
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>",
    ),
    "pptx": (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
        "<!-- {text} --></p:presentation>",
    ),
}
MACRO_DOC_TYPE = "application/vnd.ms-word.document.macroEnabled.main+xml"


def image_bytes(kind: str = "png", size=(64, 48), seed: int = 0) -> bytes:
    """A real photo-like picture (a gradient: each seed gives other content)."""
    image = Image.new("RGB", size)
    image.putdata(
        [((x * 4 + seed * 37) % 256, (y * 5) % 256, (seed * 53) % 256) for y in range(size[1])
         for x in range(size[0])]
    )  # fmt: skip
    buf = io.BytesIO()
    image.save(buf, "PNG" if kind == "png" else "JPEG", quality=85)
    return buf.getvalue()


def ooxml_bytes(
    kind: str = "docx",
    text: str = "学校智慧课堂建设情况",
    *,
    content_type: str | None = None,
    extra: dict[str, bytes] | None = None,
    rels: str | None = None,
) -> bytes:
    """A minimal Word or PowerPoint file (``extra``: more members, e.g. a macro project)."""
    main, main_type, body = _MAIN[kind]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            _TYPES.format(main=main, content_type=content_type or main_type, extra=""),
        )
        z.writestr("_rels/.rels", _RELS.format(main=main))
        z.writestr(main, body.format(text=text))
        if rels is not None:
            z.writestr(main.replace("/", "/_rels/", 1) + ".rels", rels)
        for name, content in (extra or {}).items():
            z.writestr(name, content)
    return buf.getvalue()


def xlsx_bytes(rows=(("学校", "班级数"), ("第一小学", 12))) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def sample_bytes(kind: str, seed: int = 0) -> bytes:
    """A valid file of ``kind`` (pdf, png, jpg, docx, xlsx, pptx); seeds vary the content."""
    if kind == "pdf":
        return pdf_bytes(text=f"evidence {seed}") if seed else pdf_bytes()
    if kind in ("png", "jpg"):
        return image_bytes(kind, seed=seed)
    if kind == "xlsx":
        return xlsx_bytes((("序号", "内容"), (seed, "佐证")))
    return ooxml_bytes(kind, text=f"佐证材料 {seed}")


def sample_upload(kind: str, seed: int = 0, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or f"材料{seed}.{kind}", sample_bytes(kind, seed))


# --- hostile files --------------------------------------------------------------------------


def exe_bytes() -> bytes:
    """The start of a Windows program (MZ header, PE signature), as a renamed .jpg carries."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50 + b"PE\x00\x00" + b"\x90" * 400


def docm_bytes() -> bytes:
    """A macro-enabled Word file (.docm): its VBA project and content type."""
    return ooxml_bytes(
        "docx",
        content_type=MACRO_DOC_TYPE,
        extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512},
    )


def zip_bomb_docx(inflated_mb: int) -> bytes:
    """A Word file with a member of ``inflated_mb`` MB of zeros (a few kB compressed)."""
    buf = io.BytesIO()
    base = zipfile.ZipFile(io.BytesIO(ooxml_bytes("docx")))
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for info in base.infolist():
            z.writestr(info.filename, base.read(info))
        with z.open("word/media/image1.bin", "w", force_zip64=True) as member:
            chunk = b"\x00" * (1024 * 1024)
            for _ in range(inflated_mb):
                member.write(chunk)
    return buf.getvalue()


def many_entries_docx(count: int) -> bytes:
    return ooxml_bytes("docx", extra={f"word/media/p{i}.xml": b"" for i in range(count)})


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header announces width × height pixels (a decompression bomb): a few
    rows of real data, far too few; the pixel count alone must refuse it."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    rows = zlib.compress(b"\x00" * ((width + 7) // 8 + 1) * 16, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
