"""The web side of a file check that runs in a separate, bounded child process.

``pdfcheck`` and ``evidencecheck`` are each their own child's program: the file is run with
``python -I`` under limits on CPU time, address space and wall time, so a hostile upload can
neither hang nor exhaust the web server. The child prints its answers, one JSON object a line,
the first being its verdict: ``{"refused": cause}`` or what it found.
"""

from __future__ import annotations

import json
import subprocess
import sys

CPU_SECONDS = 20
WALL_SECONDS = 30
MEMORY_BYTES = 1024 * 1024 * 1024


class Refused(ValueError):
    """A file a check refuses; ``cause`` is one of the check's CAUSES (the caller words it)."""

    def __init__(self, cause: str):
        super().__init__(cause)
        self.cause = cause


def run_check(program: str, args: list[str], *, crashed: str) -> list[dict]:
    """Run the check ``program`` in a bounded child with ``args``; its answers, the verdict
    first. Refused with the verdict's cause, with "too_slow" when the child ran out of time or
    was killed by its limits, and with ``crashed`` when it exited without answering (out of
    memory, the likeliest)."""
    timed_out = False
    try:
        done = subprocess.run(
            [sys.executable, "-I", program, *args],
            capture_output=True,
            timeout=WALL_SECONDS,
            preexec_fn=_limit,  # noqa: PLW1509 - only setrlimit, no locks taken
            check=False,
        )
        out, returncode = done.stdout, done.returncode
    except subprocess.TimeoutExpired as exc:
        out, returncode, timed_out = exc.stdout or b"", -9, True
    answers = []
    for line in out.decode(errors="replace").splitlines():
        try:
            answers.append(json.loads(line))
        except ValueError:
            continue
    if not answers or not isinstance(answers[0], dict):
        # Killed by its limits (SIGXCPU, SIGKILL) or out of memory before it could answer.
        raise Refused("too_slow" if timed_out or returncode < 0 else crashed)
    if answers[0].get("refused"):
        raise Refused(answers[0]["refused"])
    return answers


def _limit() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
