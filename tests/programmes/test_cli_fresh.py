"""The console on a fresh machine, through the real `edupilot` entry point: an author's first
command and a user's mistakes get a message, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HENAN = ROOT / "programmes" / "henan-tencent-smart-campus-2019.toml"


def edupilot(data_dir: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """`edupilot ARGS` with production settings on a data directory of its own (SQLite)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EDUPILOT_", "DJANGO_SETTINGS_MODULE", "DATABASE_URL"))
    }
    env.update(EDUPILOT_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "edupilot.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


def no_traceback(r: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in r.stderr, r.stderr
    assert "Traceback" not in r.stdout, r.stdout


def test_validate_on_a_fresh_installation_checks_the_file_and_says_what_to_run(tmp_path):
    r = edupilot(tmp_path, "programme", "validate", str(HENAN))
    no_traceback(r)
    assert r.returncode == 0, r.stderr
    assert "OK (henan-tencent-2019" in r.stdout
    assert "edupilot migrate" in r.stderr  # the org checks were skipped, and it says why

    # `load` needs the database: it says so instead of crashing.
    r = edupilot(tmp_path, "programme", "load", str(HENAN))
    no_traceback(r)
    assert r.returncode != 0 and "edupilot migrate" in r.stderr


def test_validate_a_directory_and_broken_files(tmp_path):
    data = tmp_path / "data"
    r = edupilot(data, "programme", "validate", str(ROOT / "programmes"))
    no_traceback(r)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(": OK (") == len(list((ROOT / "programmes").glob("*.toml")))

    empty = tmp_path / "empty"
    empty.mkdir()
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    nested = tmp_path / "nested.toml"
    nested.write_text('[forms.a]\ntitle = "x"\nsections = ' + "[" * 700 + "]" * 700)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    for path, message in (
        (empty, "没有 .toml"),
        (deep, "嵌套层数过深"),
        (nested, "嵌套层数过深"),
        (binary, "UTF-8"),
        (tmp_path / "missing.toml", "文件不存在"),
    ):
        r = edupilot(data, "programme", "validate", str(path))
        no_traceback(r)
        assert r.returncode != 0 and message in r.stderr, (path, r.stderr)


@pytest.mark.parametrize("scale", ["0.02"])
def test_demo_at_a_small_scale(tmp_path, scale):
    """A small tree leaves some districts (西湖区) without schools: the demo still loads."""
    r = edupilot(tmp_path, "demo", "--scale", scale)
    no_traceback(r)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "演示账号" in r.stdout
    r = edupilot(tmp_path, "demo", "--scale", "0", "--force")
    no_traceback(r)
    assert r.returncode != 0 and "--scale" in r.stderr
