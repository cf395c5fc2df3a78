"""The issuer's province-wide queue tabs, re-measured on a database that
``bench/review_queue.py`` has already built (no rebuild, so two code versions can be
compared on the same data):

    python bench/review_queue.py --repeat 20                      # builds /tmp/review-bench
    python bench/review_queue_tabs.py                             # SQLite in /tmp/review-bench
    python bench/review_queue_tabs.py --pg postgres://postgres@127.0.0.1:5432/review_bench

Prints p50/p99 wall time and median CPU time per request over ``--repeat`` requests after
ten warm-up requests, through Django's test Client as the province programme admin.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", metavar="URL", help="the PostgreSQL bench database")
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "review-bench"))
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()
    os.environ["EDUPILOT_DATA_DIR"] = args.data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "edupilot.settings"
    os.environ.setdefault("EDUPILOT_ALLOWED_HOSTS", "testserver,localhost")
    if args.pg:
        os.environ["DATABASE_URL"] = args.pg
    else:
        os.environ.pop("DATABASE_URL", None)

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from edupilot.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="bench-province"))
    url = reverse("review:queue")
    print(f"engine: {connection.vendor}; python {sys.version.split()[0]}, {os.cpu_count()} cpu")
    for label, params in (
        ("province: awaiting decision", {}),
        ("province: whole province, state submitted", {"state": "submitted"}),
    ):
        for _ in range(10):
            assert client.get(url, params).status_code == 200
        wall, cpu = [], []
        for _ in range(args.repeat):
            t, p = time.perf_counter(), time.process_time()
            client.get(url, params)
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - p) * 1000)
        wall.sort()
        p99 = wall[min(len(wall) - 1, round(0.99 * (len(wall) - 1)))]
        print(
            f"{label:45} p50 {statistics.median(wall):6.1f} ms  p99 {p99:6.1f} ms"
            f"  cpu {statistics.median(cpu):6.1f} ms"
        )


if __name__ == "__main__":
    main()
