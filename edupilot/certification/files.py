"""Stored files for certification: imported exports and evidence (PDF or image).

Content is stored once under its sha256 and never overwritten, so an import's provenance
(the exact file) and a correction's evidence stay what they were when submitted.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from edupilot.applications.files import blob_open, blob_read, blob_store_bytes
from edupilot.applications.models import Blob

EVIDENCE_MAX_MB = 20
IMPORT_MAX_MB = 200

_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


class FileRefused(ValueError):
    """The file is not acceptable; the message (Chinese) says why."""


def evidence_type(content: bytes, filename: str) -> str:
    """The content type of an evidence file, judged by its content, or FileRefused."""
    if not content:
        raise FileRefused(_("文件“%(filename)s”是空的") % {"filename": filename})
    if len(content) > EVIDENCE_MAX_MB * 1024 * 1024:
        raise FileRefused(
            _("文件“%(filename)s”超过 %(mb)s MB") % {"filename": filename, "mb": EVIDENCE_MAX_MB}
        )
    for magic, ctype in _SIGNATURES:
        if content.startswith(magic):
            return ctype
    raise FileRefused(_("文件“%(filename)s”不是 PDF 或图片（JPG/PNG）") % {"filename": filename})


def import_type(content: bytes, filename: str) -> str:
    if not content:
        raise FileRefused(_("文件“%(filename)s”是空的") % {"filename": filename})
    if len(content) > IMPORT_MAX_MB * 1024 * 1024:
        raise FileRefused(
            _("文件“%(filename)s”超过 %(mb)s MB") % {"filename": filename, "mb": IMPORT_MAX_MB}
        )
    if content[:4] == b"PK\x03\x04":
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    if filename.lower().endswith((".csv", ".txt")):
        return "text/csv"
    raise FileRefused(_("文件“%(filename)s”不是 XLSX 或 CSV 文件") % {"filename": filename})


def store_file(content: bytes, content_type: str) -> Blob:
    """Into the one content-addressed store that application uploads use too."""
    return blob_store_bytes(content, content_type)


def read_file(stored: Blob) -> bytes:
    return blob_read(stored)


def open_file(stored: Blob):
    """The stored file, open for reading in binary (a context manager), checked like
    :func:`read_file`; imports read it as they go instead of holding it."""
    return blob_open(stored)
