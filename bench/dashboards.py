"""The province's dashboard at scale: the progress table, the whole page, and a bare floor.

    python bench/dashboards.py                                     # SQLite in /tmp/dashboards-bench
    python bench/dashboards.py --pg postgres://postgres@127.0.0.1:5432/dashboards_bench
    python bench/dashboards.py --schools 20000 --applications 5000 --repeat 20

Builds the same throwaway Henan as bench/review_queue.py (``--schools`` generated schools,
``--applications`` bids in every state with their city-level decisions, in bulk), then times
for the province's programme admin (河南省, by city):

- (a) the progress table (``dashboards.selectors._progress``: started, submitted, recommended,
  quota and its use by city, grouped in the database by a CASE over the cities' path ranges)
  against a floor doing the same essential work with raw SQL: the counts grouped by applicant
  path, the counting recommendations by the cities or the province grouped the same way, the
  quotas and their use by holder, and the paths bucketed to cities in plain Python;
- (b) the whole ``dashboards.selectors.dashboard`` (four tables) and the page through Django's
  test Client (middleware, session, template, JSON for the charts);
- (c) the number of queries of the page at ``--small`` and at ``--applications`` bids, which
  must be equal (constant in the number of schools and bids).

Figures go to docs/benchmarks.md.
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
sys.path.insert(0, str(ROOT / "bench"))

from review_queue import build, prepare_database  # noqa: E402 - the same throwaway Henan


def timed(fn, repeat: int) -> tuple[float, float, object]:
    result = fn()  # warm-up (and the value to check)
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), max(samples), result


def floor_progress(programme, province, cities) -> dict[int, list]:
    """The progress numbers by city from raw SQL and plain Python (no ORM, no CASE)."""
    from django.db import connection

    from edupilot.orgs.models import subtree_range

    lo, hi = subtree_range(province.path)
    ids = [province.pk, *(c.pk for c in cities)]
    marks = ",".join(["%s"] * len(ids))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT applicant_path, COUNT(*), SUM(CASE WHEN state <> 'draft' OR version > 0 "
            "THEN 1 ELSE 0 END), SUM(CASE WHEN state IN ('recommended','approved','rejected',"
            "'pilot') THEN 1 ELSE 0 END) FROM applications_application WHERE programme_id = %s "
            "AND applicant_path >= %s AND applicant_path < %s GROUP BY applicant_path",
            [programme.pk, lo, hi],
        )
        by_path = cur.fetchall()
        cur.execute(
            "SELECT a.applicant_path, COUNT(DISTINCT a.id) FROM review_reviewdecision d "  # noqa: S608 - only placeholders
            "JOIN applications_application a ON a.id = d.application_id "
            f"WHERE d.active AND d.action = 'recommend' AND d.org_id IN ({marks}) "
            "AND a.programme_id = %s AND a.state NOT IN ('recommended','approved','rejected',"
            "'pilot') GROUP BY a.applicant_path",
            [*ids, programme.pk],
        )
        recommended = dict(cur.fetchall())
        cur.execute(
            "SELECT holder_id, SUM(effective) FROM programmes_quotaallocation "  # noqa: S608 - only placeholders
            f"WHERE programme_id = %s AND holder_id IN ({marks}) GROUP BY holder_id",
            [programme.pk, *ids],
        )
        limits = dict(cur.fetchall())
        cur.execute(
            "SELECT quota_holder_id, COUNT(*) FROM review_reviewdecision WHERE programme_id = %s "  # noqa: S608 - only placeholders
            f"AND active AND action = 'recommend' AND quota_holder_id IN ({marks}) "
            "GROUP BY quota_holder_id",
            [programme.pk, *ids],
        )
        used = dict(cur.fetchall())
    out = {c.pk: [0, 0, 0, limits.get(c.pk), used.get(c.pk, 0)] for c in cities}
    for path, started, submitted, passed in by_path:
        city = next((c for c in cities if path.startswith(c.path)), None)
        if city is None:
            continue
        row = out[city.pk]
        row[0] += started
        row[1] += submitted
        row[2] += passed + recommended.get(path, 0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", metavar="URL", help="PostgreSQL URL (database is recreated)")
    parser.add_argument("--schools", type=int, default=20_000)
    parser.add_argument("--applications", type=int, default=5_000)
    parser.add_argument("--small", type=int, default=200, help="bids of the query-count check")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "dashboards-bench"))
    args = parser.parse_args()
    prepare_database(args.pg, Path(args.data_dir))

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from edupilot.applications.models import Application
    from edupilot.dashboards import selectors
    from edupilot.orgs.models import Membership
    from edupilot.orgs.scoping import Scope

    print(f"engine: {connection.vendor}; python {sys.version.split()[0]}, {os.cpu_count()} cpu")
    ctx = build(args)
    programme, province, user = ctx["programme"], ctx["province"], ctx["province_user"]
    scope = Scope.for_membership(Membership.objects.select_related("org").get(user=user))
    cities = selectors._children(province)
    print(f"province: {province.name}, {len(cities)} rows (cities and direct counties)")

    ms, worst, table = timed(
        lambda: selectors._progress(scope, province, cities, programme), args.repeat
    )
    fms, fworst, floor = timed(lambda: floor_progress(programme, province, cities), args.repeat)
    mine = {r[0]: r[1:] for r in table.rows}
    for c in cities:
        want = floor[c.pk]
        got = mine[c.name]
        assert got[:3] == want[:3], (c.name, got, want)
    print(f"(a) progress table:        {ms:8.1f} ms median, {worst:8.1f} max")
    print(f"    floor (raw SQL + py):  {fms:8.1f} ms median, {fworst:8.1f} max  (same numbers)")

    ms, worst, _ = timed(lambda: selectors.dashboard(scope, province, {}), args.repeat)
    client = Client()
    client.force_login(user)

    def get_page():
        response = client.get("/dashboards/")
        assert response.status_code == 200
        return response

    pms, pworst, _ = timed(get_page, args.repeat)
    print(f"(b) dashboard(), 4 tables: {ms:8.1f} ms median, {worst:8.1f} max")
    print(f"    the page (Client):     {pms:8.1f} ms median, {pworst:8.1f} max")

    with CaptureQueriesContext(connection) as many:
        get_page()
    keep = list(
        Application.objects.filter(programme=programme)
        .order_by("pk")
        .values_list("pk", flat=True)[: args.small]
    )
    Application.objects.filter(programme=programme).exclude(pk__in=keep).delete()
    with CaptureQueriesContext(connection) as few:
        get_page()
    print(
        f"(c) queries of the page: {len(few)} at {len(keep)} bids, "
        f"{len(many)} at {len(ctx['apps']):,} bids"
    )
    assert len(few) == len(many)


if __name__ == "__main__":
    main()
