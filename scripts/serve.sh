#!/usr/bin/env bash
# Set up (first time) and start EduPilot on the embedded default: SQLite, local files,
# SQLite-backed task queue. Loads demo data on first start and prints the URL and accounts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/edupilot serve "$@"
