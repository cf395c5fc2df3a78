from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from edupilot import demo

# Ten times the real school counts is already a load test; more would run for hours.
MAX_SCALE = 10.0


class Command(BaseCommand):
    help = "Load the demo data (regions, schools, programmes open today, accounts, applications)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=float, default=1.0, help="fraction of the realistic school counts"
        )
        parser.add_argument("--force", action="store_true", help="load even if demo accounts exist")

    def handle(self, *args, scale, force, **options):
        if not 0 < scale <= MAX_SCALE:
            raise CommandError(f"--scale 应大于 0 且不超过 {MAX_SCALE}（1 为真实学校数）")
        # A fresh data directory has no tables yet; the demo should not need a separate step.
        call_command("migrate", interactive=False, verbosity=0)
        if demo.has_demo() and not force:
            self.stdout.write("演示数据已存在（使用 --force 重新加载）。")
            return
        accounts = demo.load_demo(scale=scale, stdout=self.stdout)
        print_accounts(self.stdout, accounts)


def print_accounts(out, accounts) -> None:
    out.write("")
    out.write(f"演示账号（密码均为 {demo.DEMO_PASSWORD}）：")
    width = max(len(a.username) for a in accounts) + 2
    for a in accounts:
        out.write(f"  {a.username:<{width}} {a.role:<6} {a.org_code}  {a.note}")
