"""Inspect an uploaded PDF with pikepdf (qpdf) in a separate, bounded process.

A PDF is refused when it carries active content (JavaScript, a Launch action, an automatic
OpenAction other than "open at this page"), embedded files, or a stream that inflates past a
bound (a "zip bomb"); also when encrypted or unreadable. The inspection runs in a child
process with limits on CPU time, address space and wall time, so a hostile file can neither
hang nor exhaust the web server; the child imports nothing but pikepdf.

:func:`inspect_pdf` (the web side) returns the page count or raises :class:`PdfRefused`
with a cause; ``edupilot.applications.files`` turns the cause into a Chinese message.
This file is also the child's program (``python -I pdfcheck.py PATH``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib

# Bounds: the child's CPU seconds, wall seconds and address space; the total size all Flate
# streams may inflate to is the caller's (setting EDUPILOT_PDF_MAX_INFLATED_MB), generous for
# scans: their images are DCT/JPX, not inflated here.
MAX_INFLATED_BYTES = 256 * 1024 * 1024
CPU_SECONDS = 20
WALL_SECONDS = 30
MEMORY_BYTES = 1024 * 1024 * 1024

CAUSES = (
    "javascript",
    "launch",
    "open_action",
    "embedded_file",
    "inflates",
    "encrypted",
    "unreadable",
    "no_pages",
    "too_slow",
)


class PdfRefused(ValueError):
    def __init__(self, cause: str):
        super().__init__(cause)
        self.cause = cause


def inspect_pdf(path: str, max_inflated: int = MAX_INFLATED_BYTES) -> int:
    """The page count of the PDF at ``path``; PdfRefused(cause) when it may not be stored."""
    try:
        done = subprocess.run(
            [sys.executable, "-I", __file__, str(path), str(int(max_inflated))],
            capture_output=True,
            timeout=WALL_SECONDS,
            preexec_fn=_limit,  # noqa: PLW1509 - only setrlimit, no locks taken
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PdfRefused("too_slow") from exc
    try:
        answer = json.loads(done.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        # Killed by its limits (SIGXCPU, SIGKILL) or out of memory before it could answer.
        cause = "too_slow" if done.returncode < 0 else "inflates"
        raise PdfRefused(cause) from exc
    if answer.get("refused"):
        raise PdfRefused(answer["refused"])
    return int(answer["pages"])


def _limit() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# --- the child ------------------------------------------------------------------------------


def _action_cause(action) -> str | None:
    """Why an action dictionary (or chain of /Next actions) is refused, if it is."""
    import pikepdf

    if not isinstance(action, pikepdf.Dictionary):
        return None
    kind = action.get("/S")
    if kind == "/JavaScript" or "/JS" in action:
        return "javascript"
    if kind == "/Launch":
        return "launch"
    following = action.get("/Next")
    for nxt in following if isinstance(following, pikepdf.Array) else [following]:
        cause = _action_cause(nxt)
        if cause:
            return cause
    return None


def _inflated_size(stream, budget: int) -> int:
    """How many bytes a Flate stream inflates to, counted without keeping them (up to budget)."""
    import pikepdf

    filters = stream.get("/Filter")
    names = list(filters) if isinstance(filters, pikepdf.Array) else [filters]
    if names != [pikepdf.Name.FlateDecode]:
        return len(stream.read_raw_bytes())
    inflater = zlib.decompressobj()
    data = stream.read_raw_bytes()
    total = 0
    while data and total <= budget:
        out = inflater.decompress(data, 1024 * 1024)
        total += len(out)
        data = inflater.unconsumed_tail
    return total


def _check(pdf, max_inflated: int) -> str | None:
    import pikepdf

    root = pdf.Root
    open_action = root.get("/OpenAction")
    if isinstance(open_action, pikepdf.Dictionary):
        cause = _action_cause(open_action)
        if cause:
            return cause
        if open_action.get("/S") not in (None, "/GoTo"):
            return "open_action"
    if "/AA" in root:
        return "open_action"
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        if "/JavaScript" in names:
            return "javascript"
        if "/EmbeddedFiles" in names:
            return "embedded_file"
    budget = max_inflated
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            if obj.get("/Type") == "/EmbeddedFile":
                return "embedded_file"
            budget -= _inflated_size(obj, budget)
            if budget < 0:
                return "inflates"
        cause = _dictionary_cause(obj, top=True)
        if cause:
            return cause
    return None


def _dictionary_cause(obj, top=False, depth=0) -> str | None:
    """Actions and file attachments in ``obj`` and the direct objects inside it (indirect
    ones are visited on their own as ``pdf.objects`` goes through them)."""
    import pikepdf

    if depth > 50 or (not top and obj.is_indirect):
        return None
    if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        cause = _action_cause(obj)
        if cause:
            return cause
        if "/EF" in obj or obj.get("/Subtype") == "/FileAttachment":
            return "embedded_file"
        children = list(obj.values())
    elif isinstance(obj, pikepdf.Array):
        children = list(obj)
    else:
        return None
    for child in children:
        if isinstance(child, pikepdf.Dictionary | pikepdf.Array):
            cause = _dictionary_cause(child, depth=depth + 1)
            if cause:
                return cause
    return None


def _main(path: str, max_inflated: int) -> dict:
    import pikepdf

    try:
        with pikepdf.open(path) as pdf:
            if pdf.is_encrypted:
                return {"refused": "encrypted"}
            cause = _check(pdf, max_inflated)
            if cause:
                return {"refused": cause}
            pages = len(pdf.pages)
    except pikepdf.PasswordError:
        return {"refused": "encrypted"}
    except MemoryError:
        return {"refused": "inflates"}
    except (pikepdf.PdfError, ValueError, RecursionError, KeyError, TypeError, zlib.error):
        return {"refused": "unreadable"}
    if pages < 1:
        return {"refused": "no_pages"}
    return {"pages": pages}


if __name__ == "__main__":
    print(json.dumps(_main(sys.argv[1], int(sys.argv[2]))), flush=True)
