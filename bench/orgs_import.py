"""Roster imports at county-to-province scale, on SQLite or PostgreSQL.

    python bench/orgs_import.py --rows 30000
    python bench/orgs_import.py --rows 30000 --pg postgres://postgres@127.0.0.1:5432/orgs_bench

Builds a fresh database with the Henan divisions, writes an XLSX roster of ``--rows`` demo
schools (edupilot.orgs.demo, not saved), and times: a dry run, the first import (all new),
the same file again (no change), and a file that changes one cell in every tenth row.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from orgs_subtree import prepare_database  # noqa: E402


def roster(orgs, bump: bool = False) -> bytes:
    import xlsxwriter

    from edupilot.orgs.importer import COLUMNS

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True})
    ws = wb.add_worksheet()
    fields = [
        "code",
        "name",
        "parent",
        "stages",
        "ownership",
        "locality",
        "bandwidth_mbps",
        "teacher_count",
        "student_count",
        "computer_count",
        "address",
        "postcode",
    ]
    labels = {c.field: c.label for c in COLUMNS}
    ws.write_row(0, 0, [labels[f] for f in fields])
    stage_names = {
        "kindergarten": "幼儿园",
        "primary": "小学",
        "junior": "初中",
        "senior": "高中",
        "vocational": "中职",
        "teaching_point": "教学点",
    }
    for i, o in enumerate(orgs, start=1):
        bandwidth = o.bandwidth_mbps + (10 if bump and i % 10 == 0 else 0)
        ws.write_row(
            i,
            0,
            [
                o.code,
                o.name,
                o.parent.code,
                ";".join(stage_names[s] for s in o.stage_list),
                "公办" if o.ownership == "public" else "民办",
                {"urban": "城区", "town": "镇区", "rural": "乡村"}[o.locality],
                bandwidth,
                o.teacher_count,
                o.student_count,
                o.computer_count,
                o.address,
                o.postcode,
            ],
        )
    wb.close()
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", metavar="URL")
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument(
        "--data-dir", default=str(Path(tempfile.gettempdir()) / "orgs-bench-import")
    )
    args = parser.parse_args()
    prepare_database(args.pg, Path(args.data_dir))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from edupilot.audit.services import Actor
    from edupilot.orgs import demo
    from edupilot.orgs.models import Org, OrgKind
    from edupilot.orgs.regions import seed_regions
    from edupilot.orgs.services import orgs_import

    call_command("migrate", verbosity=0)
    seed_regions(["henan"])
    counts = demo.city_counts(demo.load_counts(), "henan")
    scale = args.rows / sum(sum(c.values()) for c in counts.values())
    orgs, _ = demo.plan_schools(["henan"], scale=scale, seed=5)
    orgs = [o for o in orgs if o.kind == OrgKind.SCHOOL]
    first, changed = roster(orgs), roster(orgs, bump=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"engine: {connection.vendor}  rows: {len(orgs):,}  xlsx: {len(first) / 1e6:.1f} MB"
        f"  (2 cpu, load average {load})"
    )

    def run(label, data, **kw):
        t, cpu = time.perf_counter(), time.process_time()
        r = orgs_import(data=data, filename="roster.xlsx", actor=Actor.system(), **kw)
        wall, used = time.perf_counter() - t, time.process_time() - cpu
        print(
            f"{label:34} {wall:7.1f} s wall {used:6.1f} s CPU  added {r.added:,}"
            f" updated {r.updated:,} unchanged {r.unchanged:,} refused {r.refused}"
        )

    run("dry run (all new)", first, dry_run=True)
    run("import (all new)", first)
    run("same file again", first)
    run("every 10th row changed", changed)
    print(f"orgs in database: {Org.objects.count():,}")


if __name__ == "__main__":
    main()
