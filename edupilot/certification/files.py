"""Stored files for certification: imported exports and evidence (PDF or image).

Content is stored once under its sha256 and never overwritten, so an import's provenance
(the exact file) and a correction's evidence stay what they were when submitted.
"""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from .models import StoredFile

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
        raise FileRefused(f"文件“{filename}”是空的")
    if len(content) > EVIDENCE_MAX_MB * 1024 * 1024:
        raise FileRefused(f"文件“{filename}”超过 {EVIDENCE_MAX_MB} MB")
    for magic, ctype in _SIGNATURES:
        if content.startswith(magic):
            return ctype
    raise FileRefused(f"文件“{filename}”不是 PDF 或图片（JPG/PNG）")


def import_type(content: bytes, filename: str) -> str:
    if not content:
        raise FileRefused(f"文件“{filename}”是空的")
    if len(content) > IMPORT_MAX_MB * 1024 * 1024:
        raise FileRefused(f"文件“{filename}”超过 {IMPORT_MAX_MB} MB")
    if content[:4] == b"PK\x03\x04":
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    if filename.lower().endswith((".csv", ".txt")):
        return "text/csv"
    raise FileRefused(f"文件“{filename}”不是 XLSX 或 CSV 文件")


def store_file(content: bytes, content_type: str) -> StoredFile:
    sha = hashlib.sha256(content).hexdigest()
    existing = StoredFile.objects.filter(sha256=sha).first()
    if existing is not None:
        return existing
    name = f"certification/{sha[:2]}/{sha}"
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(content))
    try:
        with transaction.atomic():
            return StoredFile.objects.create(
                sha256=sha, size=len(content), content_type=content_type, storage_name=name
            )
    except IntegrityError:
        # Stored by a concurrent request a moment ago: the same content, so use that row.
        return StoredFile.objects.get(sha256=sha)


def read_file(stored: StoredFile) -> bytes:
    with default_storage.open(stored.storage_name, "rb") as fh:
        return fh.read()
