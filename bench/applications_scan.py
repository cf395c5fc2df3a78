"""The cost of reading a stamped scan's QR code on upload, against its floors.

    python bench/applications_scan.py            # 3-page scans, 10 runs each
    python bench/applications_scan.py --runs 20 --pages 5

Makes scans as a scanner would (A4 pages at 200 dpi with a QR code in the top-right margin,
turned 2.5°, JPEG in a PDF; and the same without a code, the worst case: every page read)
and times, side by side, the median of:

- ``inspect_pdf``: the safety check alone in its bounded child (what every upload costs);
- ``inspect_scan``: the same child also rasterising and reading the codes;
- the floor: pdfium + zxing-cpp in this process, the same pages, no child, no check.

No database is needed. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CODE = "EP1:123456:2:F:0123456789ABCDEF:0123456789AB"


def scan(pages: int, with_code: bool) -> bytes:
    import segno
    from PIL import Image, ImageDraw

    dpi = 200
    w, h = int(8.27 * dpi), int(11.69 * dpi)
    images = []
    for n in range(pages):
        page = Image.new("L", (w, h), 255)
        draw = ImageDraw.Draw(page)
        for y in range(int(1.2 * dpi), h - dpi, 40):  # lines of "text"
            draw.rectangle((int(0.9 * dpi), y, w - int(0.9 * dpi) - (y * 7 + n) % 300, y + 14), 60)
        if with_code:
            buf = io.BytesIO()
            segno.make(CODE, error="m", micro=False).save(buf, kind="png", scale=5, border=0)
            page.paste(Image.open(buf).convert("L"), (w - int(0.9 * dpi) - 150, int(0.2 * dpi)))
        images.append(page.rotate(2.5, expand=True, fillcolor=255))
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=images[1:], quality=80)
    return out.getvalue()


def floor(path: str) -> list[str]:
    """The essential work in-process: the same pages, the same resolution, the same reader."""
    import pypdfium2 as pdfium
    import zxingcpp

    from edupilot.applications.pdfcheck import SCAN_DPI, SCAN_PAGES

    found: list[str] = []
    pdf = pdfium.PdfDocument(path)
    for i in range(min(len(pdf), SCAN_PAGES)):
        image = pdf[i].render(scale=SCAN_DPI / 72, grayscale=True).to_pil()
        found += [
            c.text for c in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        ]
        if found:
            break
    pdf.close()
    return found


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--pages", type=int, default=3)
    args = parser.parse_args()
    from edupilot.applications.pdfcheck import inspect_pdf, inspect_scan

    print(f"{'scan':<22}{'inspect_pdf':>14}{'inspect_scan':>14}{'floor':>10}  codes")
    for label, with_code in (("with code", True), ("no code (all pages)", False)):
        data = scan(args.pages, with_code)
        with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
            fh.write(data)
            fh.flush()
            check, _ = timed(lambda: inspect_pdf(fh.name), args.runs)
            read, (_, codes) = timed(lambda: inspect_scan(fh.name), args.runs)
            bare, _ = timed(lambda: floor(fh.name), args.runs)
        print(
            f"{label:<22}{check * 1000:>11.0f} ms{read * 1000:>11.0f} ms{bare * 1000:>7.0f} ms"
            f"  {len(codes or [])} ({len(data) // 1024} KB, {args.pages} pages)"
        )


if __name__ == "__main__":
    main()
