"""Inspect an uploaded PDF with pikepdf (qpdf) in a separate, bounded process.

A PDF is refused when it carries active content (JavaScript, a Launch action, an automatic
OpenAction other than "open at this page"), embedded files, or a stream that inflates past a
bound (a "zip bomb"); also when encrypted or unreadable. The inspection runs in a child
process with limits on CPU time, address space and wall time, so a hostile file can neither
hang nor exhaust the web server; the child imports nothing but pikepdf (and, to read the
QR code of a stamped scan, pypdfium2 and zxing-cpp).

:func:`inspect_pdf` (the web side, run through ``edupilot.applications.bounded``) returns
the page count or raises :class:`~edupilot.applications.bounded.Refused` with a cause;
``edupilot.applications.files`` turns the cause into a Chinese message.
:func:`inspect_scan` also returns the QR codes read from the first pages of a safe file
(``edupilot.applications.formcode`` checks them): each page is rasterised by pdfium at
``SCAN_DPI`` (fewer for a page larger than A4, so no page exceeds ``SCAN_MAX_PIXELS``), at
most ``SCAN_PAGES`` pages and ``SCAN_SECONDS``; the child answers the check first, so a scan
whose reading is cut short by the limits is still stored, as one without a readable code.
This file is also the child's program (``python -I pdfcheck.py PATH BOUND [codes]``).
"""

from __future__ import annotations

import json
import sys
import zlib

# Bound: the total size all Flate streams may inflate to is the caller's (setting
# EDUPILOT_PDF_MAX_INFLATED_MB), generous for scans: their images are DCT/JPX, not inflated
# here. The child's CPU seconds, wall seconds and address space: ``bounded``.
MAX_INFLATED_BYTES = 256 * 1024 * 1024
# Reading a stamped scan's code: the first pages at this resolution, within this time.
SCAN_PAGES = 3
SCAN_DPI = 200
SCAN_MAX_PIXELS = 6_000_000
SCAN_SECONDS = 8

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


def inspect_pdf(path: str, max_inflated: int = MAX_INFLATED_BYTES) -> int:
    """The page count of the PDF at ``path``; bounded.Refused(cause) when it may not be stored."""
    return _run(path, max_inflated, codes=False)[0]


def inspect_scan(path: str, max_inflated: int = MAX_INFLATED_BYTES) -> tuple[int, list | None]:
    """As :func:`inspect_pdf`, and the QR codes read from the first pages (None: not read in
    time or by the limits; the file itself passed the check)."""
    return _run(path, max_inflated, codes=True)


def _run(path: str, max_inflated: int, *, codes: bool) -> tuple[int, list | None]:
    from .bounded import run_check  # here, not above: the child (this file) imports no edupilot

    args = [str(path), str(int(max_inflated))] + (["codes"] if codes else [])
    answers = run_check(__file__, args, crashed="inflates")
    found = next((a["codes"] for a in answers[1:] if isinstance(a.get("codes"), list)), None)
    return int(answers[0]["pages"]), found


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


def _read_codes(path: str) -> list[str]:
    """QR codes on the first pages, rasterised in grey by pdfium; stops at the first page
    that has any, or when time is up."""
    import time

    import pypdfium2 as pdfium
    import zxingcpp

    deadline = time.monotonic() + SCAN_SECONDS
    found: list[str] = []
    pdf = pdfium.PdfDocument(path)
    try:
        for i in range(min(len(pdf), SCAN_PAGES)):
            if time.monotonic() > deadline:
                break
            page = pdf[i]
            width, height = page.get_size()
            scale = SCAN_DPI / 72
            pixels = width * height * scale * scale
            if pixels > SCAN_MAX_PIXELS:
                scale *= (SCAN_MAX_PIXELS / pixels) ** 0.5
            image = page.render(scale=scale, grayscale=True).to_pil()
            for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
                if code.valid and code.text:
                    found.append(code.text[:200])
            if found:
                break
    finally:
        pdf.close()
    return found[:10]


if __name__ == "__main__":
    answer = _main(sys.argv[1], int(sys.argv[2]))
    print(json.dumps(answer), flush=True)
    if "pages" in answer and sys.argv[3:] == ["codes"]:
        try:
            codes = _read_codes(sys.argv[1])
        except Exception:  # noqa: BLE001 - an unreadable picture is a scan without a code
            codes = []
        print(json.dumps({"codes": codes}), flush=True)
