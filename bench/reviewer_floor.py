"""Reviewer and applicant pages against their floor, through a real server, side by side.

    python bench/reviewer_floor.py                                   # 3,000 schools / 750 bids
    python bench/reviewer_floor.py --schools 20000 --applications 5000
    python bench/reviewer_floor.py --reuse                           # same database, no rebuild

PostgreSQL only (``--pg``, default ``postgres://postgres@127.0.0.1:5432/reviewer_floor``;
the database is dropped and built again unless ``--reuse``). The data is
``bench/review_queue.py``'s: Henan, demo schools, the Henan programme, bids placed across
the review chain (its ``prepare_database`` and ``build`` are imported, not copied).

One gunicorn server (``edupilot serve``'s ``run_gunicorn``: 2 workers x 4 threads, gthread,
on loopback) serves the real URLs and, beside them under ``/floor/``, bare Django views
running the same essential queries — the page of rows, the counts, the quota numbers, the
filter list the page needs — and writing their HTML (or JSON) with one string join. Both go
through the same middleware (session, user, membership), so the ratio is what the page's
own code costs above its queries.

Measured, real and floor alternated request by request: p50 / p99 wall time of
``--repeat`` sequential requests from this process (http.client, keep-alive); the queries
per request (counted in-process through Django's test Client, the same code); the median
CPU time of one request in this process over ``--cpu-repeat`` (test Client, alternated: far
steadier than wall time on a shared machine); then ``--clients`` concurrent clients (threads
here, each its own connection, cycling through the reviewer's four URLs: queue, county
filter, application page, API queue) for ``--seconds`` each, real, floor, real, floor, and
the requests per second of each (the best round of each is compared).

``BENCH_PROFILE=PREFIX`` (with ``--reuse``): no server; each real page's ``--cpu-repeat``
requests under cProfile (CPU time) in this process, written to ``PREFIX.<n>.prof``.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from review_queue import percentile, prepare_database  # noqa: E402

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/reviewer_floor"
URLCONF = "reviewer_floor_urls"


# --- the floor views -----------------------------------------------------------------------------


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8"><title>{_esc(title)}'
        f"</title></head><body><main>{body}</main></body></html>"
    )


def _floor_queue_rows(request):
    """The queue's essential reads: the level's count, its 50 rows with their orgs, the lower
    level's recommendation of each, and (for the county filter) the area's path."""
    from edupilot.applications.models import Application, AppState
    from edupilot.orgs.models import Org, subtree_q
    from edupilot.review.models import ReviewAction, ReviewDecision

    scope = request.scope
    qs = Application.objects.filter(
        current_org_id=scope.org_id,
        state__in=[AppState.SUBMITTED, AppState.RECOMMENDED],
        programme__is_active=True,
    )
    area = request.GET.get("area")
    if area:
        path = Org.objects.filter(pk=int(area)).values_list("path", flat=True).first()
        qs = qs.filter(subtree_q(path, "applicant_path"))
    count = qs.count()
    rows = list(
        qs.order_by("submitted_at", "pk").values(
            "pk", "title", "state", "version", "current_step", "submitted_at",
            "applicant_org__name", "applicant_org__parent__name",
        )[:50]
    )  # fmt: skip
    lower = {}
    for d in ReviewDecision.objects.filter(
        application_id__in=[r["pk"] for r in rows], active=True, action=ReviewAction.RECOMMEND
    ).values("application_id", "rank", "org__name"):
        lower[d["application_id"]] = f"{d['org__name']} 第 {d['rank']} 名"
    return count, rows, lower


def _floor_quota(scope):
    from django.db.models import Count

    from edupilot.programmes.models import QuotaAllocation
    from edupilot.review.models import ReviewAction, ReviewDecision

    used = {
        (r["category"], r["quota_level"]): r["n"]
        for r in ReviewDecision.objects.filter(
            quota_holder_id=scope.org_id, active=True, action=ReviewAction.RECOMMEND
        )
        .values("category", "quota_level")
        .annotate(n=Count("pk"))
        .order_by()
    }
    return [
        (c, lvl, n, used.get((c, lvl), 0))
        for c, lvl, n in QuotaAllocation.objects.filter(
            holder_id=scope.org_id, programme__is_active=True
        ).values_list("category", "level", "effective")
    ]


def floor_queue(request):
    from django.http import HttpResponse

    from edupilot.orgs.models import Org, OrgKind, subtree_q

    scope = request.scope
    count, rows, lower = _floor_queue_rows(request)
    quota = _floor_quota(scope)
    areas = Org.objects.filter(
        subtree_q(scope.org_path), kind__in=[OrgKind.CITY, OrgKind.COUNTY, OrgKind.ZONE]
    ).values_list("pk", "name")
    body = [
        "<h1>审核推荐</h1><table>",
        *(f"<tr><td>{c}</td><td>{lvl}</td><td>{n}</td><td>{u}</td></tr>" for c, lvl, n, u in quota),
        '</table><form><select name="area">',
        *(f'<option value="{pk}">{_esc(name)}</option>' for pk, name in areas),
        f"</select></form><p>共 {count} 个申报</p><table>",
        *(
            f'<tr><td><input type="checkbox" name="sel" value="{r["pk"]}"></td>'
            f'<td><a href="/review/{r["pk"]}/">{_esc(r["applicant_org__name"])}</a></td>'
            f"<td>{_esc(r['applicant_org__parent__name'] or '—')}</td><td>{r['state']}</td>"
            f"<td>{_esc(lower.get(r['pk'], '—'))}</td>"
            f"<td>{r['submitted_at']:%Y-%m-%d %H:%M}</td></tr>"
            for r in rows
        ),
        "</table>",
    ]
    return HttpResponse(_page("审核推荐", "".join(body)))


def floor_api_queue(request):
    from django.http import JsonResponse

    count, rows, lower = _floor_queue_rows(request)
    items = [
        {
            "id": r["pk"],
            "applicant": r["applicant_org__name"],
            "parent": r["applicant_org__parent__name"] or "—",
            "state": r["state"],
            "lower": lower.get(r["pk"], "—"),
            "submitted": f"{r['submitted_at']:%Y-%m-%d %H:%M}",
        }
        for r in rows
    ]
    return JsonResponse({"page": 1, "pages": -(-count // 50), "count": count, "items": items})


def floor_detail(request, pk):
    """The application page's essential reads: the application with its programme's title and
    its applicant, the attachments, the versions, the decisions, the level's quota."""
    from django.http import Http404, HttpResponse

    from edupilot.applications.models import ApplicationVersion, AppState, Attachment
    from edupilot.applications.selectors import applications_for
    from edupilot.review.models import ReviewDecision

    scope = request.scope
    app = (
        applications_for(scope)
        .filter(pk=pk)
        .values(
            "pk", "title", "state", "version", "data", "chain", "current_step",
            "programme__title", "applicant_org__name",
        )
        .first()
    )  # fmt: skip
    if app is None:
        raise Http404
    files = Attachment.objects.filter(application_id=pk, is_current=True).values_list(
        "filename", "blob__size"
    )
    versions = ApplicationVersion.objects.filter(application_id=pk).values_list(
        "number", "submitted_at"
    )
    decisions = ReviewDecision.objects.filter(application_id=pk).values_list(
        "step", "action", "rank", "opinion", "reasons", "org__name"
    )
    quota = _floor_quota(scope) if app["state"] == AppState.SUBMITTED else []
    body = [
        f"<h1>{_esc(app['applicant_org__name'])}</h1><p>{_esc(app['programme__title'])}</p><dl>",
        *(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in (app["data"] or {}).items()),
        "</dl><ul>",
        *(f"<li>{_esc(name)} ({size})</li>" for name, size in files),
        "</ul><ol>",
        *(f"<li>第 {n} 版 {at}</li>" for n, at in versions),
        "</ol><ol>",
        *(f"<li>{_esc(s['org_name'])} {s['level']}</li>" for s in app["chain"] or []),
        "</ol><ul>",
        *(
            f"<li>{step} {action} {rank} {_esc(o)}{_esc(r)} {_esc(org)}</li>"
            for step, action, rank, o, r, org in decisions
        ),
        "</ul><table>",
        *(f"<tr><td>{c}</td><td>{lvl}</td><td>{n}</td><td>{u}</td></tr>" for c, lvl, n, u in quota),
        '</table><form method="post"><textarea name="opinion"></textarea></form>',
    ]
    return HttpResponse(_page(app["applicant_org__name"], "".join(body)))


def floor_home(request):
    """The applicant's desk: its applications, the open programmes covering it and, per
    category, its earlier bids (the rule's facts: its lists, its own applications)."""
    from django.http import HttpResponse
    from django.utils import timezone

    from edupilot.applications.models import Application
    from edupilot.programmes.models import ParticipantEntry
    from edupilot.programmes.selectors import open_programmes_covering

    scope = request.scope
    org = scope.org
    apps = list(
        Application.objects.filter(applicant_org_id=org.pk)
        .order_by("-updated_at")
        .values_list("pk", "programme__title", "category", "state", "updated_at")
    )
    programmes = open_programmes_covering(org, timezone.now())
    lists = list(ParticipantEntry.objects.filter(org_id=org.pk).values_list("plist__code"))
    body = [
        f"<h1>{_esc(org.name)}</h1><table>",
        *(
            f"<tr><td>{_esc(t)}</td><td>{c}</td><td>{s}</td><td>{u:%Y-%m-%d %H:%M}</td>"
            f'<td><a href="/applications/{pk}/">查看</a></td></tr>'
            for pk, t, c, s, u in apps
        ),
        "</table>",
        *(
            f"<section><h3>{_esc(p.title)}</h3>"
            + "".join(f"<div>{_esc(c.name)}</div>" for c in p.parsed.categories)
            + "</section>"
            for p in programmes
        ),
        f"<p>{len(lists)}</p>",
    ]
    return HttpResponse(_page(org.name, "".join(body)))


def install_urlconf() -> None:
    """The real URLs and, under /floor/, the floor views (one URLconf for both)."""
    from django.conf import settings
    from django.urls import clear_url_caches, include, path

    module = types.ModuleType(URLCONF)
    module.urlpatterns = [
        path("floor/review/", floor_queue),
        path("floor/review/<int:pk>/", floor_detail),
        path("floor/api/review/queue", floor_api_queue),
        path("floor/applications/", floor_home),
        path("floor/nothing/", floor_nothing),
        path("", include("edupilot.urls")),
    ]
    sys.modules[URLCONF] = module
    settings.ROOT_URLCONF = URLCONF
    clear_url_caches()


# --- the server ----------------------------------------------------------------------------------


def serve(port: int, workers: int, threads: int) -> None:
    import django

    django.setup()
    install_urlconf()
    from edupilot.core.management.commands.serve import run_gunicorn

    run_gunicorn("127.0.0.1", port, workers, threads)


def start_server(args) -> subprocess.Popen:
    cmd = [
        sys.executable, __file__, "--serve", "--port", str(args.port),
        "--workers", str(args.workers), "--threads", str(args.threads),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=os.environ.copy(), stderr=subprocess.DEVNULL)  # noqa: S603
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the server did not start")


# --- the cases -----------------------------------------------------------------------------------


def cases(args) -> tuple[list[tuple[str, str, str, str]], dict[str, str]]:
    """(label, user, real URL, floor URL) for each page, and each user's session cookie."""
    from django.test import Client

    from edupilot.accounts.models import User
    from edupilot.applications.models import Application, AppState
    from edupilot.orgs.models import Org, OrgKind, Role

    city_user = User.objects.get(username="bench-city")
    busiest = city_user.memberships.get().org
    county = Org.objects.filter(parent=busiest, kind=OrgKind.COUNTY).order_by("code").first()
    app = (
        Application.objects.filter(current_org=busiest, state=AppState.SUBMITTED)
        .order_by("pk")
        .first()
    )
    applicant = User.objects.filter(username="bench-applicant").first()
    if applicant is None:
        applicant = User.objects.create_user(
            username="bench-applicant", password=None, full_name="bench-applicant"
        )
        applicant.memberships.create(org=app.applicant_org, role=Role.APPLICANT)
    cookies = {}
    for name, user in (("city", city_user), ("applicant", applicant)):
        c = Client()
        c.force_login(user)
        cookies[name] = f"sessionid={c.cookies['sessionid'].value}"
    area = f"?area={county.pk}"
    return [
        (f"queue, {busiest.name}, pending, page 1", "city", "/review/", "/floor/review/"),
        (f"queue, county filter ({county.name})", "city", f"/review/{area}",
         f"/floor/review/{area}"),
        ("application page (city, acting level)", "city", f"/review/{app.pk}/",
         f"/floor/review/{app.pk}/"),
        ("API queue (JSON)", "city", "/api/v1/review/queue", "/floor/api/review/queue"),
        ("applicant home", "applicant", "/applications/", "/floor/applications/"),
    ], cookies  # fmt: skip


def count_queries(url: str, user_cookie: str) -> int:
    from django.db import connection
    from django.test import Client

    c = Client()
    c.cookies.load(user_cookie)
    assert c.get(url).status_code == 200, url
    n = [0]

    def count(execute, sql, params, many, context):
        n[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        r = c.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return n[0]


def cpu_times(real: str, floor: str, user_cookie: str, repeat: int) -> tuple[float, float]:
    """Median CPU time of one request in this process (test Client, same code, alternated):
    what the page's code costs, which a shared machine disturbs far less than wall time."""
    from django.test import Client

    c = Client()
    c.cookies.load(user_cookie)
    samples: dict[str, list[float]] = {real: [], floor: []}
    for _ in range(3):
        c.get(real), c.get(floor)
    for _ in range(repeat):
        for url in (real, floor):
            t = time.process_time()
            c.get(url)
            samples[url].append((time.process_time() - t) * 1000)
    return statistics.median(samples[real]), statistics.median(samples[floor])


def get(conn: http.client.HTTPConnection, url: str, cookie: str) -> float:
    t = time.perf_counter()
    try:
        conn.request("GET", url, headers={"Cookie": cookie})
        r = conn.getresponse()
    except (http.client.RemoteDisconnected, ConnectionError):
        # gunicorn closes a keep-alive connection idle for 2 s: open it again.
        conn.close()
        t = time.perf_counter()
        conn.request("GET", url, headers={"Cookie": cookie})
        r = conn.getresponse()
    r.read()
    if r.status != 200:
        raise SystemExit(f"{url}: HTTP {r.status}")
    return (time.perf_counter() - t) * 1000


def profile_pages(table, cookies, repeat: int, prefix: str) -> None:
    """BENCH_PROFILE=PREFIX: each real page's ``repeat`` requests in this process under
    cProfile (test Client, warm), statistics written to PREFIX.<n>.prof; no server."""
    import cProfile
    import pstats

    from django.test import Client

    for n, (label, who, real, _floor) in enumerate(table, start=1):
        c = Client()
        c.cookies.load(cookies[who])
        for _ in range(3):
            c.get(real)
        profiler = cProfile.Profile(time.process_time)  # CPU: the database's waits left out
        profiler.enable()
        for _ in range(repeat):
            c.get(real)
        profiler.disable()
        profiler.dump_stats(f"{prefix}.{n}.prof")
        print(f"== {label}: {prefix}.{n}.prof")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def floor_nothing(request):
    """The middleware alone: what every page, real or floor, pays before its own code."""
    from django.http import HttpResponse

    return HttpResponse(f"ok {request.user.pk}")


def split_pages(table, cookies, repeat: int) -> None:
    """BENCH_SPLIT=1: where each page's CPU goes, real beside floor (in process, test Client,
    warm): SQL compilation, the database driver, template rendering, and the rest (the view's
    Python, the ORM's rows, the middleware); ``/floor/nothing/`` is the middleware alone."""
    from collections import defaultdict

    import django.template.backends.django as backend
    from django.db.backends import utils as db_utils
    from django.db.models.sql import compiler
    from django.test import Client

    spent: dict[str, float] = defaultdict(float)

    def timed(key, fn):
        def wrapper(*a, **k):
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[key] += time.process_time() - t

        return wrapper

    backend.Template.render = timed("template", backend.Template.render)
    db_utils.CursorWrapper._execute = timed("driver", db_utils.CursorWrapper._execute)
    compiler.SQLCompiler.as_sql = timed("compile", compiler.SQLCompiler.as_sql)
    print(f"{'page (CPU ms per request)':52} {'total':>7} {'compile':>8} {'driver':>7}"
          f" {'template':>9} {'rest':>6}")  # fmt: skip
    rows = [("middleware only", "city", "/floor/nothing/", None)] + list(table)
    for label, who, real, floor in rows:
        for url in filter(None, (real, floor)):
            c = Client()
            c.cookies.load(cookies[who])
            for _ in range(5):
                c.get(url)
            spent.clear()
            t = time.process_time()
            for _ in range(repeat):
                c.get(url)
            total = (time.process_time() - t) * 1000 / repeat
            part = {k: v * 1000 / repeat for k, v in spent.items()}
            rest = total - sum(part.values())
            name = f"{label[:40]} ({'floor' if url == floor else 'real'})"
            print(
                f"{name:52} {total:7.2f} {part.get('compile', 0):8.2f}"
                f" {part.get('driver', 0):7.2f} {part.get('template', 0):9.2f} {rest:6.2f}"
            )


def measure_latency(args, table, cookies) -> list[tuple]:
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
    out = []
    for label, who, real, floor in table:
        for _ in range(5):
            get(conn, real, cookies[who])
            get(conn, floor, cookies[who])
        r, f = [], []
        for _ in range(args.repeat):  # alternated: the machine's noise falls on both
            r.append(get(conn, real, cookies[who]))
            f.append(get(conn, floor, cookies[who]))
        qr, qf = count_queries(real, cookies[who]), count_queries(floor, cookies[who])
        cpu = cpu_times(real, floor, cookies[who], args.cpu_repeat)
        out.append((label, r, f, qr, qf, cpu))
    return out


def measure_throughput(args, table, cookies, url_of) -> float:
    """Requests per second of ``--clients`` threads cycling through the reviewer's pages."""
    urls = [url_of(row) for row in table if row[1] == "city"]
    done = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + args.seconds
    barrier = threading.Barrier(args.clients)

    def work(i):
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)
        n, k = 0, i
        barrier.wait()
        while time.perf_counter() < stop:
            get(conn, urls[k % len(urls)], cookies["city"])
            n += 1
            k += 1
        with lock:
            done[0] += n

    threads = [threading.Thread(target=work, args=(i,)) for i in range(args.clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return done[0] / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", metavar="URL", default=DEFAULT_PG)
    parser.add_argument("--schools", type=int, default=3_000)
    parser.add_argument("--applications", type=int, default=750)
    parser.add_argument("--reuse", action="store_true", help="measure the database as it is")
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--cpu-repeat", type=int, default=30)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "reviewer-floor"))
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("EDUPILOT_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ["EDUPILOT_DEBUG"] = "0"
    if args.serve:
        serve(args.port, args.workers, args.threads)
        return
    if args.reuse:
        os.environ["EDUPILOT_DATA_DIR"] = args.data_dir
        os.environ["DJANGO_SETTINGS_MODULE"] = "edupilot.settings"
        os.environ["DATABASE_URL"] = args.pg
    else:
        prepare_database(args.pg, Path(args.data_dir))

    import django

    django.setup()
    if args.reuse:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)  # a database built by an older version
    else:
        from review_queue import build

        build(args)
    install_urlconf()
    from django.db import connection

    print(f"engine: {connection.vendor}; python {sys.version.split()[0]}, {os.cpu_count()} cpu")
    table, cookies = cases(args)
    if os.environ.get("BENCH_SPLIT"):
        split_pages(table, cookies, args.repeat)
        return
    if os.environ.get("BENCH_PROFILE"):
        profile_pages(table, cookies, args.cpu_repeat, os.environ["BENCH_PROFILE"])
        return
    connection.close()
    server = start_server(args)
    try:
        results = measure_latency(args, table, cookies)
        rounds = {"real": [], "floor": []}
        for _ in range(2):
            rounds["real"].append(measure_throughput(args, table, cookies, lambda r: r[2]))
            rounds["floor"].append(measure_throughput(args, table, cookies, lambda r: r[3]))
    finally:
        server.terminate()
        server.wait(timeout=30)
    head = f"{'page':44} {'real p50/p99 ms':>16} {'floor p50/p99 ms':>17} {'p50 ×':>6}"
    print(f"{head} {'p99 ×':>6} {'cpu ms real/floor':>18} {'cpu ×':>6} {'queries':>8}")
    for label, r, f, qr, qf, (cr, cf) in results:
        rp50, fp50 = statistics.median(r), statistics.median(f)
        rp99, fp99 = percentile(r, 0.99), percentile(f, 0.99)
        print(
            f"{label:44} {rp50:7.1f} / {rp99:6.1f} {fp50:8.1f} / {fp99:6.1f}"
            f" {rp50 / fp50:6.2f} {rp99 / fp99:6.2f} {cr:9.1f} / {cf:6.1f} {cr / cf:6.2f}"
            f" {qr:>4} / {qf:<3}"
        )
    real, floor = max(rounds["real"]), max(rounds["floor"])
    print(
        f"throughput, {args.clients} clients x {args.seconds:.0f} s (queue, county, application,"
        f" API): real {json.dumps([round(x, 1) for x in rounds['real']])} req/s, floor"
        f" {json.dumps([round(x, 1) for x in rounds['floor']])} req/s; best {real:.1f} /"
        f" {floor:.1f} = {real / floor:.2f}×"
    )


if __name__ == "__main__":
    main()
