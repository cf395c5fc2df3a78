"""A process for crash tests to kill: it forks one child per command and reports how it ended.

Run as ``python -m tests.crash_child`` with DJANGO_SETTINGS_MODULE, DATABASE_URL and
EDUPILOT_DATA_DIR pointing at the test's own database and data directory. Each line on stdin
is a JSON command; the child runs it and, when ``kill_at`` is given, sends itself SIGKILL at
the ``kill_at``-th line executed inside the named functions of the named module (so a test
can stop the writer at every step of a write). One JSON line per command comes back:
``{"killed": bool, "exit": code, "events": lines seen}``.

Django is set up once here and each command runs in a fresh ``fork`` (no database connection
is open at the fork), so a test can try many points without starting Python each time.

Commands (``op``):
- ``upload``: the applicant's edit page POST with a changed text field and a PDF file.
- ``job``: run one queued job (``job_run``) in this process; used by SIGKILL tests of jobs.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import django

django.setup()


def _killer(kill_at: int | None, module_suffix: str, functions: set[str], seen: list[int]):
    """A trace function counting line events in ``functions``; SIGKILL at the chosen one."""

    def local(frame, event, arg):
        if event == "line":
            seen[0] += 1
            if kill_at is not None and seen[0] >= kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return local

    def global_(frame, event, arg):
        code = frame.f_code
        if code.co_filename.endswith(module_suffix) and code.co_name in functions:
            return local
        return None

    return global_


def _trace_inside(entry: str, tracer) -> None:
    """Trace only while ``entry`` (``module:function``, looked up where it is called) runs:
    tracing the whole request would make each try many times slower."""
    import importlib

    module_name, name = entry.split(":")
    module = importlib.import_module(module_name)
    original = getattr(module, name)

    def traced(*args, **kwargs):
        sys.settrace(tracer)
        try:
            return original(*args, **kwargs)
        finally:
            sys.settrace(None)

    setattr(module, name, traced)


def _upload(cmd: dict) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from edupilot.accounts.models import User
    from edupilot.applications.models import Application

    app = Application.objects.get(pk=cmd["application"])
    client = Client()
    client.force_login(User.objects.get(pk=cmd["user"]))
    with open(cmd["pdf"], "rb") as fh:
        pdf = SimpleUploadedFile("扫描件.pdf", fh.read(), content_type="application/pdf")
    data = {
        **cmd["form"],
        "revision": str(app.revision),
        "action": "save",
        cmd["file_field"]: pdf,
    }
    seen = [0]
    tracer = _killer(cmd.get("kill_at"), cmd["module"], set(cmd["functions"]), seen)
    _trace_inside(cmd["entry"], tracer)
    client.post(f"/applications/{app.pk}/edit/", data)
    print(json.dumps({"events": seen[0]}), file=sys.stderr, flush=True)


def _job(cmd: dict) -> None:
    import tests.crash_jobs  # noqa: F401  (registers the job kinds)
    from edupilot.core.jobs import job_run

    job_run(job_id=cmd["job"])


OPS = {"upload": _upload, "job": _job}


def main() -> None:
    from django.db import connections

    for line in sys.stdin:
        cmd = json.loads(line)
        connections.close_all()
        rd, wr = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: run the command, report its event count, exit
            os.close(rd)
            os.dup2(wr, 2)
            try:
                OPS[cmd["op"]](cmd)
                code = 0
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            sys.stderr.flush()
            os._exit(code)
        os.close(wr)
        if cmd.get("pid_only"):
            print(json.dumps({"pid": pid}), flush=True)
        with os.fdopen(rd, "r") as err:
            output = err.read()
        _, status = os.waitpid(pid, 0)
        events = None
        for out_line in output.splitlines():
            if out_line.startswith('{"events"'):
                events = json.loads(out_line)["events"]
        print(
            json.dumps(
                {
                    "killed": os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL,
                    "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                    "events": events,
                    "output": output[-3000:],
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
