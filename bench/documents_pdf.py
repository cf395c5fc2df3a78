"""PDF render time per page with the documents base (WeasyPrint, Noto CJK, A4).

    python bench/documents_pdf.py                 # 1-page form x 10, then a 40-page table
    python bench/documents_pdf.py --forms 20 --rows 3000

Renders ``documents/base_specimen.html``: a one-page application form with opinion boxes
(the common case: one PDF per application), then the same form followed by a summary table
long enough to fill many pages (a city's 汇总表). Prints the first render (fonts loaded
cold), the median of warm single-form renders, and seconds per page of the long document.
No database is needed. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def context(rows: int) -> dict:
    return {
        "form_title": "河南省第二期“腾讯智慧校园”试点学校申请表",
        "attachment_no": "附件2",
        "org": "郑州市金水区第一小学",
        "contact": "张老师",
        "phone": "0371-66329808",
        "filled": dt.date(2019, 9, 10),
        "summary": "学校已实现千兆到校、百兆到班，无线网络覆盖全部教学区域。" * 6,
        "opinions": [
            {"title": "学校意见", "text": "同意申报。", "date": dt.date(2019, 9, 10)},
            {"title": "省辖市、直管县（市）电教馆（中心）推荐意见"},
            {"title": "省电化教育馆审定意见"},
        ],
        "rows": [
            {"name": f"郑州市第{i}小学", "county": "金水区", "stage": "小学", "bandwidth": 100 + i}
            for i in range(rows)
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forms", type=int, default=10)
    parser.add_argument("--rows", type=int, default=1100)
    args = parser.parse_args()

    os.environ.setdefault("EDUPILOT_DATA_DIR", tempfile.mkdtemp(prefix="pdf-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "edupilot.settings"
    import django

    django.setup()
    from pypdf import PdfReader

    from edupilot.documents.pdf import render_pdf

    def pages(pdf: bytes) -> int:
        return len(PdfReader(io.BytesIO(pdf)).pages)

    t = time.perf_counter()
    first = render_pdf("documents/base_specimen.html", context(0))
    cold = time.perf_counter() - t
    form_pages = pages(first)

    times = []
    for _ in range(args.forms):
        t = time.perf_counter()
        render_pdf("documents/base_specimen.html", context(0))
        times.append(time.perf_counter() - t)

    t = time.perf_counter()
    long_pdf = render_pdf("documents/base_specimen.html", context(args.rows))
    long_s = time.perf_counter() - t
    long_pages = pages(long_pdf)

    print(f"form ({form_pages} pages): first render {cold:.2f} s (cold fonts)")
    med = statistics.median(times)
    print(
        f"form ({form_pages} pages) x {args.forms}: median {med:.3f} s, "
        f"{med / form_pages:.3f} s/page, max {max(times):.3f} s"
    )
    print(
        f"form + {args.rows}-row table ({long_pages} pages): {long_s:.2f} s, "
        f"{long_s / long_pages:.3f} s/page, {len(long_pdf) / 1024:.0f} KiB"
    )


if __name__ == "__main__":
    main()
