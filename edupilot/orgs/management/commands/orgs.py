"""``edupilot orgs import|add-region|move|demo|template``: the org tree from the command line."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from edupilot.audit.services import Actor
from edupilot.orgs import demo, services, units
from edupilot.orgs.importer import roster_template
from edupilot.orgs.models import Org, Role
from edupilot.orgs.regions import SEED_REGIONS, DivisionError


class Command(BaseCommand):
    help = "The org tree: import rosters (XLSX/CSV), move an org, demo schools, roster template."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="add or update schools from an XLSX or CSV roster")
        imp.add_argument("file")
        imp.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        imp.add_argument(
            "--strict", action="store_true", help="write nothing when any row is refused"
        )
        imp.add_argument(
            "--within",
            metavar="CODE",
            help="refuse rows outside this org's subtree (what a bureau's reviewer could import)",
        )
        ar = sub.add_parser(
            "add-region",
            help="add provinces, cities or counties by division code, with their ancestors "
            "and (province, city) every division under them; idempotent",
        )
        ar.add_argument("codes", nargs="+", metavar="CODE", help="6-digit division code")
        mv = sub.add_parser("move", help="give an org a new parent (its subtree follows)")
        mv.add_argument("code")
        mv.add_argument("--parent", required=True, metavar="CODE")
        dm = sub.add_parser("demo", help="generate demo schools in realistic numbers")
        dm.add_argument("--regions", nargs="*", choices=sorted(SEED_REGIONS), default=None)
        dm.add_argument("--scale", type=float, default=1.0)
        dm.add_argument("--seed", type=int, default=0)
        dm.add_argument("--no-kindergartens", action="store_true")
        tp = sub.add_parser("template", help="write an empty roster template (XLSX)")
        tp.add_argument("file")

    def handle(self, *args, action, **options):
        return getattr(self, f"do_{action.replace('-', '_')}")(**options)

    def do_import(self, file, dry_run, strict, within, verbosity, **_):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        scope = None
        if within:
            from edupilot.orgs.scoping import Scope

            root = Org.objects.filter(code=within).first()
            if root is None:
                raise CommandError(f"找不到机构代码 {within}")
            scope = Scope.acting_as(root, Role.REVIEWER)
        try:
            report = services.orgs_import(
                data=path.read_bytes(),
                filename=path.name,
                actor=Actor.system(),
                scope=scope,
                dry_run=dry_run,
                strict=strict,
            )
        except services.ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        # Refused rows at every verbosity, on stderr: what to fix, row by row, in file order.
        if report.errors:
            self.stderr.write(f"以下 {report.refused} 行未通过检查：")
            for line in report.refused_lines():
                self.stderr.write(f"  {line}")
        if verbosity >= 2:
            for c in report.changes:
                label = "新增" if c.action == "added" else "更新"
                self.stdout.write(f"第{c.row}行 {label} {c.code} {c.name} {c.after}")
        self.stdout.write(report.summary())
        if report.errors and (strict or dry_run):
            raise CommandError(f"{report.refused} 行未通过检查")

    def do_add_region(self, codes, **_):
        try:
            result = units.add_divisions(codes=codes, actor=Actor.system())
        except DivisionError as exc:
            raise CommandError(str(exc)) from exc
        names = "、".join(o.name for o in result.orgs)
        self.stdout.write(
            f"{names}：新增 {len(result.created)} 个机构，已存在 {result.existing} 个"
        )

    def do_move(self, code, parent, **_):
        org = Org.objects.filter(code=code).first()
        target = Org.objects.filter(code=parent).first()
        if org is None or target is None:
            raise CommandError(f"找不到机构代码 {code if org is None else parent}")
        try:
            n = services.org_move(org=org, new_parent=target, actor=Actor.system())
        except services.OrgMoveError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{org.name} 已移到 {target.name} 之下（{n} 个机构的路径已更新）")

    def do_demo(self, regions, scale, seed, no_kindergartens, **_):
        stats = demo.generate_schools(
            regions or None, scale=scale, seed=seed, kindergartens=not no_kindergartens
        )
        detail = "，".join(
            f"{k} {v}" for k, v in sorted(stats.items()) if k not in ("created", "existing")
        )
        self.stdout.write(
            f"演示机构：新建 {stats['created']}，已存在 {stats['existing']}（{detail}）"
        )

    def do_template(self, file, **_):
        Path(file).write_bytes(roster_template())
        self.stdout.write(f"已写入模板 {file}（第 2 行为示例，导入前请删除）")
