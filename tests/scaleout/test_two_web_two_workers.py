"""The documented layout at scale, run for real: two web processes and two workers.

PostgreSQL holds the data, Redis the task queue and the cache, one directory the files: the
layout of docs/deployment.md ("Running at scale") and of deploy/. The test starts two
gunicorn processes and two ``run_huey`` workers as separate operating-system processes with
the production settings (not the test settings), on the test database, then walks what
crosses processes:

- an export started on web A is run by a worker and downloaded from web B;
- a return of an application on web A notifies the school: the in-app notice is read on web
  B and the e-mail is sent by a worker to an SMTP server on loopback.

It runs on PostgreSQL only (SQLite is the single-host embedded default) and needs Redis on
127.0.0.1:6379 (``scripts/test.sh`` starts it when it is installed but stopped).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from django.db import connection
from openpyxl import load_workbook

from edupilot.core.models import Job, JobState
from edupilot.orgs.models import Role
from tests.conftest import make_user, org
from tests.core.test_notifications import Inbox, free_port, subject_of, text_of
from tests.documents.test_notice_support import load, recommend, reviewer
from tests.review.conftest import school_in, submit_as

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 14  # a database of its own: the test flushes it
PASSWORD = "pass-Word-123"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="the scale-out layout runs on PostgreSQL",
    ),
]


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _wait_for(predicate, what: str, limit: float = 90.0):
    """A bound against hangs, not a timing test."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"gave up waiting for {what}")


class Layout:
    """Two gunicorn web processes and two Huey workers sharing PostgreSQL, Redis and files."""

    def __init__(self, tmp: Path, smtp_port: int):
        db = connection.settings_dict
        self.data_dir = tmp / "shared"
        self.data_dir.mkdir()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("EDUPILOT_", "DJANGO_"))},
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "edupilot.settings",
            "DJANGO_SECRET_KEY": "scale-out-test-key-" + "x" * 40,
            "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}",
            "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "EDUPILOT_DATA_DIR": str(self.data_dir),
            "EDUPILOT_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EDUPILOT_SITE_URL": "http://127.0.0.1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.env.pop("EMAIL_BACKEND", None)
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.web: list[str] = []

    def _start(self, name: str, args: list[str]) -> None:
        log = open(self.data_dir.parent / f"{name}.log", "wb")  # noqa: SIM115 (closed by the OS)
        proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append((name, proc))

    def start(self) -> None:
        for name in ("web-a", "web-b"):
            port = free_port()
            self._start(
                name,
                [
                    sys.executable, "-m", "gunicorn", "edupilot.wsgi:application",
                    "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2",
                    "--timeout", "60",
                ],
            )  # fmt: skip
            self.web.append(f"http://127.0.0.1:{port}")
        # As deploy/systemd/edupilot-worker@.service: one schedules the periodic tasks.
        for name, extra in (("worker-1", []), ("worker-2", ["--no-periodic"])):
            self._start(
                name,
                [sys.executable, "manage.py", "run_huey", "--workers", "1",
                 "--worker-type", "thread", *extra],
            )  # fmt: skip
        for base in self.web:
            _wait_for(lambda b=base: self._healthy(b), f"{base} to answer")

    def _healthy(self, base: str) -> bool:
        self.check_alive()
        try:
            return requests.get(f"{base}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}:\n{self.log(name)}")

    def log(self, name: str) -> str:
        path = self.data_dir.parent / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        for _, proc in self.procs:
            proc.terminate()
        for _, proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def production_password(user) -> None:
    """The production settings know Argon2 and PBKDF2, not the tests' fast MD5 hasher."""
    from django.contrib.auth.hashers import make_password

    user.password = make_password(PASSWORD, hasher="argon2")
    user.save(update_fields=["password"])


def login(base: str, username: str) -> requests.Session:
    s = requests.Session()
    page = s.get(f"{base}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    r = s.post(
        f"{base}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=10,
    )
    assert r.status_code == 200 and "sessionid" in s.cookies, r.text[:500]
    return s


def post(s: requests.Session, base: str, path: str, data: dict) -> requests.Response:
    page = s.get(f"{base}/", timeout=10)
    assert page.status_code == 200
    data = {"csrfmiddlewaretoken": s.cookies["csrftoken"], **data}
    return s.post(f"{base}{path}", data=data, headers={"Referer": f"{base}/"}, timeout=30)


@pytest.fixture
def redis_queue():
    if not _redis_up():
        # Not a skip: on PostgreSQL this layout is what production runs (scripts/test.sh starts
        # Redis when it is installed but stopped).
        pytest.fail("Redis is not answering on 127.0.0.1:6379: start it (redis-server)")
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def layout(tmp_path, redis_queue, smtp_server, transactional_seeded):
    inbox, port = smtp_server
    layout = Layout(tmp_path, port)
    layout.inbox = inbox
    try:
        yield layout
    finally:
        layout.stop()


def zhejiang_bid(zhejiang, name: str, leader: str, email: str, house: str):
    """A school of 西湖区 with an e-mail address, and its submitted Zhejiang k12 bid."""
    who = school_in(org("西湖区"), name=name)
    who.user.email = email
    who.user.save()
    app = submit_as(
        who, zhejiang, "k12",
        unit_type="school", unit_name=name, leader_name=f"{leader}校长", leader_post="校长",
        contact_name=f"{leader}老师", address=f"西湖区学院路{house}号",
    )  # fmt: skip
    return who, app


def test_export_and_notification_cross_processes(layout):
    zhejiang = load("zhejiang-smart-education-2019.toml")
    _, app = zhejiang_bid(zhejiang, "杭州市西湖区跨进程小学", "甲", "school@example.cn", "1")
    recommend(app, reviewer("西湖区"))
    recommend(app, reviewer("杭州市"))  # the city's summary lists what the city recommends
    city = make_user(org("杭州市"), Role.REVIEWER, username="city_reviewer")
    other, returned = zhejiang_bid(
        zhejiang, "杭州市西湖区退回小学", "乙", "returned@example.cn", "2"
    )
    county = make_user(org("西湖区"), Role.REVIEWER, username="county_reviewer")

    for user in (city, county, other.user):
        production_password(user)

    layout.start()
    web_a, web_b = layout.web

    # An export started on web A ...
    a = login(web_a, city.username)
    r = post(a, web_a, f"/documents/programmes/{zhejiang.code}/summary/city_summary/", {})
    assert r.status_code == 200, r.text[:500]
    job_id = int(re.search(r"/jobs/(\d+)/", r.url).group(1))
    # ... is run by a worker (neither web process consumes the queue) ...
    _wait_for(
        lambda: (
            layout.check_alive()
            or Job.objects.filter(pk=job_id, state__in=[JobState.DONE, JobState.FAILED]).exists()
        ),
        "a worker to run the export",
    )
    job = Job.objects.get(pk=job_id)
    assert job.state == JobState.DONE, job.error
    # ... and downloaded from web B, with the session made on web A (sessions in PostgreSQL,
    # the file in the shared directory).
    b = requests.Session()
    b.cookies.update(a.cookies)
    page = b.get(f"{web_b}/jobs/{job_id}/", timeout=10)
    assert page.status_code == 200 and f"/jobs/{job_id}/download" in page.text
    download = b.get(f"{web_b}/jobs/{job_id}/download", timeout=30)
    assert download.status_code == 200
    assert download.content[:2] == b"PK"  # an XLSX workbook
    cells = [
        str(c)
        for ws in load_workbook(BytesIO(download.content), read_only=True).worksheets
        for row in ws.iter_rows(values_only=True)
        for c in row
        if c
    ]
    assert any("跨进程小学" in c for c in cells)

    # A return on web A: the school reads the notice on web B and gets the e-mail a worker sent.
    c = login(web_a, county.username)
    r = post(c, web_a, f"/review/{returned.pk}/return/", {"reasons": "缺少盖章页"})
    assert r.status_code == 200, r.text[:500]
    mails = _wait_for(
        lambda: (
            layout.check_alive()
            or [m for to, m in layout.inbox.messages if "returned@example.cn" in to]
        ),
        "the worker to send the e-mail",
    )
    assert "退回" in subject_of(mails[0]) + text_of(mails[0])
    s = login(web_b, other.user.username)
    notices = s.get(f"{web_b}/notifications/", timeout=10)
    assert notices.status_code == 200 and "退回" in notices.text
    layout.check_alive()
