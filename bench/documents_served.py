"""Published lists and forms served as stored files, against rendering them per click.

    python bench/documents_served.py                      # SQLite in $TMPDIR/documents-served
    python bench/documents_served.py --pg postgres://postgres@127.0.0.1:5432/documents_served
    python bench/documents_served.py --entries 300 --requests 200

Builds a fresh database: Henan's divisions and ``--schools`` generated schools, the Henan
programme, ``--entries`` approved bids and one published announcement listing them. Then:

- the list rendered per request, as before (WeasyPrint, first and median of three);
- the background render the publication starts (render and store once);
- the anonymous download of the stored list through the real view (Django's test client,
  ``--requests`` times): p50 / p99 and queries, beside the bare floor of reading the same
  blob from storage;
- one bid's application form, by the province's programme admin: the first click (renders
  and stores) and the following clicks (served from storage).

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


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def ms(values: list[float]) -> str:
    return f"p50 {pct(values, 0.5) * 1000:.1f} ms, p99 {pct(values, 0.99) * 1000:.1f} ms"


def build(entries: int, schools: int):
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from edupilot.accounts.models import User
    from edupilot.applications.models import Application, ApplicationVersion, AppState
    from edupilot.audit.services import Actor
    from edupilot.orgs import demo
    from edupilot.orgs.models import Membership, Org, OrgKind, Role
    from edupilot.orgs.regions import seed_regions
    from edupilot.programmes import loader
    from edupilot.programmes.services import open_now_shift, programme_load
    from edupilot.selection.models import Announcement, AnnouncementEntry, EntryOutcome

    call_command("migrate", verbosity=0)
    seed_regions(["henan"])
    counts = demo.city_counts(demo.load_counts(), "henan")
    demo.generate_schools(
        ["henan"], scale=schools / sum(sum(c.values()) for c in counts.values()), seed=1
    )
    parsed = loader.parse_file(ROOT / "programmes" / "henan-tencent-smart-campus-2019.toml")
    programme = programme_load(
        parsed=parsed, actor=Actor.system(), time_shift_days=open_now_shift(parsed)
    ).programme
    chosen = list(
        Org.objects.filter(kind=OrgKind.SCHOOL, stages__contains=",primary,")
        .select_related("parent")
        .order_by("pk")[:entries]
    )
    now = timezone.now()
    with transaction.atomic():
        apps = Application.objects.bulk_create(
            [
                Application(
                    programme=programme,
                    category="school",
                    applicant_org_id=s.pk,
                    applicant_path=s.path,
                    state=AppState.APPROVED,
                    title=s.name,
                    data={"school_name": s.name, "principal": "王校长"},
                    version=1,
                    submitted_at=now,
                )
                for s in chosen
            ]
        )
        ApplicationVersion.objects.bulk_create(
            [
                ApplicationVersion(
                    application=a, number=1, title=a.title, data=a.data, submitted_at=now
                )
                for a in apps
            ]
        )
        ann = Announcement.objects.create(
            programme=programme,
            title="河南省第二期中小学校“腾讯智慧校园”试点拟立项名单",
            published_at=now,
            objection_until=now + timezone.timedelta(days=7),
        )
        AnnouncementEntry.objects.bulk_create(
            [
                AnnouncementEntry(
                    announcement=ann,
                    application=a,
                    position=i,
                    unit_name=s.name,
                    category_name="试点学校",
                    region_name=s.parent.name if s.parent else "",
                    outcome=EntryOutcome.LISTED,
                )
                for i, (a, s) in enumerate(zip(apps, chosen, strict=True), 1)
            ]
        )
    admin = User.objects.create_user(username="bench-province", password=None, full_name="省管理员")
    Membership.objects.create(
        user=admin, org=Org.objects.get(code="410000"), role=Role.PROGRAMME_ADMIN
    )
    return ann, apps[0], admin


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg")
    parser.add_argument("--entries", type=int, default=300)
    parser.add_argument("--schools", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    data_dir = Path(tempfile.gettempdir()) / "documents-served"
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["EDUPILOT_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "edupilot.settings"
    os.environ.setdefault("EDUPILOT_ALLOWED_HOSTS", "testserver,localhost")
    if args.pg:
        import psycopg

        os.environ["DATABASE_URL"] = args.pg
        base, name = args.pg.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        os.environ.pop("DATABASE_URL", None)
        for suffix in ("", "-wal", "-shm"):
            (data_dir / f"edupilot.sqlite3{suffix}").unlink(missing_ok=True)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from edupilot.applications.files import blob_read
    from edupilot.documents import pdf
    from edupilot.documents.announcements import announcement_document
    from edupilot.documents.jobs import render_published_task
    from edupilot.documents.models import StoredDocument

    t = time.perf_counter()
    ann, app, admin = build(args.entries, args.schools)
    print(f"built in {time.perf_counter() - t:.1f} s; {args.entries} listed units")

    renders = []
    for _ in range(3):
        t = time.perf_counter()
        size = len(announcement_document(ann.pk).render())
        renders.append(time.perf_counter() - t)
    print(
        f"render per request (before): first {renders[0]:.2f} s, "
        f"median {statistics.median(renders[1:]):.2f} s ({size / 1024:.0f} KiB)"
    )

    t = time.perf_counter()
    render_published_task.call_local("announcement", str(ann.pk))
    print(f"background render at publication (render + store): {time.perf_counter() - t:.2f} s")
    blob = StoredDocument.objects.get(kind="announcement", object_id=str(ann.pk)).blob

    floor = []
    for _ in range(args.requests):
        t = time.perf_counter()
        blob_read(blob)
        floor.append(time.perf_counter() - t)

    client = Client()
    url = reverse("documents:announcement", args=[ann.pk])
    served, before = [], pdf.render_count
    for i in range(args.requests + 10):
        with CaptureQueriesContext(connection) as q:
            t = time.perf_counter()
            response = client.get(url)
            assert response.content
            took = time.perf_counter() - t
        assert response.status_code == 200, response.status_code
        if i >= 10:
            served.append(took)
    print(f"floor, read the stored blob: {ms(floor)}")
    print(
        f"anonymous download of the stored list x {args.requests}: {ms(served)}, "
        f"{len(q.captured_queries)} queries, renders {pdf.render_count - before}"
    )

    client.force_login(admin)
    url = reverse("documents:application_form", args=[app.pk])
    t = time.perf_counter()
    response = client.get(url)
    assert response.content
    first = time.perf_counter() - t
    clicks = []
    for _ in range(50):
        t = time.perf_counter()
        response = client.get(url)
        assert response.content
        clicks.append(time.perf_counter() - t)
    print(f"application form: first click {first:.2f} s (renders, stores); next 50: {ms(clicks)}")


if __name__ == "__main__":
    main()
