"""The certification import against the bare read of the same file: CPU and peak memory.

    python bench/certification_import.py                     # SQLite in /tmp/certification-import
    python bench/certification_import.py --pg postgres://postgres@127.0.0.1:5432/certification_import
    python bench/certification_import.py --schools 5000      # a quick run
    python bench/certification_import.py --reuse             # again, on the same database

Builds the database of bench/certification_scale.py (Zhejiang, ``--schools`` schools, a
standard of ``--indicators`` indicators, a batch and a data source), writes one export of
every school × indicator as XLSX (XlsxWriter) and as CSV (UTF-8), then measures each step
in a fresh child process, so that each peak is its own:

- **read**: the file read, every cell visited and nothing else done: an XLSX sheet by
  python-calamine whole (the fastest reader there is, and the floor the ratios are taken
  against) and streamed as the import reads it (edupilot/certification/xlsx_stream.py:
  calamine over pieces of the sheet); a CSV by the csv module over the decoded stream;
- **import**: ``services.import_execute`` as the background job calls it (match by code,
  parse every cell, merge as of the cut-off, write the values and the row report), without
  the assessment that follows it (bench/certification_scale.py times that).

Figures per child: CPU time of the child process (user + system; with SQLite the database
works inside it; with PostgreSQL the server backend's CPU is read from /proc and shown
apart), wall time, peak RSS (the child's VmHWM, which unlike ``ru_maxrss`` does not carry
the parent's peak over ``exec``) and the RSS the child had before the step (the
Python/Django baseline). Each import starts from empty entries. Figures go to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    """Peak RSS of this process (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def proc_cpu(pid: int) -> float | None:
    """User + system CPU seconds of another process on this host (the PostgreSQL backend)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_read(path: str, whole: bool) -> dict:
    before = rss_mb()
    cpu, wall = time.process_time(), time.perf_counter()
    cells = 0
    if path.endswith(".xlsx") and whole:
        from python_calamine import CalamineWorkbook

        for row in CalamineWorkbook.from_path(path).get_sheet_by_index(0).iter_rows():
            cells += len(row)
    elif path.endswith(".xlsx"):
        from edupilot.certification import xlsx_stream

        with open(path, "rb") as fh:
            for _, row in xlsx_stream.open_rows(fh, ""):
                cells += len(row)
    else:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                cells += len(row)
    return {
        "cpu": time.process_time() - cpu,
        "wall": time.perf_counter() - wall,
        "peak": peak_mb(),
        "before": before,
        "extra": f"{cells:,} cells",
    }


def child_import(state: dict) -> dict:
    os.environ.update(state["env"])
    import django

    django.setup()
    from django.db import connection

    from edupilot.certification import services
    from edupilot.certification.models import ImportRun
    from edupilot.orgs.models import Membership
    from edupilot.orgs.scoping import Scope

    run = ImportRun.objects.select_related("batch", "source", "file").get(pk=state["run_id"])
    scope = Scope.for_membership(Membership.objects.get(pk=state["membership_id"]))
    backend = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            backend = cur.fetchone()[0]
    server0 = proc_cpu(backend) if backend else None
    before = rss_mb()
    cpu, wall = time.process_time(), time.perf_counter()
    run = services.import_execute(run=run, scope=scope, assess=False)
    out = {
        "cpu": time.process_time() - cpu,
        "wall": time.perf_counter() - wall,
        "peak": peak_mb(),
        "before": before,
        "extra": f"{run.state}: {run.matched_rows} rows, {run.values_set:,} values, "
        f"{run.issue_count} issues",
    }
    if server0 is not None:
        server1 = proc_cpu(backend)
        out["server_cpu"] = server1 - server0 if server1 is not None else None
    return out


def write_csv(path: Path, xlsx: Path) -> None:
    """The same rows as the XLSX export, as CSV (what a system exporting CSV would give)."""
    from python_calamine import CalamineWorkbook

    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        for row in CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_index(0).iter_rows():
            out.writerow(
                [
                    int(v) if isinstance(v, float) and v.is_integer() else ("" if v is None else v)
                    for v in row
                ]
            )


def reuse(args) -> dict:
    """The database and files a previous run left (``--reuse``), for measuring again."""
    os.environ["EDUPILOT_DATA_DIR"] = args.data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "edupilot.settings"
    if args.pg:
        os.environ["DATABASE_URL"] = args.pg
    import django

    django.setup()
    from edupilot.certification.models import Batch, DataSource
    from edupilot.orgs.models import Membership

    stem = Path(tempfile.gettempdir()) / f"certification-bench-{args.schools}x{args.indicators}"
    env = {k: os.environ[k] for k in ("EDUPILOT_DATA_DIR", "DJANGO_SETTINGS_MODULE")}
    if args.pg:
        env["DATABASE_URL"] = args.pg
    return {
        "env": env,
        "batch_id": Batch.objects.get(code="bench").pk,
        "source_id": DataSource.objects.get(code="bench").pk,
        "membership_id": Membership.objects.get(user__username="bench").pk,
        "files": [str(stem.with_suffix(".xlsx")), str(stem.with_suffix(".csv"))],
    }


def setup(args) -> dict:
    from certification_scale import build_world, prepare_database, write_export

    prepare_database(args.pg, Path(args.data_dir))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from edupilot.orgs.models import Org, OrgKind

    world = build_world(args.schools, args.indicators)
    batch, source, membership = world.batch, world.source, world.membership
    stem = Path(tempfile.gettempdir()) / f"certification-bench-{args.schools}x{args.indicators}"
    xlsx, csv_path = stem.with_suffix(".xlsx"), stem.with_suffix(".csv")
    if not xlsx.exists():
        schools = list(
            Org.objects.filter(kind=OrgKind.SCHOOL, code__startswith="B")
            .order_by("code")
            .values_list("code", "name")
        )
        partial = stem.with_suffix(".partial")
        write_export(partial, schools, args.indicators, seed=2024)
        partial.rename(xlsx)
    if not csv_path.exists():
        partial = stem.with_suffix(".partial")
        write_csv(partial, xlsx)
        partial.rename(csv_path)
    env = {k: os.environ[k] for k in ("EDUPILOT_DATA_DIR", "DJANGO_SETTINGS_MODULE")}
    if args.pg:
        env["DATABASE_URL"] = args.pg
    return {
        "env": env,
        "batch_id": batch.pk,
        "source_id": source.pk,
        "membership_id": membership.pk,
        "files": [str(xlsx), str(csv_path)],
    }


def prepare_run(state: dict, path: str) -> int:
    """Empty the batch's entries and record a fresh import of ``path`` (as the page does)."""
    from edupilot.audit.services import Actor
    from edupilot.certification import services
    from edupilot.certification.models import Batch, DataSource, Entry, ImportRun
    from edupilot.orgs.models import Membership

    batch = Batch.objects.get(pk=state["batch_id"])
    Entry.objects.filter(batch=batch).update(data={})
    ImportRun.objects.filter(batch=batch).delete()
    membership = Membership.objects.select_related("org", "user").get(pk=state["membership_id"])
    started = services.import_prepare(
        batch=batch,
        source=DataSource.objects.get(pk=state["source_id"]),
        content=Path(path).read_bytes(),
        filename=Path(path).name,
        as_of=None,
        scope=None,
        actor=Actor(user=membership.user, org=membership.org),
    )
    return started.run.pk


def spawn(kind: str, payload: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, json.dumps(payload)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="PostgreSQL URL (database is dropped and created)")
    parser.add_argument("--schools", type=int, default=50_000)
    parser.add_argument("--indicators", type=int, default=80)
    parser.add_argument("--formats", default="xlsx,csv")
    parser.add_argument(
        "--data-dir", default=str(Path(tempfile.gettempdir()) / "certification-import")
    )
    parser.add_argument(
        "--reuse", action="store_true", help="measure again on the database a run left"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, payload = args.child[0], json.loads(args.child[1])
        if kind == "import" and os.environ.get("BENCH_PROFILE"):
            # BENCH_PROFILE=FILE: the import under cProfile, its statistics written to FILE
            # (the CPU figure then includes the profiler's overhead).
            import cProfile

            profiler = cProfile.Profile()
            result = profiler.runcall(child_import, payload)
            profiler.dump_stats(os.environ["BENCH_PROFILE"])
        elif kind == "import":
            result = child_import(payload)
        else:
            result = child_read(payload["path"], whole=kind == "whole")
        print(json.dumps(result))
        return

    state = reuse(args) if args.reuse else setup(args)
    from django.db import connection

    print(
        f"{connection.vendor}: {args.schools} schools × {args.indicators} indicators; "
        "each row a fresh child process"
    )
    print(f"{'step':<24} {'cpu s':>7} {'wall s':>7} {'peak MB':>8} {'before MB':>9}  notes")
    formats = args.formats.split(",")
    for path in state["files"]:
        if Path(path).suffix[1:] not in formats:
            continue
        size = Path(path).stat().st_size / 1e6
        steps = []
        if path.endswith(".xlsx"):
            read = spawn("whole", {"path": path})
            steps.append((f"read xlsx whole ({size:.1f} MB)", read))
            steps.append(("read xlsx streamed", spawn("read", {"path": path})))
        else:
            read = spawn("read", {"path": path})
            steps.append((f"read csv ({size:.1f} MB)", read))
        run_id = prepare_run(state, path)
        connection.close()
        imp = spawn("import", {**state, "run_id": run_id})
        steps.append(("import", imp))
        for label, r in steps:
            notes = r["extra"]
            if r.get("server_cpu") is not None:
                notes += f"; PostgreSQL backend cpu {r['server_cpu']:.1f} s"
            if r is not read:
                notes += (
                    f"; cpu {r['cpu'] / read['cpu']:.2f}× first read, "
                    f"peak {r['peak'] / read['peak']:.2f}×"
                )
            print(
                f"{label:<24} {r['cpu']:7.2f} {r['wall']:7.2f} {r['peak']:8.0f} "
                f"{r['before']:9.0f}  {notes}",
                flush=True,
            )


if __name__ == "__main__":
    main()
