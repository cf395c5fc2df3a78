"""Uploaded files: checked by content, stored once under their sha256, written atomically."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .bounded import Refused
from .evidencecheck import inspect_evidence, sniff
from .models import Blob
from .pdfcheck import inspect_pdf, inspect_scan

log = logging.getLogger(__name__)
CHUNK = 1024 * 1024
# Writes and checks go in smaller pieces, so no large buffer sits in memory.
WRITE_CHUNK = 64 * 1024


class UploadRejected(ValueError):
    """A file that may not be stored; the message is shown to the user as it is."""


class BlobDamaged(OSError):
    """A stored file is missing or does not match its size and sha256: it is never served."""


REFUSALS = {
    "javascript": gettext_lazy(
        "“%(name)s”含有 JavaScript 脚本，出于安全原因不能上传。请打印后重新扫描，或“打印为 PDF”后再上传。"
    ),
    "launch": gettext_lazy(
        "“%(name)s”含有启动外部程序的动作（Launch），出于安全原因不能上传。请重新扫描或“打印为 PDF”后再上传。"
    ),
    "open_action": gettext_lazy(
        "“%(name)s”含有打开时自动执行的动作，出于安全原因不能上传。请重新扫描或“打印为 PDF”后再上传。"
    ),
    "embedded_file": gettext_lazy(
        "“%(name)s”内嵌了其他文件（附件），不能上传。请只上传扫描件本身。"
    ),
    "inflates": gettext_lazy("“%(name)s”解压后的内容过大（可能是恶意构造的文件），不能上传。"),
    "encrypted": gettext_lazy("“%(name)s”已加密，请上传未加密的 PDF。"),
    "unreadable": gettext_lazy("“%(name)s”无法作为 PDF 读取（文件已损坏或格式不对）。"),
    "no_pages": gettext_lazy("“%(name)s”没有任何页面。"),
    "too_slow": gettext_lazy(
        "“%(name)s”结构过于复杂，检查超时，不能上传。请重新扫描或“打印为 PDF”后再上传。"
    ),
}


def _check_pdf(fh, path: str, filename: str, on_codes=None) -> int:
    """Raise UploadRejected unless the file holds a safe, readable PDF; returns its page count.

    Cheap checks here; the structure is inspected with pikepdf in a bounded child process
    (``pdfcheck``): active content, embedded files and inflation bombs are refused. With
    ``on_codes``, the same child also reads the QR codes of the first pages and
    ``on_codes(codes)`` judges them (None: not read in time); it may raise UploadRejected.
    """
    fh.seek(0)
    head = fh.read(1024)
    if b"%PDF-" not in head:
        raise UploadRejected(
            _("“%(name)s”不是 PDF 文件（按文件内容判断，与扩展名无关）。请上传扫描生成的 PDF。")
            % {"name": filename}
        )
    fh.seek(0, io.SEEK_END)
    size = fh.tell()
    fh.seek(max(0, size - 2048))
    if b"%%EOF" not in fh.read():
        raise UploadRejected(
            _("“%(name)s”不是完整的 PDF 文件（可能上传中断或文件已损坏）。") % {"name": filename}
        )
    fh.flush()
    bound = settings.EDUPILOT_PDF_MAX_INFLATED_MB * 1024 * 1024
    try:
        if on_codes is None:
            return inspect_pdf(path, bound)
        pages, codes = inspect_scan(path, bound)
    except Refused as exc:
        log.info("rejected pdf %s: %s", filename, exc.cause)
        raise UploadRejected(REFUSALS[exc.cause] % {"name": filename}) from exc
    on_codes(codes)
    return pages


def blob_store(upload, *, accept: list[str], max_mb: int, on_codes=None) -> Blob:
    """Check an uploaded file and store it under its sha256 (once; an existing blob is reused).

    ``on_codes``: a stamped scan's QR codes are read and given to it before anything is
    stored (see :func:`_check_pdf`).
    """
    filename = getattr(upload, "name", "file") or "file"
    size = getattr(upload, "size", None)
    # A field never takes more than the operator's ceiling, whatever its programme says.
    max_mb = min(max_mb, settings.EDUPILOT_MAX_UPLOAD_MB)
    limit = max_mb * 1024 * 1024
    if size is not None and size > limit:
        raise UploadRejected(
            _("“%(name)s”大小为 %(size).1f MB，超过 %(max)s MB 的限制。")
            % {"name": filename, "size": size / 1024 / 1024, "max": max_mb}
        )
    if size == 0:
        raise UploadRejected(_("“%(name)s”是空文件。") % {"name": filename})
    # Spool to a temporary file while hashing, so large uploads never sit in memory.
    with tempfile.NamedTemporaryFile() as tmp:
        digest = hashlib.sha256()
        total = 0
        for chunk in (
            upload.chunks(CHUNK)
            if hasattr(upload, "chunks")
            else iter(lambda: upload.read(CHUNK), b"")
        ):
            total += len(chunk)
            if total > limit:
                raise UploadRejected(
                    _("“%(name)s”超过 %(max)s MB 的限制。") % {"name": filename, "max": max_mb}
                )
            digest.update(chunk)
            tmp.write(chunk)
        if total == 0:
            raise UploadRejected(_("“%(name)s”是空文件。") % {"name": filename})
        kind = _check_content(tmp, filename, accept, on_codes)
        return _blob_put(tmp, digest.hexdigest(), total, CONTENT_TYPES[kind])


def _check_content(tmp, filename: str, accept: list[str], on_codes) -> str:
    """The kind of the spooled upload (one of ``accept``, judged by content), or UploadRejected."""
    tmp.flush()
    tmp.seek(0)
    container = sniff(tmp.read(1024))
    if accept == ["pdf"] or (container == "pdf" and "pdf" in accept):
        _check_pdf(tmp, tmp.name, filename, on_codes)
        return "pdf"
    refused = UploadRejected(
        _(
            "“%(name)s”的文件类型不在本栏目允许的范围内（按文件内容判断，与扩展名无关）。"
            "本栏目可上传：%(kinds)s。"
        )
        % {"name": filename, "kinds": accept_label(accept)}
    )
    if container is None or container == "pdf":
        raise refused
    if container == "zip" and not any(k in accept for k in OFFICE_KINDS):
        raise refused
    if container != "zip" and container not in accept:
        raise refused
    try:
        kind = inspect_evidence(
            tmp.name,
            container,
            max_pixels=settings.EDUPILOT_IMAGE_MAX_PIXELS,
            max_inflated=settings.EDUPILOT_OFFICE_MAX_INFLATED_MB * 1024 * 1024,
        )["kind"]
    except Refused as exc:
        log.info("rejected upload %s: %s", filename, exc.cause)
        raise UploadRejected(EVIDENCE_REFUSALS[exc.cause] % {"name": filename}) from exc
    if kind not in accept:
        raise refused
    return kind


# What each accepted kind is called on the page, and its content type when stored and served.
KIND_LABELS = {"pdf": "PDF", "jpg": "JPG", "png": "PNG", "docx": "Word（DOCX）",
               "xlsx": "Excel（XLSX）", "pptx": "PowerPoint（PPTX）"}  # fmt: skip
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
OFFICE_KINDS = ("docx", "xlsx", "pptx")
# The file-picker hint of each kind (the check on the server is by content).
PICKER = {"pdf": "application/pdf,.pdf", "jpg": "image/jpeg,.jpg,.jpeg", "png": "image/png,.png",
          "docx": ".docx", "xlsx": ".xlsx", "pptx": ".pptx"}  # fmt: skip
EVIDENCE_REFUSALS = {
    "unknown_type": gettext_lazy("“%(name)s”的文件类型无法识别，不能上传。"),
    "image_too_large": gettext_lazy(
        "“%(name)s”的图片像素过多（可能是恶意构造的文件），不能上传。请压缩到常用尺寸后再上传。"
    ),
    "image_unreadable": gettext_lazy(
        "“%(name)s”无法作为图片读取（文件已损坏、不完整或格式与内容不符）。"
    ),
    "zip_bomb": gettext_lazy(
        "“%(name)s”解压后的内容过大或文件数过多（可能是恶意构造的文件），不能上传。"
    ),
    "zip_unreadable": gettext_lazy("“%(name)s”无法作为 Office 文件读取（文件已损坏或格式不对）。"),
    "not_office": gettext_lazy(
        "“%(name)s”不是 Word、Excel 或 PowerPoint 文件（DOCX、XLSX、PPTX），不能上传。"
    ),
    "macro": gettext_lazy(
        "“%(name)s”含有宏（VBA），出于安全原因不能上传。请另存为不含宏的 DOCX、XLSX 或 PPTX 后再上传。"
    ),
    "activex": gettext_lazy(
        "“%(name)s”含有 ActiveX 控件，出于安全原因不能上传。请删除控件后再上传。"
    ),
    "encrypted": gettext_lazy("“%(name)s”已加密或设置了打开密码，请上传未加密的文件。"),
    "unsafe_name": gettext_lazy("“%(name)s”内含路径异常的文件，出于安全原因不能上传。"),
    "external": gettext_lazy(
        "“%(name)s”引用了外部模板或外部对象，出于安全原因不能上传。请另存为普通文档后再上传。"
    ),
    "too_slow": gettext_lazy("“%(name)s”结构过于复杂，检查超时，不能上传。"),
}


def accept_label(accept: list[str]) -> str:
    """The accepted kinds as the page names them: “PDF、JPG、PNG”."""
    return _("、").join(KIND_LABELS[k] for k in accept)


def picker_accept(accept: list[str]) -> str:
    """The file input's ``accept`` attribute for these kinds."""
    return ",".join(PICKER[k] for k in accept)


def kind_of(content_type: str) -> str:
    """The kind (pdf, png, …) of a stored blob's content type; "" when not one of them."""
    return next((k for k, ct in CONTENT_TYPES.items() if ct == content_type), "")


def display_filename(filename: str, content_type: str) -> str:
    """The uploaded name, with the extension of what the file really is when it differs
    (a PNG uploaded as "photo.jpg" is downloaded as "photo.jpg.png")."""
    kind = kind_of(content_type)
    if not kind:
        return filename
    extensions = {"jpg": (".jpg", ".jpeg")}.get(kind, (f".{kind}",))
    if filename.lower().endswith(extensions):
        return filename
    return f"{filename}{extensions[0]}"


EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "text/csv": ".csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
}


def blob_name(sha: str, content_type: str) -> str:
    return f"blobs/{sha[:2]}/{sha[2:4]}/{sha}{EXTENSIONS.get(content_type, '')}"


def _blob_put(fh, sha: str, size: int, content_type: str) -> Blob:
    """Store content under its sha256 unless a sound copy is there already; one row per sha.

    A file already under the name is trusted only once its size and sha256 match (a write cut
    short by an older version, or a file planted there, is replaced by the verified content).
    """
    existing = Blob.objects.filter(sha256=sha).first()
    name = existing.storage_name if existing is not None else blob_name(sha, content_type)
    if not _stored_intact(name, sha, size):
        _write_atomically(fh, name, sha, size)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Blob.objects.create(
                sha256=sha, size=size, content_type=content_type, storage_name=name
            )
    except IntegrityError:
        # Stored by a concurrent request a moment ago: the same content, so use that row.
        return Blob.objects.get(sha256=sha)


def _digest(fh) -> tuple[str, int]:
    digest, total = hashlib.sha256(), 0
    for chunk in iter(lambda: fh.read(WRITE_CHUNK), b""):
        digest.update(chunk)
        total += len(chunk)
    return digest.hexdigest(), total


def _stored_intact(name: str, sha: str, size: int) -> bool:
    """Whether the stored file under ``name`` holds exactly the content with this sha256."""
    try:
        if default_storage.size(name) != size:
            return False
        with default_storage.open(name, "rb") as fh:
            return _digest(fh) == (sha, size)
    except (FileNotFoundError, OSError):
        return False


def _write_atomically(fh, name: str, sha: str, size: int) -> None:
    """Write to a temporary name beside the target, check size and sha256, then rename.

    A process killed at any point leaves either no file under ``name`` or the whole verified
    file (and perhaps a stray ``.tmp-…`` file, which nothing reads).
    """
    try:
        target = Path(default_storage.path(name))
    except NotImplementedError:
        target = None
    if target is None:
        # A remote storage (object store): its writes are whole objects; still verify.
        fh.seek(0)
        if default_storage.exists(name):
            default_storage.delete(name)
        default_storage.save(name, File(fh, name=name))
        if not _stored_intact(name, sha, size):
            raise BlobDamaged(name)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            fh.seek(0)
            for chunk in iter(lambda: fh.read(WRITE_CHUNK), b""):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        with tmp.open("rb") as back:
            if _digest(back) != (sha, size):
                raise BlobDamaged(name)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # The rename itself is durable once the directory is synced.
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def blob_store_bytes(content: bytes, content_type: str) -> Blob:
    """Store content that has already been checked by its caller (imports, evidence)."""
    return _blob_put(
        io.BytesIO(content), hashlib.sha256(content).hexdigest(), len(content), content_type
    )


def blob_open(blob: Blob):
    """The stored file, checked against the blob's size and sha256; BlobDamaged if it differs."""
    try:
        fh = default_storage.open(blob.storage_name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise BlobDamaged(blob.storage_name) from exc
    try:
        intact = _digest(fh) == (blob.sha256, blob.size)
        fh.seek(0)
    except BaseException:
        fh.close()
        raise
    if not intact:
        fh.close()
        raise BlobDamaged(blob.storage_name)
    return fh


def blob_read(blob: Blob) -> bytes:
    with blob_open(blob) as fh:
        return fh.read()


def attachment_response(attachment) -> HttpResponse:
    """An uploaded file under its own name (the caller checked access): a PDF or a photo is
    shown in the browser, an Office file is downloaded (``Content-Disposition: attachment``).

    A stored file that no longer matches its sha256 is never sent: the user is told, and the
    administrators find the name in the log.
    """
    try:
        fh = blob_open(attachment.blob)
    except BlobDamaged:
        log.error("stored file of blob %s is missing or damaged", attachment.blob.sha256)
        return HttpResponse(
            _("文件“%(name)s”在服务器上已损坏或丢失，暂时无法打开；请联系管理员，或重新上传。")
            % {"name": attachment.filename},
            status=500,
            content_type="text/plain; charset=utf-8",
        )
    content_type = attachment.blob.content_type
    kind = kind_of(content_type)
    response = FileResponse(
        fh,
        content_type=content_type,
        # PDFs and photos open in the browser; Office files (and anything else) download.
        as_attachment=kind not in ("pdf", "png", "jpg"),
        filename=display_filename(attachment.filename, content_type),
    )
    response["X-Content-Type-Options"] = "nosniff"
    if kind == "pdf":
        # The page policy (no plugins, no frames) would stop the browser's own PDF viewer.
        response._csp_exempt = True
    return response
