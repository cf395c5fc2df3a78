"""The issuer's selection at province scale: assignment, the board, publication, public page.

    python bench/selection_board.py                                  # SQLite in /tmp/selection-bench
    python bench/selection_board.py --pg postgres://postgres@127.0.0.1:5432/selection_bench
    python bench/selection_board.py --applications 1000 --experts 60 --repeat 50

Builds a fresh database (the PostgreSQL database named in the URL is dropped and created),
seeds Henan, generates ``--schools`` demo schools, loads the Henan programme file with a
three-criterion rubric appended, and places ``--applications`` school bids RECOMMENDED at
the province (each with its city's ranked recommendation). Then, timing each:

- an expert pool of ``--experts`` (a tenth of them from a city bureau, so conflict of
  interest bites) and automatic assignment of three experts per application;
- every expert's scores (written in bulk; the scoring service is timed on a sample);
- the issuer's board (all RECOMMENDED applications ranked, with caps and quota use), the
  expert's task list and task page, through Django's test Client: p50/p99 and queries;
- approving and publishing a list of ``--approve`` applications, the public page, closing.

The board is deliberately unpaginated (an issuer ranks every application it decides on);
Henan's whole table of places is 247, so 1,000 is four times the notice's scale.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUBRIC = """

[rubric]
aggregate = "trimmed_mean"
trim = 1
experts_per_application = 3
disagreement_threshold = 15

[[rubric.criteria]]
key = "basis"
name = "工作基础"
max = 30

[[rubric.criteria]]
key = "plan"
name = "建设与应用计划"
max = 40

[[rubric.criteria]]
key = "guarantee"
name = "保障条件"
max = 30
"""


def prepare_database(pg_url: str | None, data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["EDUPILOT_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "edupilot.settings"
    os.environ.setdefault("EDUPILOT_ALLOWED_HOSTS", "testserver,localhost")
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    os.environ.setdefault("EDUPILOT_TASKS_IMMEDIATE", "1")
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


def timed(label: str, fn):
    from django.db import connection, reset_queries

    reset_queries()
    t = time.perf_counter()
    out = fn()
    ms = (time.perf_counter() - t) * 1000
    print(f"{label:<58} {ms:9.0f} ms {len(connection.queries):6d} queries")
    return out


def page_latency(client, label: str, url: str, repeat: int) -> None:
    from django.db import connection, reset_queries

    client.get(url)  # warm caches
    samples = []
    queries = 0
    for _ in range(repeat):
        reset_queries()
        t = time.perf_counter()
        resp = client.get(url)
        samples.append((time.perf_counter() - t) * 1000)
        queries = len(connection.queries)
        assert resp.status_code == 200, (url, resp.status_code)
    print(
        f"{label:<58} p50 {statistics.median(samples):7.1f} ms  p99 "
        f"{percentile(samples, 0.99):7.1f} ms  {queries:4d} queries"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", help="PostgreSQL URL (the database is recreated)")
    ap.add_argument("--schools", type=int, default=20000)
    ap.add_argument("--applications", type=int, default=250)
    ap.add_argument("--experts", type=int, default=30)
    ap.add_argument("--approve", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "selection-bench"))
    args = ap.parse_args()
    prepare_database(args.pg, Path(args.data_dir))

    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = True  # record queries
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client
    from django.utils import timezone

    from edupilot.accounts.models import User
    from edupilot.applications.models import Application, ApplicationVersion, AppState
    from edupilot.audit.services import Actor
    from edupilot.orgs import demo
    from edupilot.orgs.models import Membership, Org, OrgKind, Role
    from edupilot.orgs.regions import seed_regions
    from edupilot.orgs.scoping import Scope
    from edupilot.programmes import loader
    from edupilot.programmes.chain import review_chain
    from edupilot.programmes.models import QuotaAllocation
    from edupilot.programmes.services import open_now_shift, programme_load
    from edupilot.review.models import ReviewAction, ReviewDecision
    from edupilot.selection import announcements, approval, board, experts, scoring
    from edupilot.selection.models import ExpertAssignment, ExpertScore

    call_command("migrate", verbosity=0)
    seed_regions(["henan"])
    counts = demo.city_counts(demo.load_counts(), "henan")
    per_scale_one = sum(sum(c.values()) for c in counts.values())
    demo.generate_schools(["henan"], scale=args.schools / per_scale_one, seed=1)
    # The file's own [rubric] is its last table; the bench sets its own.
    henan = (ROOT / "programmes" / "henan-tencent-smart-campus-2019.toml").read_text()
    text = henan.split("\n[rubric]")[0] + RUBRIC
    parsed = loader.parse_text(text, "henan.toml")
    programme = programme_load(
        parsed=parsed, actor=Actor.system(), time_shift_days=open_now_shift(parsed)
    ).programme
    category = programme.parsed.category("school")
    QuotaAllocation.objects.filter(programme=programme).update(effective=10_000)
    province = Org.objects.get(code="410000")
    admin_orgs = {
        o.code: o
        for o in Org.objects.filter(path__startswith="410000/").exclude(
            kind__in=[OrgKind.SCHOOL, OrgKind.UNIVERSITY, OrgKind.UNIT]
        )
    }
    rng = random.Random(11)
    schools = list(
        Org.objects.filter(kind=OrgKind.SCHOOL, stages__contains=",primary,").order_by("pk")
    )
    chosen = rng.sample(schools, min(args.applications, len(schools)))
    now = timezone.now()
    with transaction.atomic():
        apps = []
        for school in chosen:
            lineage = [school] + [
                admin_orgs[c] for c in reversed(school.ancestor_codes) if c in admin_orgs
            ]
            chain = [s.as_json() for s in review_chain(category, school, lineage)]
            apps.append(
                Application(
                    programme=programme,
                    category="school",
                    applicant_org=school,
                    applicant_path=school.path,
                    state=AppState.RECOMMENDED,
                    title=school.name,
                    data={"school_name": school.name, "principal": "王校长"},
                    version=1,
                    chain=chain,
                    current_step=len(chain) - 1,
                    current_org_id=chain[-1]["org"],
                    submitted_at=now,
                    review_started_at=now,
                )
            )
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
        for a in apps:
            city = a.chain[0]
            ranks[city["org"]] = ranks.get(city["org"], 0) + 1
            decisions.append(
                ReviewDecision(
                    application=a,
                    programme=programme,
                    category="school",
                    version=1,
                    step=0,
                    level="city",
                    tier="city",
                    org_id=city["org"],
                    action=ReviewAction.RECOMMEND,
                    rank=ranks[city["org"]],
                    opinion="同意推荐。",
                    quota_level="city",
                    quota_holder_id=city["org"],
                    decided_at=now,
                )
            )
        ReviewDecision.objects.bulk_create(decisions, batch_size=1000)
    print(f"applications awaiting the province: {len(apps):,}")

    admin = User.objects.create_user("bench-centre", password="x-Bench-123")
    admin_m = Membership.objects.create(user=admin, org=province, role=Role.PROGRAMME_ADMIN)
    scope = Scope.for_membership(admin_m)
    actor = Actor(user=admin, org=province)
    cities = [o for o in admin_orgs.values() if o.kind == OrgKind.CITY]
    pool_members = []
    for i in range(args.experts):
        home = rng.choice(cities) if i % 10 == 0 else None
        org = home or Org.objects.create(
            code=f"BU{i:04d}", name=f"评审单位{i}", kind=OrgKind.UNIVERSITY, parent=province
        )
        u = User.objects.create_user(f"bench-expert-{i}", password="x-Bench-123")
        pool_members.append(Membership.objects.create(user=u, org=org, role=Role.EXPERT))

    def add_pool():
        for m in pool_members:
            experts.expert_pool_add(programme=programme, membership=m, scope=scope, actor=actor)

    timed(f"pool: add {args.experts} experts", add_pool)
    result = timed(
        f"auto-assign 3 experts × {len(apps)} applications",
        lambda: experts.experts_auto_assign(programme=programme, scope=scope, actor=actor),
    )
    loads: dict[int, int] = {}
    for a in result.created:
        loads[a.expert_id] = loads.get(a.expert_id, 0) + 1
    print(
        f"  created {len(result.created):,}, short {len(result.short)}, "
        f"load per expert {min(loads.values())}–{max(loads.values())}"
    )
    assignments = list(ExpertAssignment.objects.filter(is_active=True).order_by("pk"))
    sample = assignments[:20]
    rest = assignments[20:]

    def score_sample():
        for a in sample:
            m = Membership.objects.get(user_id=a.expert_id, role=Role.EXPERT)
            scoring.expert_scores_save(
                assignment=a,
                scores={"basis": "24", "plan": "30", "guarantee": "22.5"},
                comment="方案可行。",
                submit=True,
                scope=Scope.for_membership(m),
                actor=Actor(user=m.user, org=m.org),
            )

    timed("score: 20 submissions through the service", score_sample)
    rows = []
    for a in rest:
        values = {
            "basis": rng.randint(10, 30),
            "plan": rng.randint(15, 40),
            "guarantee": rng.randint(10, 30),
        }
        rows += [ExpertScore(assignment=a, criterion=k, score=v) for k, v in values.items()]
        a.total = sum(values.values())
        a.submitted_at = now
        a.comment = "意见"
    ExpertScore.objects.bulk_create(rows, batch_size=2000)
    ExpertAssignment.objects.bulk_update(
        rest, ["total", "submitted_at", "comment"], batch_size=1000
    )

    client = Client()
    client.force_login(admin)
    page_latency(
        client,
        f"board: {len(apps)} ranked applications",
        f"/review/selection/{programme.pk}/",
        args.repeat,
    )
    page_latency(
        client,
        "selection page of one application",
        f"/review/selection/applications/{apps[0].pk}/",
        args.repeat,
    )
    expert_client = Client()
    expert_client.force_login(pool_members[1].user)
    page_latency(expert_client, "expert: task list", "/review/expert/", args.repeat)
    task = ExpertAssignment.objects.filter(expert_id=pool_members[1].user_id).first()
    page_latency(expert_client, "expert: one task page", f"/review/expert/{task.pk}/", args.repeat)

    school_board = board.selection_board(programme, "school")[0]
    picked = [row.application for row in school_board.rows[: args.approve]]
    timed(
        f"approve {len(picked)} (one bulk decision)",
        lambda: approval.selection_decide(
            applications=picked, outcome="approve", opinion="同意", scope=scope, actor=actor
        ),
    )
    ann = timed(
        f"publish the announcement ({len(picked)} entries, notifications)",
        lambda: announcements.announcement_publish(programme=programme, scope=scope, actor=actor),
    )
    public = Client()
    page_latency(
        public,
        f"public page: {len(picked)} entries",
        f"/public/announcements/{ann.pk}/",
        args.repeat,
    )
    timed(
        "close: final list, PILOT",
        lambda: announcements.announcement_close(
            announcement=ann,
            scope=scope,
            actor=actor,
            now=ann.objection_until + dt.timedelta(minutes=1),
        ),
    )


if __name__ == "__main__":
    main()
