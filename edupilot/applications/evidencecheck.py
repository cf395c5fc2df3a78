"""Inspect uploaded images and Office files in a separate, bounded process (as ``pdfcheck``).

What a file is comes from its content, never its name: :func:`sniff` reads the first bytes
(PDF, PNG, JPEG or a zip container). The rest is judged in a child process with limits on CPU
time, address space and wall time, so a hostile file can neither hang nor exhaust the server:

- an image is decoded in full by Pillow, after its header says it has at most ``max_pixels``
  pixels (a "decompression bomb" — a small PNG of 50 000 × 50 000 — is refused before any
  pixel is decoded); a truncated or undecodable image is refused;
- an Office file (DOCX, XLSX, PPTX) must be a zip of at most ``MAX_ENTRIES`` entries whose
  members all inflate, counted without keeping them, to at most ``max_inflated`` bytes in
  total (a "zip bomb" is refused whatever its directory claims); it must hold
  ``[Content_Types].xml`` and its kind's main part (``word/document.xml``, ``xl/workbook.xml``,
  ``ppt/presentation.xml``); macros (``vbaProject.bin``, a macro-enabled content type, i.e. a
  .docm/.xlsm/.pptm renamed), ActiveX controls, encrypted entries, unsafe member names and
  relationships that fetch a remote template or object are refused.

:func:`inspect_evidence` (the web side, run through ``edupilot.applications.bounded``)
returns the kind (``png``, ``jpg``, ``docx``, ``xlsx``, ``pptx``) or raises
:class:`~edupilot.applications.bounded.Refused` with a cause; ``edupilot.applications.files``
turns the cause into a Chinese message. :func:`make_thumbnail` writes a small JPEG of a stored
image, decoded in the same bounded child. This file is also the child's program
(``python -I evidencecheck.py check|thumb …``); it imports nothing but Pillow and the standard
library.
"""

from __future__ import annotations

import json
import re
import sys
import zipfile

# Bounds of an Office file: member count, total inflated size (the caller's, by default).
MAX_ENTRIES = 5000
MAX_INFLATED_BYTES = 200 * 1024 * 1024
# Bound of an image: pixels (width × height) it may decode to, by default.
MAX_PIXELS = 60_000_000
THUMB_PX = 320

IMAGE_KINDS = ("png", "jpg")
OFFICE_KINDS = ("docx", "xlsx", "pptx")
# An Office kind's main part: its presence (with the content types) is what makes the kind.
MAIN_PARTS = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}
CAUSES = (
    "unknown_type",
    "image_too_large",
    "image_unreadable",
    "zip_bomb",
    "zip_unreadable",
    "not_office",
    "macro",
    "activex",
    "encrypted",
    "unsafe_name",
    "external",
    "too_slow",
)


def sniff(head: bytes) -> str | None:
    """The container a file's first bytes announce: pdf, png, jpg, zip, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    return None


def inspect_evidence(
    path: str,
    container: str,
    *,
    max_pixels: int = MAX_PIXELS,
    max_inflated: int = MAX_INFLATED_BYTES,
) -> dict:
    """Check the image or zip container at ``path``: ``{"kind": …}`` (and ``width``/``height``
    for an image); bounded.Refused(cause) when it may not be stored."""
    return _run(["check", str(path), container, str(int(max_pixels)), str(int(max_inflated))])


def make_thumbnail(path: str, out: str, *, max_pixels: int = MAX_PIXELS) -> None:
    """Write a JPEG of at most THUMB_PX × THUMB_PX of the image at ``path`` to ``out``."""
    _run(["thumb", str(path), str(out), str(int(max_pixels))])


def _run(args: list[str]) -> dict:
    from .bounded import run_check  # here, not above: the child (this file) imports no edupilot

    return run_check(__file__, args, crashed="zip_bomb")[0]


# --- the child ------------------------------------------------------------------------------


def _open_image(path: str, max_pixels: int):
    from PIL import Image

    # Pillow itself refuses past twice this bound; the check below refuses past it.
    Image.MAX_IMAGE_PIXELS = max_pixels
    image = Image.open(path)
    width, height = image.size
    if width * height > max_pixels:
        raise OverflowError
    return image


def _check_image(path: str, container: str, max_pixels: int) -> dict:
    from PIL import Image

    try:
        image = _open_image(path, max_pixels)
        # MPO: the multi-picture JPEG some phones and cameras write; a JPEG all the same.
        fmt = {"PNG": "png", "JPEG": "jpg", "MPO": "jpg"}.get(image.format or "")
        if fmt != container:
            return {"refused": "image_unreadable"}
        image.load()  # the whole image: a truncated or corrupt one fails here
    except (OverflowError, Image.DecompressionBombError):
        return {"refused": "image_too_large"}
    except MemoryError:
        return {"refused": "image_too_large"}
    except Exception:  # noqa: BLE001 - any failure to decode is an unreadable image
        return {"refused": "image_unreadable"}
    return {"kind": fmt, "width": image.size[0], "height": image.size[1]}


def _thumb(path: str, out: str, max_pixels: int) -> dict:
    from PIL import Image, ImageOps

    try:
        image = _open_image(path, max_pixels)
        image.draft("RGB", (THUMB_PX, THUMB_PX))  # JPEG: decode at a reduced scale
        image = ImageOps.exif_transpose(image)
        image.thumbnail((THUMB_PX, THUMB_PX))
        if image.mode not in ("RGB", "L"):
            background = Image.new("RGB", image.size, "white")
            rgba = image.convert("RGBA")
            background.paste(rgba, mask=rgba.getchannel("A"))
            image = background
        image.save(out, "JPEG", quality=80)
    except (OverflowError, Image.DecompressionBombError, MemoryError):
        return {"refused": "image_too_large"}
    except Exception:  # noqa: BLE001 - any failure to decode is an unreadable image
        return {"refused": "image_unreadable"}
    return {"ok": True}


_EXTERNAL_REL = re.compile(
    rb"<Relationship\b[^>]*(?:attachedTemplate|oleObject|subDocument|frame)\b[^>]*"
    rb'TargetMode\s*=\s*["\']External["\']|<Relationship\b[^>]*TargetMode\s*=\s*["\']'
    rb"External[\"'][^>]*(?:attachedTemplate|oleObject|subDocument|frame)\b",
    re.IGNORECASE,
)


def _unsafe_name(name: str) -> bool:
    return (
        name.startswith(("/", "\\"))
        or ".." in name.replace("\\", "/").split("/")
        or (len(name) > 1 and name[1] == ":")
    )


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, keep: bool):
    """Inflate one member, counting bytes up to ``budget``; its content when ``keep``."""
    total = 0
    parts = []
    with archive.open(info) as member:
        while True:
            chunk = member.read(1024 * 1024)
            if not chunk:
                break
            total += len(chunk)
            if total > budget:
                return total, None
            if keep:
                parts.append(chunk)
    return total, b"".join(parts) if keep else None


def _check_office(path: str, max_inflated: int) -> dict:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return {"refused": "zip_unreadable"}
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            return {"refused": "zip_bomb"}
        names = set()
        for info in infos:
            lowered = info.filename.lower()
            if _unsafe_name(info.filename):
                return {"refused": "unsafe_name"}
            if info.flag_bits & 0x1:
                return {"refused": "encrypted"}
            if lowered.rsplit("/", 1)[-1] == "vbaproject.bin" or "vbadata" in lowered:
                return {"refused": "macro"}
            if "/activex/" in f"/{lowered}":
                return {"refused": "activex"}
            names.add(info.filename)
        if "EncryptedPackage" in names:
            return {"refused": "encrypted"}
        if "[Content_Types].xml" not in names:
            return {"refused": "not_office"}
        budget = max_inflated
        content_types = b""
        for info in infos:
            keep = info.filename == "[Content_Types].xml" or info.filename.endswith(".rels")
            try:
                size, content = _inflate(archive, info, budget, keep)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
                return {"refused": "zip_unreadable"}
            except Exception:  # noqa: BLE001 - zlib.error and kin: a damaged member
                return {"refused": "zip_unreadable"}
            budget -= size
            if budget < 0 or (keep and content is None):
                return {"refused": "zip_bomb"}
            if info.filename == "[Content_Types].xml":
                content_types = content or b""
            elif keep and _EXTERNAL_REL.search(content or b""):
                return {"refused": "external"}
    if b"macroenabled" in content_types.lower() or b"vbaproject" in content_types.lower():
        return {"refused": "macro"}
    kinds = [kind for kind, part in MAIN_PARTS.items() if part in names]
    if len(kinds) != 1:
        return {"refused": "not_office"}
    return {"kind": kinds[0]}


def _main(argv: list[str]) -> dict:
    if argv[0] == "thumb":
        return _thumb(argv[1], argv[2], int(argv[3]))
    path, container, max_pixels, max_inflated = argv[1], argv[2], int(argv[3]), int(argv[4])
    if container in IMAGE_KINDS:
        return _check_image(path, container, max_pixels)
    if container == "zip":
        return _check_office(path, max_inflated)
    return {"refused": "unknown_type"}


if __name__ == "__main__":
    print(json.dumps(_main(sys.argv[1:])), flush=True)
