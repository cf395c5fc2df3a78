"""deploy/ stays in step with the code and docs/deployment.md."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.management import load_command_class

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def env_example() -> dict[str, str]:
    lines = (DEPLOY / "edupilot.env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {k: v for k, v in pairs}


def test_every_variable_in_the_example_is_read_and_documented():
    source = (ROOT / "edupilot" / "settings.py").read_text()
    docs = (ROOT / "docs" / "deployment.md").read_text()
    for name in env_example():
        assert re.search(rf'env(?:_bool)?\("{name}"', source), f"{name} is not read by settings"
        assert f"`{name}`" in docs, f"{name} is not in docs/deployment.md"


def test_units_run_what_exists():
    web = (DEPLOY / "systemd" / "edupilot-web.service").read_text()
    module, app = re.search(r"gunicorn (\S+):(\S+)", web).groups()
    assert (ROOT / (module.replace(".", "/") + ".py")).exists() and app == "application"
    worker = (DEPLOY / "systemd" / "edupilot-worker@.service").read_text()
    parser = load_command_class("huey.contrib.djhuey", "run_huey").create_parser("x", "run_huey")
    options = parser.parse_args(["--worker-type", "thread", "--no-periodic"])
    assert options.worker_type == "thread" and options.periodic is False
    assert "--worker-type thread" in worker and "--no-periodic" in worker
    for unit in DEPLOY.glob("systemd/*.service"):
        assert "EnvironmentFile=/etc/edupilot/edupilot.env" in unit.read_text(), unit.name


def test_nginx_limits_and_headers_match_the_app():
    site = (DEPLOY / "nginx" / "edupilot.conf").read_text()
    size = int(re.search(r"client_max_body_size (\d+)m;", site).group(1))
    assert size == settings.EDUPILOT_MAX_REQUEST_MB
    # The app trusts these headers from the proxy: the proxy must overwrite, not append.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert "$proxy_add_x_forwarded_for" not in site
    assert env_example()["EDUPILOT_TRUSTED_PROXIES"] == "127.0.0.1"
    assert "proxy_pass http://edupilot_web;" in site and "server 127.0.0.1:8000" in site
