import json
import unicodedata

from django.core.management.base import BaseCommand, CommandError

from edupilot.audit.services import Actor
from edupilot.programmes import services
from edupilot.programmes.models import Programme
from edupilot.programmes.selectors import CategoryQuotas, QuotaLine, quota_overview

LEVEL_LABEL = {"province": "省级", "city": "市级", "county": "县级"}
POLICY_LABEL = {
    "table": "名额表",
    "percent": "按比例",
    "apportion": "按总数分配",
    "each": "每单位定额",
}


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, n: int, right: bool = False) -> str:
    gap = " " * max(0, n - width(text))
    return gap + text if right else text + gap


def holder_label(line: QuotaLine) -> str:
    row = line.row
    name = f"{row.holder.name}（{row.holder.code}）"
    if row.direct:
        name += f" 直属：{row.label or '直属单位'}"
    elif row.label and row.label not in row.holder.name:
        name += f" “{row.label}”"
    return name


def fmt(value) -> str:
    return "-" if value is None else str(value)


def line_json(line: QuotaLine) -> dict:
    row, alloc = line.row, line.allocation
    return {
        "holder": {"code": row.holder.code, "name": row.holder.name},
        "direct": row.direct,
        "label": row.label,
        "basis": row.basis,
        "notice_basis": row.notice_basis,
        "computed": row.computed,
        "notice_computed": row.notice_computed,
        "declared": row.declared,
        "difference": row.difference,
        "override": line.override,
        "override_reason": alloc.override_reason if alloc and alloc.override is not None else "",
        "overridden_by": (
            alloc.overridden_by.username if alloc and alloc.overridden_by is not None else None
        ),
        "overridden_at": (
            alloc.overridden_at.isoformat() if alloc and alloc.overridden_at else None
        ),
        "effective": line.effective,
        "unlimited": line.unlimited,
        "stored_effective": line.stored_effective,
        "derivation": row.derivation,
        "note": row.note,
    }


def overview_json(programme: Programme, overview: list[CategoryQuotas]) -> dict:
    cats = []
    for cq in overview:
        quotas = []
        for section in cq.sections:
            r = section.report
            quotas.append(
                {
                    "level": r.level,
                    "policy": r.policy,
                    "formula": r.formula,
                    "authority": r.authority if r.policy != "table" else "declared",
                    "unlisted": r.unlisted,
                    "unlisted_holders": [
                        {"code": h.code, "name": h.name} for h in r.unlisted_holders
                    ],
                    "note": r.note,
                    "declared_total": r.declared_total,
                    "total": section.total,
                    "total_matches_declared": section.total_matches,
                    "computed_total": r.computed_total,
                    "declared_rows_total": r.declared_rows_total,
                    "count_label": r.count_label,
                    "basis_total": r.basis_total,
                    "notice_basis_total": r.notice_basis_total,
                    "differences": [
                        {
                            "holder": ln.row.holder.code,
                            "computed": ln.row.computed,
                            "declared": ln.row.declared,
                        }
                        for ln in section.lines
                        if ln.row.differs
                    ],
                    "problems": r.problems,
                    "rows": [line_json(ln) for ln in section.lines],
                }
            )
        cats.append(
            {
                "code": cq.category.code,
                "name": cq.category.name,
                "cap": cq.category.cap,
                "quotas": quotas,
            }
        )
    return {
        "programme": {
            "code": programme.code,
            "title": programme.title,
            "doc_no": programme.doc_no,
            "issuer": {"code": programme.issuer.code, "name": programme.issuer.name},
        },
        "categories": cats,
    }


class Command(BaseCommand):
    help = (
        "Quotas: `quota show CODE [--category C] [--format json]` prints each org's quota and how "
        "it was derived; `quota sync CODE` recomputes formula quotas from today's org tree."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="print quotas, derivations, differences and totals")
        show.add_argument("code")
        show.add_argument("--category", default=None)
        show.add_argument("--format", choices=["text", "json"], default="text")
        sync = sub.add_parser("sync", help="recompute formula quotas from the org tree (audited)")
        sync.add_argument("code")

    def handle(self, *args, action, code, **options):
        programme = Programme.objects.select_related("issuer").filter(code=code).first()
        if programme is None:
            raise CommandError(f"项目 {code} 不存在（请先用 programme load 加载项目文件）")
        if action == "sync":
            changed = services.quota_resync(programme=programme, actor=Actor.system())
            for c in changed:
                self.stdout.write(
                    f"{c['category']} {c['holder']}{' 直属' if c['direct'] else ''}: "
                    f"{fmt(c['before'])} → {c['after']}"
                )
            self.stdout.write(f"{code}: {len(changed)} 个名额有变化")
            return
        category = options["category"]
        if category and programme.parsed.category(category) is None:
            codes = ", ".join(c.code for c in programme.parsed.categories)
            raise CommandError(f"项目 {code} 没有类别 {category}（可用：{codes}）")
        overview = quota_overview(programme, category)
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(overview_json(programme, overview), ensure_ascii=False, indent=2)
            )
            return
        self.write_text(programme, overview)

    def write_text(self, programme: Programme, overview: list[CategoryQuotas]) -> None:
        w = self.stdout.write
        w(f"{programme.title}（{programme.code}）{programme.doc_no}")
        w(f"发文单位：{programme.issuer.name}（{programme.issuer.code}）")
        for cq in overview:
            c = cq.category
            w("")
            w(f"== 类别 {c.code} {c.name}" + (f" · 立项上限 {c.cap}" if c.cap is not None else ""))
            if not cq.sections:
                w("   通知未设名额：各级可推荐的数量不受限制。")
                continue
            for section in cq.sections:
                self.write_section(section)

    def write_section(self, section) -> None:
        w = self.stdout.write
        r = section.report
        policy = POLICY_LABEL[r.policy] + (f"（{r.formula}）" if r.policy != "table" else "")
        w(f"   名额层级：{LEVEL_LABEL.get(r.level, r.level)} · 政策：{policy}")
        if r.policy not in ("table", "each"):
            w(
                "   以"
                + ("通知公布的名额表" if r.authority == "declared" else "公式计算结果")
                + "为准；名额表未列的单位："
                + ("不限" if r.unlisted == "unlimited" else "0 个")
            )
        else:
            names = "、".join(f"{h.name}（{h.code}）" for h in r.unlisted_holders)
            w(
                "   名额表未列的单位："
                + ("不限" if r.unlisted == "unlimited" else "0 个")
                + (f"：{names}" if names else "（无）")
            )
        if r.note:
            w(f"   依据：{r.note}")
        formula = r.policy not in ("table", "each")
        headers = ["单位", "计数", "公式", "名额表", "差异", "调整", "有效"]
        table = []
        for ln in section.lines:
            row = ln.row
            diff = row.difference
            table.append(
                [
                    holder_label(ln),
                    fmt(row.basis),
                    fmt(row.computed),
                    fmt(row.declared),
                    "" if not diff else f"{diff:+d}",
                    fmt(ln.override) if ln.override is not None else "",
                    "不限" if ln.unlimited else str(ln.effective),
                ]
            )
        if not formula:
            headers = [h for i, h in enumerate(headers) if i not in (1, 2, 4)]
            table = [[v for i, v in enumerate(t) if i not in (1, 2, 4)] for t in table]
        widths = [max(width(h), *(width(t[i]) for t in table)) for i, h in enumerate(headers)]
        w("   " + "  ".join(pad(h, widths[i], i > 0) for i, h in enumerate(headers)))
        for t in table:
            w("   " + "  ".join(pad(v, widths[i], i > 0) for i, v in enumerate(t)))
        explained = [
            ln
            for ln in section.lines
            if formula or r.policy == "each" or ln.row.note or ln.override is not None or ln.stale
        ]
        if explained:
            w("   推导：")
        for ln in explained:
            extra = f"（{ln.row.note}）" if ln.row.note else ""
            w(f"     {holder_label(ln)}：{ln.row.derivation}{extra}")
            if ln.override is not None:
                a = ln.allocation
                who = a.overridden_by.username if a.overridden_by else "system"
                when = a.overridden_at.strftime("%Y-%m-%d %H:%M") if a.overridden_at else ""
                w(f"       人工调整为 {ln.override}：{a.override_reason}（{who} {when}）")
            if ln.stale:
                w(
                    f"       数据库中的有效名额为 {ln.stored_effective}，与当前机构树不一致，"
                    "请运行 quota sync"
                )
        self.write_totals(section)

    def write_totals(self, section) -> None:
        w = self.stdout.write
        r = section.report
        mark = {True: "✓ 一致", False: "✗ 不一致", None: ""}
        if r.declared_total is not None:
            w(
                f"   合计：有效名额 {section.total}，通知公布合计 {r.declared_total} {mark[section.total_matches]}"
            )
        else:
            w(f"   合计：有效名额 {section.total}（通知未公布合计）")
        rows_total = r.declared_rows_total
        if rows_total is not None and r.declared_total is not None:
            ok = rows_total == r.declared_total
            w(f"   名额表各行之和 {rows_total}，通知公布合计 {r.declared_total} {mark[ok]}")
        if r.policy not in ("table", "each"):
            computed = r.computed_total
            if computed is not None and r.declared_total is not None:
                ok = computed == r.declared_total
                w(f"   按公式计算合计 {computed}，通知公布合计 {r.declared_total} {mark[ok]}")
            if r.basis_total is not None:
                line = f"   公式所用{r.count_label}合计：当前机构树 {r.basis_total}"
                if r.notice_basis_total is not None and r.notice_basis_total != r.basis_total:
                    line += f"；通知发布时 {r.notice_basis_total}"
                w(line)
            diffs = [ln for ln in section.lines if ln.row.differs]
            if diffs:
                w("   公式与名额表不一致的单位：")
                for ln in diffs:
                    row = ln.row
                    then = ""
                    if row.notice_computed is not None:
                        then = f"；按通知发布时计数 {row.notice_basis} 计算为 {row.notice_computed}"
                    w(
                        f"     {row.holder.name}：公式 {row.computed}（计数 {row.basis}）{then}，"
                        f"名额表 {row.declared}，差 {row.difference:+d}"
                    )
            else:
                w("   公式与名额表一致。")
        for ln in section.overridden:
            w(f"   人工调整：{holder_label(ln)} {ln.row.effective} → {ln.override}")
