"""docs/architecture.md's app table: one row per app, naming modules that exist.

A newcomer reads the table first; two rows for one app (they had drifted apart) or a module
that was renamed away sends them looking for what is not there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `(\w+)` \|.*\|(.*)\|$")


def app_rows() -> list[tuple[str, list[str]]]:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = page.split("## Apps and their responsibilities", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        m = ROW.match(line)
        if m:
            rows.append((m[1], re.findall(r"`([\w/]+\.py)`", m[2])))
    return rows


def test_each_app_has_one_row_and_its_key_modules_exist():
    rows = app_rows()
    apps = [app for app, _ in rows]
    assert "review" in apps and len(rows) >= 10
    assert sorted(a for a in set(apps) if apps.count(a) > 1) == []
    missing = [
        f"{app}/{m}"
        for app, mods in rows
        for m in mods
        if not (ROOT / "edupilot" / app / m).exists()
    ]
    assert missing == []
