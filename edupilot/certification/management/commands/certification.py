"""``edupilot certification …``: standards, batches, imports and assessment from the shell.

    edupilot certification standard validate FILE… | --all
    edupilot certification standard load FILE… | --all
    edupilot certification standard show CODE… [--format json]
    edupilot certification batch create --owner 330100 --code hz-2024-1 --name … \
        --date 2024-09-01 --cutoff 2024-08-31 --standard zj-sc-2022 [--additional moe-vc-2020] \
        [--titles LIST_CODE …] [--programme CODE --programme-batch batch1]
    edupilot certification import --batch CODE --source OWNER_CODE/SOURCE_CODE --user NAME FILE \
        [--as-of DATE]
    edupilot certification assess --batch CODE --user NAME

Imports and assessment act as the named user (through its bureau membership and scope),
exactly as the page and the background job do.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from edupilot.audit.services import Actor
from edupilot.certification import services
from edupilot.certification.models import Batch, DataSource, Standard
from edupilot.certification.standards import StandardFileInvalid, parse_file, resolve
from edupilot.certification.standards.show import standard_summary, summary_lines
from edupilot.orgs.models import Membership, Org, Role
from edupilot.orgs.scoping import Scope

STANDARDS_DIR = Path(
    getattr(settings, "EDUPILOT_STANDARDS_DIR", settings.PROJECT_DIR / "standards")
)


def standard_files(paths: list[str], all_files: bool) -> list[Path]:
    if all_files:
        files = sorted([*STANDARDS_DIR.glob("*.toml"), *STANDARDS_DIR.glob("*.xlsx")])
    elif paths:
        files = [Path(p) for p in paths]
    else:
        raise CommandError("请给出至少一个标准文件，或使用 --all")
    return files


def in_dependency_order(parsed: list) -> list:
    """Bases before the standards that extend them (files given in any order)."""
    codes = {p.spec.code for p in parsed}
    done: set[str] = set()
    out = []
    pending = list(parsed)
    while pending:
        ready = [
            p
            for p in pending
            if not p.spec.extends or p.spec.extends in done or p.spec.extends not in codes
        ]
        if not ready:
            out.extend(pending)  # a cycle: let the loader report it
            break
        for p in ready:
            out.append(p)
            done.add(p.spec.code)
            pending.remove(p)
    return out


def date_arg(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期“{value}”格式不对，应为 2024-08-31") from exc


class Command(BaseCommand):
    help = "Smart-campus certification: standards, batches, imports and assessment."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="area", required=True)
        std = sub.add_parser(
            "standard", help="validate or load standard files (TOML/XLSX), or show one"
        )
        std.add_argument("action", choices=["validate", "load", "show"])
        std.add_argument("files", nargs="*", help="files; for show: codes of loaded standards")
        std.add_argument("--format", choices=["text", "json"], default="text")
        std.add_argument("--all", action="store_true", help=f"every file in {STANDARDS_DIR}")

        batch = sub.add_parser("batch", help="create a batch")
        batch.add_argument("action", choices=["create"])
        batch.add_argument("--owner", required=True, help="org code of the certifying bureau")
        batch.add_argument("--code", required=True)
        batch.add_argument("--name", required=True)
        batch.add_argument("--date", help="certification date (YYYY-MM-DD)")
        batch.add_argument("--cutoff", help="data cut-off date (YYYY-MM-DD)")
        batch.add_argument("--standard", required=True, help="code of the main standard")
        batch.add_argument("--additional", nargs="*", default=[])
        batch.add_argument("--titles", nargs="*", default=[], help="participant list codes")
        batch.add_argument("--programme", help="code of the certification programme")
        batch.add_argument("--programme-batch", help="a [[batches]] code of that programme")

        imp = sub.add_parser("import", help="import another system's export into a batch")
        imp.add_argument("file")
        imp.add_argument("--batch", required=True)
        imp.add_argument("--source", required=True, help="OWNER_CODE/SOURCE_CODE")
        imp.add_argument("--user", required=True)
        imp.add_argument("--as-of")

        ass = sub.add_parser("assess", help="assess every school of a batch the user may see")
        ass.add_argument("--batch", required=True)
        ass.add_argument("--user", required=True)

    def handle(self, *args, area, **options):
        getattr(self, f"handle_{area}")(**options)

    # -- standards ------------------------------------------------------------------------------
    def handle_standard(self, *, action, files, all, **options):
        if action == "show":
            return self.show_standards(files, options["format"])
        parsed, failed = [], 0
        for path in standard_files(files, all):
            try:
                parsed.append(parse_file(path))
            except StandardFileInvalid as exc:
                failed += 1
                for e in exc.errors:
                    self.stderr.write(str(e))
        for p in in_dependency_order(parsed):
            try:
                if action == "validate":
                    base = None
                    if p.spec.extends:
                        base_obj = Standard.objects.filter(code=p.spec.extends).first()
                        base = services.resolved_from_db(base_obj) if base_obj else None
                        if base is None:
                            known = {q.spec.code: q for q in parsed}
                            if p.spec.extends in known:
                                base = resolve(known[p.spec.extends], None)
                    resolved = resolve(p, base)
                    self.stdout.write(
                        f"{p.name}: OK（{p.spec.code}，{len(resolved.indicators)} 项指标）"
                    )
                else:
                    outcome = services.standard_load(parsed=p, scope=None, actor=Actor.system())
                    self.stdout.write(f"{p.name}: {outcome.action} {outcome.standard.code}")
            except StandardFileInvalid as exc:
                failed += 1
                for e in exc.errors:
                    self.stderr.write(str(e))
            except services.Refused as exc:
                failed += 1
                self.stderr.write(f"{p.name}: 已拒绝：{exc}")
        if failed:
            raise CommandError(f"{failed} 个文件有错误")

    def show_standards(self, codes: list[str], fmt: str) -> None:
        """The resolved standards (inherited indicators included): rule, modules, grades,
        dimensions with their points and minimums, indicators."""
        if not codes:
            raise CommandError("请给出要显示的标准代码")
        out = []
        for code in codes:
            standard = Standard.objects.filter(code=code).first()
            if standard is None:
                raise CommandError(f"没有代码为 {code} 的标准；先用 `standard load FILE` 载入")
            out.append(standard_summary(services.resolved_from_db(standard)))
        if fmt == "json":
            self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
            return
        for data in out:
            self.stdout.write("\n".join(summary_lines(data)))

    # -- batches ----------------------------------------------------------------------------------
    def handle_batch(
        self,
        *,
        owner,
        code,
        name,
        date,
        cutoff,
        standard,
        additional,
        titles,
        programme,
        programme_batch,
        **options,
    ):
        from edupilot.programmes.models import ParticipantList, Programme

        owner_org = Org.objects.filter(code=owner).first()
        if owner_org is None:
            raise CommandError(f"机构代码 {owner} 不存在")
        prog = None
        if programme:
            prog = Programme.objects.filter(code=programme).first()
            if prog is None:
                raise CommandError(f"项目 {programme} 未载入")
            if programme_batch:
                pb = prog.batch_spec(programme_batch)
                if pb is None:
                    raise CommandError(f"项目 {programme} 中没有批次 {programme_batch}")
                date = date or pb.assess_from.isoformat()
                cutoff = cutoff or pb.data_cutoff.isoformat()
            if not titles:
                titles = [lst.code for lst in prog.parsed.lists]
        if not date or not cutoff:
            raise CommandError("请给出 --date 和 --cutoff（或 --programme 与 --programme-batch）")
        try:
            main = Standard.objects.get(code=standard)
            extra = [Standard.objects.get(code=c) for c in additional]
        except Standard.DoesNotExist as exc:
            raise CommandError(
                "认定标准未载入：请先 `edupilot certification standard load --all`"
            ) from exc
        lists = list(ParticipantList.objects.filter(code__in=titles))
        missing = set(titles) - {lst.code for lst in lists}
        if missing:
            raise CommandError(f"称号名单不存在：{'、'.join(sorted(missing))}")
        try:
            batch = services.batch_create(
                owner=owner_org,
                code=code,
                name=name,
                certification_date=date_arg(date),
                cutoff=date_arg(cutoff),
                standard=main,
                additional=extra,
                exempt_titles=lists,
                programme=prog,
                programme_batch=(programme_batch or "") if prog else "",
                scope=None,
                actor=Actor.system(),
            )
        except services.Refused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已设立批次 {batch.code}：{batch.entries.count()} 所学校")

    # -- imports and assessment ----------------------------------------------------------------------
    def _acting(self, username: str):
        membership = (
            Membership.objects.filter(
                user__username=username,
                is_active=True,
                role__in=[Role.PROGRAMME_ADMIN, Role.REVIEWER],
            )
            .select_related("org", "user")
            .order_by("id")
            .first()
        )
        if membership is None:
            raise CommandError(f"用户 {username} 没有教育行政部门的审核人或项目管理员身份")
        return Actor(user=membership.user, org=membership.org), Scope.for_membership(membership)

    def _batch(self, code: str) -> Batch:
        batch = Batch.objects.filter(code=code).first()
        if batch is None:
            raise CommandError(f"批次 {code} 不存在")
        return batch

    def _progress(self, done, total=None, message=""):
        self.stdout.write(f"  {message} {done}/{total or '?'}")

    def handle_import(self, *, file, batch, source, user, as_of, **options):
        actor, scope = self._acting(user)
        batch_obj = self._batch(batch)
        owner_code, _, source_code = source.partition("/")
        src = DataSource.objects.filter(owner__code=owner_code, code=source_code).first()
        if src is None:
            raise CommandError(f"数据来源 {source} 不存在")
        path = Path(file)
        try:
            started = services.import_prepare(
                batch=batch_obj,
                source=src,
                content=path.read_bytes(),
                filename=path.name,
                as_of=date_arg(as_of) if as_of else None,
                scope=scope,
                actor=actor,
            )
        except services.Refused as exc:
            raise CommandError(str(exc)) from exc
        except FileNotFoundError as exc:
            raise CommandError(f"文件 {file} 不存在") from exc
        if not started.created:
            self.stdout.write(f"该文件此前已导入（导入记录 {started.run.pk}），未作任何改动")
            return
        run = services.import_execute(run=started.run, scope=scope, progress=self._progress)
        if run.message:
            raise CommandError(run.message)
        self.stdout.write(
            f"导入完成：{run.total_rows} 行，匹配 {run.matched_rows} 行，写入 {run.values_set} 个数值"
            f"（变化 {run.values_changed}），问题 {run.issue_count} 条"
        )
        for issue in run.issues.all()[:50]:
            self.stdout.write(f"  第 {issue.row} 行 {issue.column}：{issue.message}")

    def handle_assess(self, *, batch, user, **options):
        actor, scope = self._acting(user)
        try:
            report = services.batch_assess(
                batch=self._batch(batch), actor=actor, scope=scope, progress=self._progress
            )
        except services.Refused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"已评估 {report.assessed} 所：达到 {report.passed}，数据不全 {report.incomplete}，未达到 {report.failed}"
        )
