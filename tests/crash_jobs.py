"""A job kind for crash tests: an export that reports once and then works on (until killed)."""

from __future__ import annotations

import time

from edupilot.core.jobs import JobResult, register_job


@register_job("test.long_export", label="长时间导出")
def long_export(job, report):
    report(1, 100, "正在导出第 1 行")
    # Busy in one long step without reporting, as a large export may be; only the heartbeat
    # shows it is alive. Bounded so that a test that forgets to kill it still ends.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return JobResult("导出.txt", "text/plain", b"done")
