"""Many renders in one process: does the thousandth PDF cost what the tenth does?

    python bench/documents_pdf_soak.py                       # 1,000 renders, the fix
    python bench/documents_pdf_soak.py --per-render-fonts    # the old way: new fonts each time
    python bench/documents_pdf_soak.py --renders 300 --entries 200
    python bench/documents_pdf_soak.py --renders 600 --threads 4   # like gunicorn --threads 4

Renders the public announcement list (``documents/notices/announcement.html``, the PDF
anyone can ask for) ``--renders`` times in one process, the way a long-lived web worker does,
with ``--entries`` listed units. Prints, at render 1, 10, 100, ... and the last: the median
wall and CPU time of the ten renders ending there, the process's RSS split into heap
(RssAnon) and mapped files (RssFile: the font files), and the count of mappings. ``--per-render-fonts`` passes a
new WeasyPrint ``FontConfiguration`` to each render, which is what WeasyPrint does when it is
given none (the code before the fix). No database is needed. Figures go to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def memory() -> dict:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    with open("/proc/self/maps") as fh:
        out["maps"] = sum(1 for _ in fh)
    return out


def context(entries: int) -> dict:
    tz = dt.timezone(dt.timedelta(hours=8))
    programme = SimpleNamespace(
        title="河南省第二期“腾讯智慧校园”试点学校遴选", doc_no="豫教电馆〔2019〕5号"
    )
    ann = SimpleNamespace(
        title="河南省第二期智慧校园试点学校拟立项名单",
        intro="根据遴选工作安排，经学校申报、市级推荐、专家评审，确定拟立项名单。",
        programme=programme,
        published_at=dt.datetime(2019, 10, 8, 9, 0, tzinfo=tz),
        objection_until=dt.datetime(2019, 10, 14, 23, 59, tzinfo=tz),
        final_published_at=None,
    )
    rows = [
        SimpleNamespace(
            unit_name=f"郑州市金水区第{i}小学",
            category_name="试点学校",
            topic_name="",
            region_name="郑州市金水区",
        )
        for i in range(1, entries + 1)
    ]
    return {
        "ann": ann,
        "entries": rows,
        "closed": False,
        "issuer": "河南省电化教育馆",
        "show_topic": False,
        "generated_at": dt.datetime.now(tz),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=60)
    parser.add_argument("--per-render-fonts", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="render from N threads at once")
    args = parser.parse_args()

    os.environ.setdefault("EDUPILOT_DATA_DIR", tempfile.mkdtemp(prefix="pdf-soak-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "edupilot.settings"
    import django

    django.setup()
    import weasyprint
    from django.template.loader import render_to_string
    from weasyprint.text.fonts import FontConfiguration

    from edupilot.documents import pdf

    template = "documents/notices/announcement.html"
    ctx = context(args.entries)

    def render() -> bytes:
        if not args.per_render_fonts:
            return pdf.render_pdf(template, ctx)
        html = render_to_string(template, ctx)
        document = weasyprint.HTML(
            string=html, base_url=pdf.default_base_url(), url_fetcher=pdf.LocalOnlyFetcher()
        )
        return document.write_pdf(font_config=FontConfiguration())

    mode = "new FontConfiguration per render" if args.per_render_fonts else "one per thread"
    print(f"{args.renders} renders of the announcement list ({args.entries} units), {mode}")
    print(f"before: {memory()['VmRSS']:.0f} MiB RSS")
    marks = {1, args.renders} | {10**k for k in range(1, 7) if 10**k <= args.renders}
    times: list[float] = []
    cpus: list[float] = []
    lock = threading.Lock()
    cpu0 = time.process_time()

    def report(i: int, size: int) -> None:
        window, cwindow = times[-10:], cpus[-10:]
        m = memory()
        print(
            f"render {i:>5}: median of last {len(window):>2} {statistics.median(window):.3f} s"
            f" (CPU {statistics.median(cwindow):.3f} s)"
            f"  RSS {m['VmRSS']:.0f} MiB (heap {m['RssAnon']:.0f}, files {m['RssFile']:.0f})"
            f"  peak {m['VmHWM']:.0f} MiB  maps {m['maps']}  pdf {size / 1024:.0f} KiB",
            flush=True,
        )

    def work(n: int) -> None:
        for _ in range(n):
            t, c = time.perf_counter(), time.thread_time()
            size = len(render())
            with lock:
                times.append(time.perf_counter() - t)
                cpus.append(time.thread_time() - c)
                if len(times) in marks or (args.threads > 1 and len(times) % 100 == 0):
                    report(len(times), size)

    share = [args.renders // args.threads] * args.threads
    share[0] += args.renders - sum(share)
    workers = [threading.Thread(target=work, args=(n,)) for n in share]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    cpu = time.process_time() - cpu0
    print(f"CPU {cpu:.1f} s for {args.renders} renders = {cpu / args.renders:.3f} s each")


if __name__ == "__main__":
    main()
