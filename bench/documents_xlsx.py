"""XLSX export time and peak memory: 5,000 and 50,000 rows through the export base.

    python bench/documents_xlsx.py                    # 5,000 and 50,000 rows
    python bench/documents_xlsx.py --rows 200000

Each size runs in a fresh subprocess so its peak RSS is its own. The export has 10 columns
of the kinds the notices' summary tables use (text, int, number, percent, datetime, date,
bool) and writes to a temporary file with constant_memory, as a background job does.
Prints rows, seconds, rows/s, file size, RSS before writing and peak RSS. Flat memory means
the peak does not grow with the row count. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_one(rows: int) -> None:
    os.environ.setdefault("EDUPILOT_DATA_DIR", tempfile.mkdtemp(prefix="xlsx-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "edupilot.settings"
    import django

    django.setup()
    from edupilot.documents.xlsx import Column, XlsxExport

    class Bench(XlsxExport):
        title = "试点学校推荐汇总表"
        heading = "附件3：设区市推荐汇总表"
        columns = [
            Column("序号", 6, "int"),
            Column("学校名称", 30),
            Column("所在县（市、区）", 16),
            Column("学段", 10),
            Column("出口带宽（Mbps）", 12, "int"),
            Column("无线覆盖率", 10, "percent"),
            Column("经费（万元）", 12, "number"),
            Column("提交时间", 18, "datetime"),
            Column("截止日期", 12, "date"),
            Column("城区", 6, "bool"),
        ]

        def total(self):
            return rows

        def rows(self):
            at = dt.datetime(2019, 9, 20, 1, 30, tzinfo=dt.UTC)
            day = dt.date(2019, 9, 27)
            for i in range(rows):
                yield [
                    i + 1,
                    f"郑州市金水区第{i}小学",
                    "金水区",
                    "小学、初中",
                    100 + i % 900,
                    Decimal("0.85"),
                    Decimal("12.50"),
                    at,
                    day,
                    i % 2 == 0,
                ]

    before = rss_mib()
    calls = []
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
        t = time.perf_counter()
        Bench().write(tmp.name, progress=lambda done, total: calls.append(done))
        elapsed = time.perf_counter() - t
        size = os.path.getsize(tmp.name)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{rows:>7,} rows: {elapsed:6.2f} s, {rows / elapsed:>8,.0f} rows/s, "
        f"{size / 1024 / 1024:5.1f} MiB file, RSS before {before:5.1f} MiB, "
        f"peak {peak:5.1f} MiB, {len(calls)} progress calls"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="*", default=[5000, 50000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        run_one(args.one)
        return
    for n in args.rows:
        subprocess.run([sys.executable, __file__, "--one", str(n)], check=True)  # noqa: S603


if __name__ == "__main__":
    main()
