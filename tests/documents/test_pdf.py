"""The PDF base renders Chinese on this machine: real fonts, real pixels, text extractable."""

import datetime as dt
import io

import pdfplumber
import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from edupilot.documents.pdf import (
    LocalOnlyFetcher,
    check_cjk_fonts,
    html_to_pdf,
    installed_cjk_families,
    pdf_response,
    render_pdf,
)

TITLE = "河南省第二期“腾讯智慧校园”试点学校申请表"


def specimen(**extra) -> bytes:
    context = {
        "form_title": TITLE,
        "attachment_no": "附件2",
        "org": "郑州市金水区第一小学",
        "contact": "张老师",
        "phone": "0371-66329808",
        "filled": dt.date(2019, 9, 10),
        "summary": "学校已实现千兆到校、百兆到班，无线网络覆盖全部教学区域。",
        "opinions": [
            {"title": "学校意见", "text": "同意申报。", "date": dt.date(2019, 9, 10)},
            {"title": "省辖市、直管县（市）电教馆（中心）推荐意见"},
        ],
        "rows": [],
    }
    context.update(extra)
    return render_pdf("documents/base_specimen.html", context)


@pytest.fixture(scope="module")
def pdf_bytes():
    return specimen()


def test_pdf_is_a4_and_embeds_noto_cjk(pdf_bytes):
    assert pdf_bytes.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf_bytes))
    box = reader.pages[0].mediabox
    # A4 is 210 x 297 mm = 595.28 x 841.89 pt.
    assert round(float(box.width)) == 595 and round(float(box.height)) == 842
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("Noto-Serif-CJK-SC" in f for f in fonts), fonts
    assert any("Noto-Sans-CJK-SC" in f for f in fonts), fonts


def test_chinese_text_extracts_back(pdf_bytes):
    text = PdfReader(io.BytesIO(pdf_bytes)).pages[0].extract_text()
    assert TITLE in text
    assert "郑州市金水区第一小学" in text
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        words = pdf.pages[0].extract_text()
    # The opinion box helpers: signature, stamp and date lines, and a filled date.
    assert "负责人（签字）" in words
    assert "（公章）" in words
    assert "2019 年 9 月 10 日" in words
    assert "年" in words and "月" in words and "日" in words


def test_title_area_has_ink(pdf_bytes):
    doc = pdfium.PdfDocument(pdf_bytes)
    try:
        image = doc[0].render(scale=1).to_pil().convert("L")
    finally:
        doc.close()
    width, height = image.size
    # The centred title sits in the top fifth of the page; count dark pixels there.
    title_band = image.crop(
        (int(width * 0.1), int(height * 0.08), int(width * 0.9), int(height * 0.2))
    )
    dark = sum(title_band.histogram()[:128])
    assert dark > 500, f"only {dark} dark pixels where the title should be"
    # And a blank strip of margin has none: the count above is the text, not noise.
    margin = image.crop((0, 0, width, int(height * 0.04)))
    assert sum(margin.histogram()[:128]) == 0


def test_applicant_text_is_escaped_not_rendered_as_html():
    pdf = specimen(summary='<img src="file:///etc/passwd">恶意<script>alert(1)</script>')
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "<img" in text and "恶意" in text


def test_fetcher_refuses_files_outside_static_and_network():
    fetcher = LocalOnlyFetcher()
    with pytest.raises(ValueError):
        fetcher.fetch("file:///etc/passwd")
    with pytest.raises(ValueError):
        fetcher.fetch("http://169.254.169.254/latest/meta-data/")
    response = fetcher.fetch("data:text/plain;base64,5Lit5paH")
    assert response is not None


def test_stylesheet_from_static_dir_is_allowed():
    # A relative URL resolves against the static directory and loads.
    pdf = html_to_pdf(
        '<html lang="zh-CN"><head><link rel="stylesheet" href="css/edupilot.css"></head>'
        "<body><p>样式表</p></body></html>"
    )
    assert "样式表" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_summary_table_spans_pages_with_header_repeated():
    rows = [
        {"name": f"第{i}小学", "county": "金水区", "stage": "小学", "bandwidth": 100 + i}
        for i in range(80)
    ]
    pdf = specimen(rows=rows)
    reader = PdfReader(io.BytesIO(pdf))
    texts = [p.extract_text() for p in reader.pages]
    table_pages = [t for t in texts if "金水区" in t and "小学" in t and "申报理由" not in t]
    assert len(table_pages) >= 2
    # The header row repeats on every page of the table.
    assert all("出口带宽" in t for t in table_pages)
    last = reader.pages[-1].extract_text()
    assert f"共 {len(reader.pages)} 页" in last


def test_cjk_fonts_are_installed_and_the_check_passes():
    assert "Noto Serif CJK SC" in installed_cjk_families()
    assert check_cjk_fonts() == []


def test_pdf_response_encodes_a_chinese_filename():
    response = pdf_response(b"%PDF-1.7", "申请表.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert "filename*=utf-8''%E7%94%B3%E8%AF%B7%E8%A1%A8.pdf" in response["Content-Disposition"]
