"""Certification's lifecycles as transition tables.

One table per object with a state: a batch, a school in it (entry), a school's correction of
its data, a site visit, an import run. Each row says from which state(s) to which state,
by which service, who may take it (the permission predicate in ``permissions.py``) and,
where a page offers it, the button's text and the URL of its form. Every state change in
certification goes through :meth:`~edupilot.core.workflow.Workflow.advance` or
:meth:`~edupilot.core.workflow.Workflow.advance_many` of these tables; the pages' buttons
come from :meth:`~edupilot.core.workflow.Workflow.actions` (see ``selectors.py``).

A filing (报备) has no state of its own: filing moves the district's entries from decided to
filed, returning it moves them back; the filing row keeps ``returned_at`` as history.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from edupilot.core.workflow import NEW, T, Workflow

from .models import BatchState, CorrectionState, EntryState, ImportState, VisitState

SERVICES = "edupilot.certification.services"
CAN = "edupilot.certification.permissions"

OWNER_ADMIN = _("组织单位项目管理员")
BUREAU = _("教育行政部门审核人、项目管理员")
CERTIFIER = _("认定单位（区、县（市）或市直属学校的市教育局）")
DISTRICT = _("区、县（市）认定单位")
SCHOOL = _("学校")
TEAM = _("核查组成员或认定单位")
SYSTEM = _("系统（按机构库与称号名单）")


BATCH = Workflow(
    "certification.batch",
    "certification.Batch",
    BatchState,
    [
        T("create", NEW, BatchState.OPEN, f"{SERVICES}.batch_create",
          who=OWNER_ADMIN, label=_("设立认定批次"), permission=f"{CAN}.can_create_batch"),
        T("sync", BatchState.OPEN, BatchState.OPEN, f"{SERVICES}.batch_sync_roster",
          who=OWNER_ADMIN, label=_("按机构库更新认定名单"),
          permission=f"{CAN}.can_manage_batch", url="certification:batch_sync",
          style="secondary"),
        T("import_titles", BatchState.OPEN, BatchState.OPEN, f"{SERVICES}.titles_import",
          who=OWNER_ADMIN, label=_("导入名单"), permission=f"{CAN}.can_manage_batch"),
        T("adopt_standard", BatchState.OPEN, BatchState.OPEN,
          f"{SERVICES}.batch_adopt_standard", who=DISTRICT, label=_("选用"),
          permission=f"{CAN}.can_adopt_standard"),
        T("import", BatchState.OPEN, BatchState.OPEN, f"{SERVICES}.import_prepare",
          who=BUREAU, label=_("导入数据"), permission=f"{CAN}.can_import_data"),
        T("assess", BatchState.OPEN, BatchState.OPEN, f"{SERVICES}.batch_assess",
          who=BUREAU, label=_("重新评估"), permission=f"{CAN}.can_import_data",
          url="certification:batch_assess", style="secondary"),
        T("freeze", BatchState.OPEN, BatchState.FROZEN, f"{SERVICES}.batch_freeze",
          who=OWNER_ADMIN, label=_("冻结数据"), permission=f"{CAN}.can_manage_batch",
          url="certification:batch_freeze", style="danger"),
        T("publish", BatchState.FROZEN, BatchState.PUBLISHED, f"{SERVICES}.batch_publish",
          who=OWNER_ADMIN, label=_("公布认定名单"), permission=f"{CAN}.can_manage_batch",
          url="certification:batch_publish"),
    ],
    title=_("认定批次"),
)  # fmt: skip


ENTRY = Workflow(
    "certification.entry",
    "certification.Entry",
    EntryState,
    [
        T("enrol", NEW, EntryState.QUEUED, f"{SERVICES}.batch_sync_roster",
          who=SYSTEM, label=_("纳入认定")),
        T("enrol_exempt", NEW, EntryState.EXEMPT, f"{SERVICES}.batch_sync_roster",
          who=SYSTEM, label=_("自动认定")),
        T("exempt", EntryState.QUEUED, EntryState.EXEMPT, f"{SERVICES}.batch_sync_roster",
          who=SYSTEM, label=_("自动认定（持有称号）")),
        T("unexempt", EntryState.EXEMPT, EntryState.QUEUED, f"{SERVICES}.batch_sync_roster",
          who=SYSTEM, label=_("取消自动认定（不再持有称号）")),
        T("decide", [EntryState.QUEUED, EntryState.DECIDED], EntryState.DECIDED,
          f"{SERVICES}.entry_decide", who=CERTIFIER, label=_("作出结论"),
          permission=f"{CAN}.can_decide_entry", url="certification:entry_decide"),
        T("file", EntryState.DECIDED, EntryState.FILED, f"{SERVICES}.filing_submit",
          who=DISTRICT, label=_("一键报备"), permission=f"{CAN}.can_file_results"),
        T("reopen", EntryState.FILED, EntryState.DECIDED, f"{SERVICES}.filing_return",
          who=OWNER_ADMIN, label=_("退回报备"), permission=f"{CAN}.can_return_filing"),
    ],
    title=_("认定对象（一所学校）"),
)  # fmt: skip


CORRECTION = Workflow(
    "certification.correction",
    "certification.Correction",
    CorrectionState,
    [
        T("file", NEW, CorrectionState.PENDING, f"{SERVICES}.correction_file",
          who=SCHOOL, label=_("提交更正申请"), permission=f"{CAN}.can_file_correction",
          url="certification:correction_file"),
        T("accept", CorrectionState.PENDING, CorrectionState.ACCEPTED,
          f"{SERVICES}.correction_decide", who=CERTIFIER, label=_("采纳"),
          permission=f"{CAN}.can_decide_correction", url="certification:correction_decide"),
        T("reject", CorrectionState.PENDING, CorrectionState.REJECTED,
          f"{SERVICES}.correction_decide", who=CERTIFIER, label=_("不予采纳"),
          permission=f"{CAN}.can_decide_correction", url="certification:correction_decide",
          style="secondary"),
    ],
    title=_("数据更正"),
)  # fmt: skip


VISIT = Workflow(
    "certification.visit",
    "certification.SiteVisit",
    VisitState,
    [
        T("assign", NEW, VisitState.ASSIGNED, f"{SERVICES}.visit_assign",
          who=CERTIFIER, label=_("安排"), permission=f"{CAN}.can_assign_visit",
          url="certification:visit_assign", style="secondary"),
        T("record_finding", VisitState.ASSIGNED, VisitState.ASSIGNED,
          f"{SERVICES}.finding_record", who=TEAM, label=_("记录"),
          permission=f"{CAN}.can_record_finding", url="certification:finding_record"),
        T("complete", VisitState.ASSIGNED, VisitState.DONE, f"{SERVICES}.visit_complete",
          who=TEAM, label=_("完成核查"), permission=f"{CAN}.can_complete_visit",
          url="certification:visit_complete", style="secondary"),
    ],
    title=_("实地核查"),
)  # fmt: skip


IMPORT = Workflow(
    "certification.import",
    "certification.ImportRun",
    ImportState,
    [
        T("start", NEW, ImportState.RUNNING, f"{SERVICES}.import_prepare",
          who=BUREAU, label=_("导入"), permission=f"{CAN}.can_import_data"),
        T("retry", ImportState.FAILED, ImportState.RUNNING, f"{SERVICES}.import_prepare",
          who=BUREAU, label=_("重新导入"), permission=f"{CAN}.can_import_data"),
        T("finish", ImportState.RUNNING, ImportState.DONE, f"{SERVICES}.import_execute",
          who=_("系统（后台任务）"), label=_("完成导入")),
        T("fail", ImportState.RUNNING, ImportState.FAILED, f"{SERVICES}.import_execute",
          who=_("系统（后台任务）"), label=_("导入失败")),
    ],
    title=_("数据导入"),
)  # fmt: skip


WORKFLOWS = (BATCH, ENTRY, CORRECTION, VISIT, IMPORT)
