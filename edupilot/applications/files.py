"""Uploaded files: checked by content, stored once under their sha256, never overwritten."""

from __future__ import annotations

import hashlib
import io
import logging
import tempfile

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.http import FileResponse
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from .models import Blob

log = logging.getLogger(__name__)
CHUNK = 1024 * 1024


class UploadRejected(ValueError):
    """A file that may not be stored; the message is shown to the user as it is."""


def _check_pdf(fh, filename: str) -> int:
    """Raise UploadRejected unless ``fh`` holds a readable PDF; returns its page count."""
    fh.seek(0)
    head = fh.read(1024)
    if b"%PDF-" not in head:
        raise UploadRejected(
            f"“{filename}”不是 PDF 文件（按文件内容判断，与扩展名无关）。请上传扫描生成的 PDF。"
        )
    fh.seek(0, io.SEEK_END)
    size = fh.tell()
    fh.seek(max(0, size - 2048))
    if b"%%EOF" not in fh.read():
        raise UploadRejected(f"“{filename}”不是完整的 PDF 文件（可能上传中断或文件已损坏）。")
    fh.seek(0)
    try:
        reader = PdfReader(fh, strict=False)
        if reader.is_encrypted:
            raise UploadRejected(f"“{filename}”已加密，请上传未加密的 PDF。")
        pages = len(reader.pages)
    except UploadRejected:
        raise
    except (
        PdfReadError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        RecursionError,
    ) as exc:
        log.info("rejected unreadable pdf %s: %s", filename, exc)
        raise UploadRejected(f"“{filename}”无法作为 PDF 读取（文件已损坏或格式不对）。") from exc
    if pages < 1:
        raise UploadRejected(f"“{filename}”没有任何页面。")
    return pages


def blob_store(upload, *, accept: list[str], max_mb: int) -> Blob:
    """Check an uploaded file and store it under its sha256 (once; an existing blob is reused)."""
    filename = getattr(upload, "name", "file") or "file"
    size = getattr(upload, "size", None)
    limit = max_mb * 1024 * 1024
    if size is not None and size > limit:
        raise UploadRejected(
            f"“{filename}”大小为 {size / 1024 / 1024:.1f} MB，超过 {max_mb} MB 的限制。"
        )
    if size == 0:
        raise UploadRejected(f"“{filename}”是空文件。")
    # Spool to a temporary file while hashing, so large uploads never sit in memory.
    with tempfile.TemporaryFile() as tmp:
        digest = hashlib.sha256()
        total = 0
        for chunk in (
            upload.chunks(CHUNK)
            if hasattr(upload, "chunks")
            else iter(lambda: upload.read(CHUNK), b"")
        ):
            total += len(chunk)
            if total > limit:
                raise UploadRejected(f"“{filename}”超过 {max_mb} MB 的限制。")
            digest.update(chunk)
            tmp.write(chunk)
        if total == 0:
            raise UploadRejected(f"“{filename}”是空文件。")
        if "pdf" in accept:
            _check_pdf(tmp, filename)
        return _blob_put(tmp, digest.hexdigest(), total, "application/pdf")


EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "text/csv": ".csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}


def _blob_put(fh, sha: str, size: int, content_type: str) -> Blob:
    """Store content under its sha256 unless it is there already; the row is created once."""
    existing = Blob.objects.filter(sha256=sha).first()
    if existing is not None:
        return existing
    name = f"blobs/{sha[:2]}/{sha[2:4]}/{sha}{EXTENSIONS.get(content_type, '')}"
    if not default_storage.exists(name):
        fh.seek(0)
        saved = default_storage.save(name, File(fh, name=name))
        if saved != name:  # the storage renamed it: someone wrote the same name meanwhile
            default_storage.delete(saved)
    try:
        with transaction.atomic():
            return Blob.objects.create(
                sha256=sha, size=size, content_type=content_type, storage_name=name
            )
    except IntegrityError:
        # Stored by a concurrent request a moment ago: the same content, so use that row.
        return Blob.objects.get(sha256=sha)


def blob_store_bytes(content: bytes, content_type: str) -> Blob:
    """Store content that has already been checked by its caller (imports, evidence)."""
    return _blob_put(
        io.BytesIO(content), hashlib.sha256(content).hexdigest(), len(content), content_type
    )


def blob_read(blob: Blob) -> bytes:
    with default_storage.open(blob.storage_name, "rb") as fh:
        return fh.read()


def blob_open(blob: Blob):
    return default_storage.open(blob.storage_name, "rb")


def attachment_response(attachment) -> FileResponse:
    """An uploaded PDF, shown in the browser under its own name (the caller checked access)."""
    response = FileResponse(
        blob_open(attachment.blob),
        content_type="application/pdf",
        as_attachment=False,
        filename=attachment.filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
