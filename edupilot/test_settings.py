"""Settings for the test suite: the normal settings with test-friendly switches.

Data (media, SQLite file, task queue) goes to a fresh temporary directory per run.
DATABASE_URL still picks the engine, so the same suite runs on SQLite and PostgreSQL.
"""

import os
import tempfile

os.environ.setdefault("EDUPILOT_TESTING", "1")
os.environ.setdefault("EDUPILOT_DATA_DIR", tempfile.mkdtemp(prefix="edupilot-test-"))

from edupilot.settings import *  # noqa: E402, F403

# The live server answers from several threads (htmx autosave beside a form post): an
# in-memory SQLite shared between threads locks whole tables, a file in WAL mode does not,
# and is what production runs on.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
