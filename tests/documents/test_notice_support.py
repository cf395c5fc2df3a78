"""Shared support for the notices' documents tests (test_notice_*.py). No tests here.

Applications go through the real applicant and reviewer services (tests/review/conftest.py);
documents are read back the way a user would: PDFs rendered to pixels and their text
extracted, workbooks opened with openpyxl.
"""

from __future__ import annotations

import io
import re

import openpyxl
import pdfplumber
import pypdfium2 as pdfium

from edupilot.review import services as review_services
from tests.review.conftest import load, reviewer, school_in, submit_as  # noqa: F401


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def label_column_text(data: bytes) -> str:
    """The text of the forms' label column (22 mm margin + 27 mm), squeezed: the titles of
    the opinion boxes wrap there line by line beside the box's own text."""
    out = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            out.append(page.within_bbox((0, 0, 140, page.height)).extract_text() or "")
    return squeeze("".join(out))


def pdf_pages(data: bytes) -> int:
    doc = pdfium.PdfDocument(data)
    try:
        return len(doc)
    finally:
        doc.close()


def dark_pixels(data: bytes, page: int = 0, box=(0.1, 0.08, 0.9, 0.2)) -> int:
    """Dark pixels in a band of a rendered page (the title band by default)."""
    doc = pdfium.PdfDocument(data)
    try:
        image = doc[page].render(scale=1).to_pil().convert("L")
    finally:
        doc.close()
    w, h = image.size
    band = image.crop((int(w * box[0]), int(h * box[1]), int(w * box[2]), int(h * box[3])))
    return sum(band.histogram()[:128])


def squeeze(text: str) -> str:
    """Text without the line breaks, spaces and page footers a page layout inserts."""
    return re.sub(r"第\d+页共\d+页", "", "".join(text.split()))


def workbook(data: bytes):
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return wb.active


def sheet_rows(ws) -> list[tuple]:
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def recommend(app, who, opinion="同意推荐。", rank=None):
    app.refresh_from_db()
    decision = review_services.review_recommend(
        application=app, scope=who.scope, actor=who.actor, opinion=opinion, rank=rank
    )
    app.refresh_from_db()
    return decision


def login(client, who):
    client.force_login(who.user)
    return client
