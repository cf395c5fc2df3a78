"""Drive ``tests.crash_child`` from a transactional test: the same database, the same files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def child_database_url() -> str:
    """The URL of the database this test runs on (the test database, already migrated)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    if connection.vendor == "postgresql":
        user = s.get("USER") or "postgres"
        password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
        return f"postgres://{user}{password}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"
    raise NotImplementedError(connection.vendor)


class CrashChild:
    """The forking child process; ``run(cmd)`` returns how the forked command ended."""

    def __init__(self):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "edupilot.test_settings",
            "DATABASE_URL": child_database_url(),
            "EDUPILOT_DATA_DIR": str(settings.DATA_DIR),
            "EDUPILOT_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "PYTHONPATH": str(ROOT),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env=env,
            text=True,
        )

    def send(self, cmd: dict) -> None:
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def receive(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, "the crash child stopped"
        return json.loads(line)

    def run(self, cmd: dict) -> dict:
        self.send(cmd)
        return self.receive()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
