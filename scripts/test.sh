#!/usr/bin/env bash
# The whole test suite: lint, Django checks, then pytest on SQLite and again on PostgreSQL.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k quota`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --test
. .venv/bin/activate
export PYTHONDONTWRITEBYTECODE=1

echo "== ruff"
ruff check .
ruff format --check .

echo "== import layers"
lint-imports  # contracts in pyproject.toml [tool.importlinter]; see docs/architecture.md "Layers"

echo "== django checks"
DJANGO_SETTINGS_MODULE=edupilot.test_settings python manage.py check --fail-level WARNING
DJANGO_SETTINGS_MODULE=edupilot.test_settings python manage.py makemigrations --check --dry-run >/dev/null

echo "== pytest on SQLite"
env -u DATABASE_URL pytest -n 2 "$@"

echo "== pytest on PostgreSQL"
pg_url="${EDUPILOT_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
# The scale-out test (tests/scaleout) runs two web processes and two workers against Redis.
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "Redis is not answering on 127.0.0.1:6379; starting it"
  redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null
  for _ in $(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 1; done
fi
DATABASE_URL="$pg_url" pytest -n 2 "$@"
