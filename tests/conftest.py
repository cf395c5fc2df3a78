"""Shared fixtures.

The seed regions (Henan, Zhejiang, Quanzhou, Hengyang: ~300 real divisions) are created once
per test database. Tests that run in transactions see them; transactional tests (browser,
concurrency) run last and flush the database, so ``seeded`` re-creates them when missing.
Every test database holds several provinces of look-alike data, so a scope leak between
two counties or two provinces shows up in ordinary tests.
"""

from __future__ import annotations

import itertools
import os
import shutil

import pytest
from django.core.management import call_command
from django.utils import translation

from edupilot.orgs.models import Membership, Org, OrgKind, Role

_counter = itertools.count(1)


def seed_database() -> None:
    from edupilot.orgs.regions import seed_regions

    seed_regions()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        seed_database()


@pytest.fixture(autouse=True)
def audit_checkpoint_files(settings, tmp_path):
    """Each test its own audit checkpoint file and key: checkpoints describe one database."""
    settings.EDUPILOT_AUDIT_KEY = ""
    settings.EDUPILOT_AUDIT_KEY_FILE = tmp_path / "audit_key"
    settings.EDUPILOT_AUDIT_CHECKPOINTS = tmp_path / "audit_checkpoints.jsonl"


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: a test client's request in English leaves
    English active in its thread (LocaleMiddleware does not reset it), and a later test in the
    same worker would read its messages in English."""
    yield
    translation.deactivate()


@pytest.fixture
def compiles(monkeypatch):
    """The model of every SELECT Django compiles to SQL from here on, in order (clear it to
    count a stretch): what core.prepared saves is compilation, not queries."""
    from django.db.models.sql import compiler

    seen = []
    original = compiler.SQLCompiler.as_sql

    def counted(self, *args, **kwargs):
        seen.append(self.query.model)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(compiler.SQLCompiler, "as_sql", counted)
    return seen


@pytest.fixture
def seeded(db):
    """The seed regions, present even after a transactional test flushed the database."""
    if not Org.objects.filter(code="410000").exists():
        seed_database()


@pytest.fixture
def transactional_seeded(transactional_db):
    seed_database()


def make_school(parent: Org, name: str | None = None, **attrs) -> Org:
    n = next(_counter)
    defaults = {
        "stages": ",primary,",
        "ownership": "public",
        "locality": "urban",
        "bandwidth_mbps": 100,
        "teacher_count": 60,
        "student_count": 900,
    }
    defaults.update(attrs)
    return Org.objects.create(
        code=attrs.pop("code", None) or f"T{parent.code[:6]}{n:05d}",
        name=name or f"{parent.name}第{n}小学",
        kind=OrgKind.SCHOOL,
        parent=parent,
        division_code=parent.division_code or parent.code[:6],
        **{k: v for k, v in defaults.items() if k != "code"},
    )


def make_user(
    org: Org,
    role: str = Role.APPLICANT,
    username: str | None = None,
    password: str = "pass-Word-123",
):
    from edupilot.accounts.models import User

    username = username or f"u{next(_counter)}"
    user = User.objects.create_user(username=username, password=password, full_name=username)
    Membership.objects.create(user=user, org=org, role=role)
    return user


def org(code_or_name: str) -> Org:
    return Org.objects.filter(code=code_or_name).first() or Org.objects.get(name=code_or_name)


def copy_notices(directory) -> None:
    """The notices' files (``[notice]``) beside edited copies of the programme files."""
    from django.conf import settings

    shutil.copytree(
        settings.EDUPILOT_PROGRAMMES_DIR / "notices", directory / "notices", dirs_exist_ok=True
    )


@pytest.fixture
def programmes(seeded):
    """All programme files under programmes/ loaded (demo-shifted so that they are open)."""
    call_command("programme", "load", "--all", "--open-now", verbosity=0)


def pdf_bytes(pages: int = 1, text: str = "") -> bytes:
    """A real, minimal PDF (what a scanner would produce, minus the picture)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if text:
        writer.add_metadata({"/Title": text})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


# --- browser tests -------------------------------------------------------------------------
# Debian's Chromium driven by Playwright (no browser download). One browser per session for
# every test that asks for it: two Playwright instances cannot share the test thread.
# Playwright's sync API runs an event loop in the test thread; Django refuses database access
# from a thread with a running loop unless told it is safe, which it is here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("EDUPILOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `bash scripts/bootstrap.sh --test`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    # A script or style the Content-Security-Policy blocked is a broken page: fail on it.
    blocked: list[str] = []
    pg.on(
        "console",
        lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    yield pg
    context.close()
    assert not blocked, f"blocked by the Content-Security-Policy: {blocked}"
