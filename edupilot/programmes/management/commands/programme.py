from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from edupilot.audit.services import Actor
from edupilot.programmes import loader, services


def programme_files(paths: list[str], all_files: bool) -> list[Path]:
    if all_files:
        return sorted(Path(settings.EDUPILOT_PROGRAMMES_DIR).glob("*.toml"))
    if not paths:
        raise CommandError("请给出至少一个项目文件，或使用 --all")
    return [Path(p) for p in paths]


class Command(BaseCommand):
    help = (
        "Programme files: `programme validate FILE...` and `programme load FILE...` (idempotent)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        v = sub.add_parser("validate", help="check files without loading them")
        v.add_argument("files", nargs="*")
        v.add_argument(
            "--all", action="store_true", help=f"every file in {settings.EDUPILOT_PROGRAMMES_DIR}"
        )
        ld = sub.add_parser("load", help="create or update programmes from files")
        ld.add_argument("files", nargs="*")
        ld.add_argument("--all", action="store_true")
        ld.add_argument(
            "--shift-days", type=int, default=None, help="move every date by N days (demo)"
        )
        ld.add_argument(
            "--open-now",
            action="store_true",
            help="shift dates so that the programme is open today (demo)",
        )

    def handle(self, *args, action, files, all, **options):
        paths = programme_files(files, all)
        failed = 0
        for path in paths:
            if action == "validate":
                parsed, errors = loader.validate(path)
                if errors:
                    failed += 1
                    for e in errors:
                        self.stderr.write(str(e))
                else:
                    self.stdout.write(
                        f"{path}: OK ({parsed.spec.code}, {len(parsed.spec.categories)} 个类别)"
                    )
                continue
            try:
                parsed = loader.parse_file(path)
                shift = options["shift_days"]
                if options["open_now"]:
                    shift = services.open_now_shift(parsed)
                outcome = services.programme_load(
                    parsed=parsed, actor=Actor.system(), time_shift_days=shift
                )
            except loader.ProgrammeFileInvalid as exc:
                failed += 1
                for e in exc.errors:
                    self.stderr.write(str(e))
                continue
            except services.ProgrammeLoadRefused as exc:
                failed += 1
                self.stderr.write(f"{path}: 已拒绝：{exc}")
                continue
            self.stdout.write(f"{path}: {outcome.action} {outcome.programme.code}")
        if failed:
            raise CommandError(f"{failed} 个文件有错误")
