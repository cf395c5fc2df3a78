"""Outputs: results tables (XLSX) per district and for the city, an import's row report,
a school's unmet-indicator report (XLSX and PDF) and certificates (PDF)."""

from __future__ import annotations

from django.utils import timezone

from edupilot.documents.xlsx import Column, XlsxExport
from edupilot.orgs.scoping import Scope

from .models import Batch, EntryState, ImportRun
from .selectors import EntryView, entries_for
from .selfgate import gate_reason, rules_for


def dimension_names(batch: Batch) -> dict[str, str]:
    """Dimension key → name over every standard the batch assesses with."""
    standards = [batch.standard, *batch.additional_standards.all()]
    standards += [bs.standard for bs in batch.district_standards.select_related("standard")]
    names: dict[str, str] = {}
    for std in standards:
        for s in std.chain():
            for d in s.dimensions:
                names.setdefault(d["key"], d.get("name", d["key"]))
    return names


class BatchResultsExport(XlsxExport):
    """One row per school: assessment, decision and filing. A district sees its own."""

    columns = [
        Column("序号", 6, "int"),
        Column("认定单位", 16),
        Column("学校代码", 14),
        Column("学校名称", 30),
        Column("学段", 12),
        Column("状态", 10),
        Column("免认定称号", 24),
        Column("评估结果", 10),
        Column("得分", 8, "number"),
        Column("认定等级", 10),
        Column("维度得分", 30, wrap=True),
        Column("未达到基本要求项数", 10, "int"),
        Column("缺数据项数", 8, "int"),
        Column("未达到的指标", 30, wrap=True),
        Column("认定结论", 12),
        Column("认定意见", 30, wrap=True),
        Column("结论时间", 17, "datetime"),
        Column("报备时间", 17, "datetime"),
    ]

    # With a self-assessment batch: the school's own scores beside the assessed ones.
    self_columns = [
        Column("自评总分", 10, "number"),
        Column("自评满分", 10, "number"),
        Column("自评维度得分", 30, wrap=True),
        Column("申报条件", 30, wrap=True),
    ]

    def __init__(self, *, scope: Scope, batch: Batch, certifier_id: int | None = None):
        self.scope, self.batch, self.certifier_id = scope, batch, certifier_id
        where = "全市" if certifier_id is None else ""
        self.title = f"{batch.name}认定结果{where}"
        self.heading = f"{batch.name}智慧校园认定结果汇总表（数据截至 {batch.cutoff:%Y-%m-%d}）"
        self.dimension_names = dimension_names(batch)
        self.self_rules = rules_for(batch)
        # The self columns follow the assessed dimension scores, in the header and each row.
        self.self_at = [c.header for c in self.columns].index("维度得分") + 1
        if self.self_rules is not None:
            at = self.self_at
            self.columns = [*self.columns[:at], *self.self_columns, *self.columns[at:]]

    def _self_cells(self, e) -> list:
        sa = getattr(e, "self_assessment", None)
        if e.state == EntryState.EXEMPT:
            return [None, None, "", "自动认定，无需自评"]
        if sa is None:
            return [None, None, "", gate_reason(self.self_rules, None)]
        gate = gate_reason(self.self_rules, sa)
        return [sa.total, sa.max_total, sa.dimension_text(), gate or "符合"]

    def queryset(self):
        qs = entries_for(self.scope, self.batch).select_related("filing")
        if self.self_rules is not None:
            qs = qs.select_related("self_assessment")
        if self.certifier_id is not None:
            qs = qs.filter(certifier_id=self.certifier_id)
        return qs.order_by("certifier__path", "school__path")

    def total(self):
        return self.queryset().count()

    def filename(self) -> str:
        return f"{self.title}.xlsx"

    def rows(self):
        for n, e in enumerate(self.queryset().iterator(chunk_size=2000), start=1):
            unmet = []
            for s in (e.result or {}).get("standards", []):
                unmet += [c for c in s.get("unmet_basic", []) if c not in unmet]
            row = [
                n,
                "市直属" if e.certifier_id == self.batch.owner_id else e.certifier.name,
                e.school.code,
                e.school.name,
                e.get_stages_display(),
                e.get_state_display(),
                e.exempt_title.title if e.exempt_title else "",
                "" if e.state == EntryState.EXEMPT else e.get_provisional_display(),
                e.score,
                e.grade_name if e.decision else e.provisional_grade,
                e.dimension_subtotals(self.dimension_names),
                None if e.state == EntryState.EXEMPT else e.unmet_count,
                None if e.state == EntryState.EXEMPT else e.missing_count,
                "、".join(unmet),
                e.get_decision_display() if e.decision else "",
                e.opinion,
                e.decided_at,
                e.filing.filed_at if e.filing else None,
            ]
            if self.self_rules is not None:
                row[self.self_at : self.self_at] = self._self_cells(e)
            yield row


class ImportIssuesExport(XlsxExport):
    columns = [
        Column("行号", 8, "int"),
        Column("列", 20),
        Column("学校", 30),
        Column("问题", 60, wrap=True),
    ]

    def __init__(self, run: ImportRun):
        self.run = run
        self.title = "导入问题清单"
        self.heading = (
            f"{run.source.name}：{run.filename}（数据日期 {run.as_of:%Y-%m-%d}，"
            f"共 {run.total_rows} 行，匹配 {run.matched_rows} 行，问题 {run.issue_count} 条）"
        )

    def filename(self) -> str:
        return f"导入问题清单-{self.run.pk}.xlsx"

    def total(self):
        return self.run.issues.count()

    def rows(self):
        if self.run.message:
            yield [0, "", "", self.run.message]
        for issue in self.run.issues.iterator(chunk_size=2000):
            yield [issue.row, issue.column, issue.school, issue.message]


class SchoolReportExport(XlsxExport):
    """What a school still has to build: every basic indicator not met or without data."""

    columns = [
        Column("标准", 20),
        Column("维度", 12),
        Column("指标代码", 10),
        Column("指标", 26),
        Column("状态", 10),
        Column("现有数据", 14),
        Column("基本要求", 14),
        Column("发展要求", 14),
        Column("数据来源", 30),
        Column("说明", 40, wrap=True),
    ]

    def __init__(self, view: EntryView):
        self.view = view
        entry = view.entry
        if view.self_rules is not None:  # the school's own points beside the assessed ones
            self.columns = [
                *self.columns,
                Column("得分", 8, "number"),
                Column("自评得分", 10, "number"),
            ]
        self.title = "未达标指标清单"
        self.heading = (
            f"{entry.school.name} · {entry.batch.name} · 生成于 {timezone.localdate():%Y-%m-%d}"
        )

    def filename(self) -> str:
        return f"{self.view.entry.school.name}-未达标指标清单.xlsx"

    def rows(self):
        for section, row in self.view.unmet_rows:
            ind = row.indicator
            yield [
                str(section.standard),
                ind.dimension_name,
                ind.code,
                ind.name,
                row.status_label,
                row.value_text,
                row.threshold_text,
                row.advanced_text,
                row.source_text,
                ind.description,
                *(
                    [row.points, None if row.self_points is None else float(row.self_points)]
                    if self.view.self_rules is not None
                    else []
                ),
            ]
