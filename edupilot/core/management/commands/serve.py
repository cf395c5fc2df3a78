"""``edupilot serve``: migrate, load the demo on first start, start a task worker, serve HTTP."""

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from edupilot import demo

from .demo import print_accounts


class Command(BaseCommand):
    help = "Start EduPilot: migrations, demo data on first start, background worker and web server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("EDUPILOT_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("EDUPILOT_PORT", "8000"))
        )
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("EDUPILOT_WEB_WORKERS", "2"))
        )
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--no-demo", action="store_true", help="do not load demo data")
        parser.add_argument("--demo-scale", type=float, default=1.0)
        parser.add_argument(
            "--no-worker", action="store_true", help="do not start the background task worker"
        )

    def handle(self, *args, **opts):
        self.stdout.write(
            f"数据目录：{settings.DATA_DIR}（数据库：{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}）"
        )
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if not opts["no_demo"]:
            if demo.has_demo():
                accounts = demo.create_accounts()
            else:
                self.stdout.write("首次启动，正在生成演示数据（约需一分钟）…")
                accounts = demo.load_demo(scale=opts["demo_scale"], stdout=self.stdout)
            print_accounts(self.stdout, accounts)
        worker = None
        if not opts["no_worker"]:
            # The task queue runs in its own process: web workers fork, a thread would not follow.
            worker = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "edupilot.cli", "run_huey", "--workers", "2", "--quiet"],
                stdout=subprocess.DEVNULL if not settings.DEBUG else None,
            )
        url = f"http://{opts['host']}:{opts['port']}/"
        self.stdout.write(f"\nEduPilot 已启动：{url}   （Ctrl+C 停止）\n")
        try:
            run_gunicorn(opts["host"], opts["port"], opts["workers"], opts["threads"])
        finally:
            if worker is not None:
                worker.send_signal(signal.SIGINT)
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()


def run_gunicorn(host: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    from edupilot.wsgi import application

    class App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("timeout", 120)
            self.cfg.set("accesslog", "-" if settings.DEBUG else None)

        def load(self):
            return application

    App().run()
