import hashlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from edupilot.audit.services import Actor
from edupilot.programmes import services, tables
from edupilot.programmes.models import ParticipantList

ACTION_LABEL = {
    "created": "新增",
    "updated": "更新",
    "unchanged": "未变",
    "removed": "移除",
    "error": "错误",
}


class Command(BaseCommand):
    help = (
        "Participant lists: `lists import CODE FILE` (CSV/XLSX with columns 机构代码 or "
        "机构名称, 状态, 备注; idempotent, all or nothing, audited) and `lists show CODE`."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a participant list from CSV or XLSX")
        imp.add_argument("code")
        imp.add_argument("file")
        imp.add_argument(
            "--replace", action="store_true", help="remove orgs that are not in the file"
        )
        imp.add_argument("--dry-run", action="store_true", help="report, change nothing")
        show = sub.add_parser("show", help="print a participant list")
        show.add_argument("code")

    def handle(self, *args, action, code, **options):
        plist = ParticipantList.objects.filter(code=code).first()
        if plist is None:
            known = ", ".join(
                ParticipantList.objects.order_by("code").values_list("code", flat=True)
            )
            raise CommandError(
                f"名单 {code} 不存在（名单由项目文件的 [[lists]] 声明，请先加载项目文件；"
                f"现有：{known or '无'}）"
            )
        if action == "show":
            self.stdout.write(f"{plist.title}（{plist.code}）：{plist.entries.count()} 个单位")
            for e in plist.entries.select_related("org").order_by("org__path"):
                self.stdout.write(f"  {e.org.code}\t{e.org.name}\t{e.status}\t{e.note}")
            return
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件 {path}：{exc.strerror}") from exc
        try:
            rows = tables.read_list_rows(data, path.name)
        except tables.TableInvalid as exc:
            raise CommandError(f"{path}：{exc}") from exc
        try:
            report = services.participants_import(
                plist=plist,
                rows=rows,
                actor=Actor.system(),
                replace=options["replace"],
                dry_run=options["dry_run"],
                source_name=path.name,
                source_sha256=hashlib.sha256(data).hexdigest(),
            )
        except services.ParticipantsImportInvalid as exc:
            for r in exc.report.rows:
                if r.action == "error":
                    self.stderr.write(f"{path}:{r.line}: {r.message}")
            raise CommandError(
                f"{exc.report.count('error')} 行有错误，未导入任何数据（{exc.report.summary()}）"
            ) from exc
        for r in report.rows:
            where = f"第 {r.line} 行" if r.line else "名单中"
            org = f"{r.org.name}（{r.org.code}）" if r.org else r.org_ref
            detail = f"：{r.message}" if r.message else ""
            self.stdout.write(f"{where} {ACTION_LABEL[r.action]} {org}{detail}")
        prefix = "试运行，未写入：" if report.dry_run else ""
        self.stdout.write(f"{plist.code}：{prefix}{report.summary()}")
