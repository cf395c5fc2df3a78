import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from edupilot.audit.services import Actor
from edupilot.orgs.models import Org
from edupilot.programmes import flow, loader, services
from edupilot.programmes.models import Programme
from edupilot.programmes.pilot_schema import PILOT_KIND_LABELS
from edupilot.programmes.stages import KIND_LABELS


def programme_files(paths: list[str], all_files: bool) -> list[Path]:
    """The files named, a directory standing for the .toml files directly in it."""
    if all_files:
        return sorted(Path(settings.EDUPILOT_PROGRAMMES_DIR).glob("*.toml"))
    if not paths:
        raise CommandError("请给出至少一个项目文件，或使用 --all")
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.glob("*.toml") if f.is_file())
            if not found:
                raise CommandError(f"{p} 是一个目录，其中没有 .toml 项目文件")
            files.extend(found)
        else:
            files.append(p)
    return files


NO_DATABASE = (
    "数据库尚未建立：先运行 `edupilot migrate`（或 `edupilot serve`，首次启动时会建立数据库）"
)
NO_ORGS = "组织机构树为空：先运行 `edupilot serve` 或 `edupilot demo` 载入行政区划"


def database_problem() -> str | None:
    """Why the org tree cannot be read yet (a fresh installation), or None."""
    try:
        if Org._meta.db_table not in connection.introspection.table_names():
            return NO_DATABASE
        if not Org.objects.exists():
            return NO_ORGS
    except DatabaseError as exc:
        return f"无法连接数据库（{exc}）".strip()
    return None


TIER_WORDS = {"province": "省级", "city": "市级", "county": "县级"}


class Command(BaseCommand):
    help = (
        "Programme files: `programme validate FILE...`, `programme load FILE...` (idempotent) "
        "and `programme show CODE [--applicant ORG] [--format json]` (the resolved stages)."
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

        sh = sub.add_parser("show", help="print each category's stages as they will run")
        sh.add_argument("code", help="the programme's code")
        sh.add_argument("--applicant", help="resolve the stages for this org (code or name)")
        sh.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, action, **options):
        if action == "show":
            return self.show(options["code"], options["applicant"], options["format"])
        files, all = options["files"], options["all"]
        paths = programme_files(files, all)
        problem = database_problem()
        if problem and action == "load":
            raise CommandError(problem)
        if problem:
            self.stderr.write(
                f"注意：{problem}。本次只检查文件本身，发文单位、审核单位和名额表"
                "需要组织机构树，未检查。"
            )
        failed = 0
        for path in paths:
            if action == "validate":
                parsed, errors = loader.validate(path, with_database=problem is None)
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

    def show(self, code: str, applicant_ref: str | None, fmt: str) -> None:
        if problem := database_problem():
            raise CommandError(problem)
        programme = Programme.objects.select_related("issuer").filter(code=code).first()
        if programme is None:
            raise CommandError(f"没有代码为 {code} 的项目；先用 `programme load FILE` 载入项目文件")
        applicant = None
        if applicant_ref:
            matches = list(Org.objects.filter(code=applicant_ref)) or list(
                Org.objects.filter(name=applicant_ref)
            )
            if not matches:
                raise CommandError(f"组织机构中没有代码或名称为 {applicant_ref} 的单位")
            if len(matches) > 1:
                raise CommandError(f"名称 {applicant_ref} 对应多个单位，请用单位代码")
            applicant = matches[0]
        data = flow.programme_flow(programme, applicant)
        if fmt == "json":
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{data['code']}  {data['title']}")
        self.stdout.write(f"发文单位：{'、'.join(data['issuers'])}")
        if data["parent"]:
            parent = data["parent"]
            self.stdout.write(f"上级项目：{parent['code']}  {parent['title']}")
            for row in parent["categories"]:
                self.stdout.write(f"  类别 {row['code']}：{row['text']}")
            inherited = parent.get("inherited") or {}
            top = "、".join(inherited.get("top", [])) or "无"
            self.stdout.write(f"  沿用上级项目：{top}")
            for code, keys in inherited.get("categories", {}).items():
                self.stdout.write(f"  类别 {code} 沿用上级项目：{'、'.join(keys) or '无'}")
            if parent.get("end_state"):
                self.stdout.write(f"  确认后：{parent['end_state']['text']}")
        for r in data["rounds"]:
            self.stdout.write(f"下级评选：{r['code']}  {r['title']}（{r['issuer']}）")
        if applicant is not None:
            self.stdout.write(f"申报单位：{applicant.name}（{applicant.code}）")
        for f in data["folds"]:
            cats = "、".join(f["categories"]) or "全部类别"
            note = f"  {f['note']}" if f["note"] else ""
            self.stdout.write(f"归口：{f['org']} 按 {f['into']} 申报（{cats}）{note}")
        spec = programme.parsed
        if spec.rubric is not None:
            self.stdout.write("专家评分细则：")
            for line in spec.rubric.lines():
                self.stdout.write(line)
        for b in data["batches"]:
            line = f"认定批次 {b['code']}：{b['name']}（数据截至 {b['data_cutoff']}，"
            line += f"认定 {b['assess_from']}–{b['assess_until']}）"
            self.stdout.write(line + (f"  {b['text']}" if b["text"] else ""))
        for d in data["notice"]:
            label = "通知全文" if d["role"] == "text" else d["title"]
            self.stdout.write(f"{label}：{d['file']}（{d['size']} 字节）")
        for c in data["categories"]:
            self.stdout.write(f"\n类别 {c['code']}：{c['name']}")
            for e in c["evidence"]:
                kinds = "、".join(k.upper() for k in e["accept"])
                self.stdout.write(
                    f"  材料：{e['label']}（{e['key']}）{kinds}，每个 ≤{e['max_mb']} MB，"
                    f"{e['min_count']}–{e['max_count']} 个"
                )
            for i, s in enumerate(c["stages"], 1):
                label = KIND_LABELS.get(s["kind"], s["kind"])
                parts = [f"  {i}. {s['name']}（{s['key']}，{label}）"]
                if s.get("skipped"):
                    parts.append(f"跳过：{s['skipped']}")
                else:
                    parts.append(f"办理：{s['actor_org']}")
                when = s["deadline"] or ("" if s.get("rule") else "—")
                rule = s.get("rule", "")
                parts.append(
                    f"截止：{when}（{rule}）" if when and rule else f"截止：{when or rule}"
                )
                if s["quota"]:
                    parts.append(f"名额：{s['quota']}")
                if s.get("completes"):
                    parts.append(f"联合审核：{s['completes']}")
                self.stdout.write("  ".join(parts))
            for q in c["quotas"]:
                tier = TIER_WORDS.get(q["level"], q["level"])
                self.stdout.write(f"  名额（{tier}）：{q['text']}")
            for r in c["set_rules"]:
                self.stdout.write(f"  集合规则 {r['id']}：{r['text']}。提示：{r['message']}")
            for t in c["titles"]:
                self.stdout.write(f"  称号：{t['text']}")
            if c["pilot_stages"]:
                self.stdout.write("  试点期：")
            for i, s in enumerate(c["pilot_stages"], 1):
                label = PILOT_KIND_LABELS.get(s["kind"], s["kind"])
                parts = [f"  {i}. {s['name']}（{s['key']}，{label}）", f"审核：{s['actor_org']}"]
                parts.append(f"期限：{s['deadline']}")
                if s["quota"]:
                    parts.append(s["quota"])
                self.stdout.write("  ".join(parts))
