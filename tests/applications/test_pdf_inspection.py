"""Uploaded PDFs are inspected with pikepdf in a bounded process: active content, embedded
files and inflation bombs are refused with a message per cause; ordinary scans pass."""

from __future__ import annotations

import io
import zlib

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from edupilot.applications.files import UploadRejected, blob_store
from edupilot.applications.models import Blob

BOUND_MB = 4  # the tests' bound (the default is 256 MB): the same check, a smaller bomb


def _pdf(build=None) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    if build:
        build(pdf)
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def _store(content: bytes, name="扫描件.pdf"):
    return blob_store(
        SimpleUploadedFile(name, content, content_type="application/pdf"), accept=["pdf"], max_mb=50
    )


def _js_open_action(pdf):
    pdf.Root.OpenAction = pdf.make_indirect(
        pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    )


def _js_name_tree(pdf):
    action = pdf.make_indirect(
        pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    )
    pdf.Root.Names = pikepdf.Dictionary(
        JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("x"), action]))
    )


def _js_in_a_link(pdf):
    annot = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=[0, 0, 100, 100],
        A=pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("this.print()")),
    )
    pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annot)]))


def _launch(pdf):
    annot = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=[0, 0, 100, 100],
        A=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe")),
    )
    pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annot)]))


def _uri_open_action(pdf):
    pdf.Root.OpenAction = pikepdf.Dictionary(
        S=pikepdf.Name.URI, URI=pikepdf.String("http://example.invalid/")
    )


def _embedded(pdf):
    pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ" + b"\0" * 100)


def _bomb(pdf):
    # One small Flate stream that inflates past the bound (zeros compress ~1000:1).
    size = (BOUND_MB + 1) * 1024 * 1024
    compressor = zlib.compressobj(9)
    chunk = b"\0" * (1024 * 1024)
    raw = b"".join(compressor.compress(chunk) for _ in range(size // len(chunk)))
    raw += compressor.flush()
    stream = pikepdf.Stream(pdf, raw)
    stream.Filter = pikepdf.Name.FlateDecode
    pdf.Root.Bomb = pdf.make_indirect(stream)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (_js_open_action, "含有 JavaScript 脚本"),
        (_js_name_tree, "含有 JavaScript 脚本"),
        (_js_in_a_link, "含有 JavaScript 脚本"),
        (_launch, "启动外部程序的动作（Launch）"),
        (_uri_open_action, "打开时自动执行的动作"),
        (_embedded, "内嵌了其他文件"),
        (_bomb, "解压后的内容过大"),
    ],
    ids=["js-open-action", "js-names", "js-link", "launch", "uri-open-action", "embedded", "bomb"],
)
def test_dangerous_pdfs_are_refused_with_their_cause(db, settings, build, message):
    settings.EDUPILOT_PDF_MAX_INFLATED_MB = BOUND_MB
    content = _pdf(build)
    with pytest.raises(UploadRejected, match=message) as refused:
        _store(content, "恶意.pdf")
    assert "“恶意.pdf”" in str(refused.value)
    assert not Blob.objects.exists()


def test_an_ordinary_pdf_and_a_go_to_open_action_pass(db, settings):
    settings.EDUPILOT_PDF_MAX_INFLATED_MB = BOUND_MB

    def below_the_bound(pdf):
        stream = pikepdf.Stream(pdf, zlib.compress(b"\0" * (BOUND_MB * 1024 * 1024 - 4096)))
        stream.Filter = pikepdf.Name.FlateDecode
        pdf.Root.Big = pdf.make_indirect(stream)

    assert _store(_pdf(below_the_bound)).size > 0
    assert _store(_pdf()).size > 0

    def open_at_first_page(pdf):
        pdf.Root.OpenAction = pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.Fit])

    assert _store(_pdf(open_at_first_page)).size > 0


def test_encrypted_and_broken_pdfs_are_refused(db):
    buf = io.BytesIO()
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(buf, encryption=pikepdf.Encryption(owner="o", user="u"))
    with pytest.raises(UploadRejected, match="已加密"):
        _store(buf.getvalue())
    with pytest.raises(UploadRejected, match="无法作为 PDF 读取"):
        _store(b"%PDF-1.7\n" + b"garbage " * 500 + b"\n%%EOF\n")


def test_reading_a_scans_code_is_bounded_by_the_pixels_of_a_page(tmp_path):
    """A page of 200 × 200 inches (PDF's largest) would be 1.6 gigapixels at the reading
    resolution: it is read at a few megapixels, quickly, and has no code."""
    import time

    from pypdf import PdfWriter

    from edupilot.applications.pdfcheck import inspect_scan

    writer = PdfWriter()
    writer.add_blank_page(width=14400, height=14400)
    path = tmp_path / "huge.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    start = time.monotonic()
    assert inspect_scan(str(path)) == (1, [])
    assert time.monotonic() - start < 25  # the child's own wall limit is 30 s
