"""The notice's own files (``[notice]``): its full text and its attachments, read beside the
programme file when it is loaded, each checked by its content.

A file must sit in the programme file's directory or below it, be at most ``MAX_BYTES``, and
be what its name says: ``.pdf`` a PDF, ``.docx``/``.xlsx``/``.pptx`` an Office Open XML
package of that kind, ``.doc``/``.xls``/``.ppt`` an OLE compound file, ``.png``/``.jpg`` an
image, ``.txt`` UTF-8 text without control bytes. The notice's text must be a ``.txt``.
Every problem is a :class:`FileError` naming the programme file, the line and the field.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_BYTES = 20 * 1024 * 1024

OOXML = {
    ".docx": ("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".xlsx": ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".pptx": ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
}
OLE = {".doc": "application/msword", ".xls": "application/vnd.ms-excel",
       ".ppt": "application/vnd.ms-powerpoint"}  # fmt: skip
MAGIC = {
    ".pdf": (b"%PDF-", "application/pdf"),
    ".png": (b"\x89PNG\r\n\x1a\n", "image/png"),
    ".jpg": (b"\xff\xd8\xff", "image/jpeg"),
    ".jpeg": (b"\xff\xd8\xff", "image/jpeg"),
}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
KINDS = (
    "PDF、Word（.docx/.doc）、Excel（.xlsx/.xls）、PowerPoint（.pptx/.ppt）、PNG、JPG 或 .txt 文本"
)


@dataclass(frozen=True)
class NoticeFile:
    role: str  # "text" or "attachment"
    position: int
    title: str
    filename: str
    content: bytes
    content_type: str
    sha256: str


class NoticeFileError(ValueError):
    pass


def _text_problem(content: bytes) -> str | None:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "文本文件不是 UTF-8 编码"
    if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text):
        return "文本文件含有控制字符（不是纯文本）"
    return None


def sniff(name: str, content: bytes) -> str:
    """The content type of ``content`` if it is what ``name``'s extension says; else raise."""
    ext = PurePosixPath(name).suffix.lower()
    if not content:
        raise NoticeFileError("文件是空的")
    if ext == ".txt":
        problem = _text_problem(content)
        if problem:
            raise NoticeFileError(problem)
        return "text/plain; charset=utf-8"
    if ext in MAGIC:
        magic, content_type = MAGIC[ext]
        if not content.startswith(magic):
            raise NoticeFileError(f"文件内容不是扩展名 {ext} 所说的格式")
        return content_type
    if ext in OLE:
        if not content.startswith(OLE_MAGIC):
            raise NoticeFileError(f"文件内容不是扩展名 {ext} 所说的格式")
        return OLE[ext]
    if ext in OOXML:
        part, content_type = OOXML[ext]
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, ValueError) as exc:
            raise NoticeFileError(f"文件内容不是扩展名 {ext} 所说的格式") from exc
        if "[Content_Types].xml" not in names or not any(n.startswith(part) for n in names):
            raise NoticeFileError(f"文件内容不是扩展名 {ext} 所说的格式")
        return content_type
    raise NoticeFileError(f"不支持的文件类型 {ext or '（无扩展名）'}，可用：{KINDS}")


def read_one(base: Path, relative: str) -> tuple[str, bytes]:
    """(file name, content) of ``relative`` under ``base``; raise with a Chinese reason."""
    rel = PurePosixPath(relative.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise NoticeFileError("须是相对于项目文件所在目录的路径，且不能用 .. 跳出该目录")
    path = base.joinpath(*rel.parts)
    try:
        if not path.resolve().is_relative_to(base.resolve()):
            raise NoticeFileError("不能指向项目文件所在目录以外（含符号链接）")
        if not path.is_file():
            raise NoticeFileError(f"找不到文件 {relative}（相对于项目文件所在目录）")
        if path.stat().st_size > MAX_BYTES:
            raise NoticeFileError(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB")
        content = path.read_bytes()
    except OSError as exc:
        raise NoticeFileError(f"文件无法读取：{exc.strerror or exc}") from exc
    return rel.name, content


def read_notice(notice, base: Path) -> tuple[list[NoticeFile], list[tuple[tuple, str]]]:
    """The notice's files and the problems found, each as (location in the file, message)."""
    files: list[NoticeFile] = []
    problems: list[tuple[tuple, str]] = []
    wanted = []
    if notice.text:
        wanted.append(("text", 0, "通知全文", notice.text, ("notice", "text")))
    for i, a in enumerate(notice.attachments):
        wanted.append(("attachment", i, a.title, a.file, ("notice", "attachments", i, "file")))
    for role, position, title, relative, loc in wanted:
        try:
            filename, content = read_one(base, relative)
            if role == "text" and PurePosixPath(filename).suffix.lower() != ".txt":
                raise NoticeFileError("通知全文须是 UTF-8 编码的 .txt 文本文件")
            content_type = sniff(filename, content)
        except NoticeFileError as exc:
            problems.append((loc, str(exc)))
            continue
        files.append(
            NoticeFile(
                role, position, title, filename, content, content_type,
                hashlib.sha256(content).hexdigest(),
            )
        )  # fmt: skip
    return files, problems


def notice_text(files: list[NoticeFile]) -> str:
    for f in files:
        if f.role == "text":
            return f.content.decode("utf-8-sig").replace("\r\n", "\n")
    return ""
