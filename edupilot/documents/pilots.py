"""The pilot period's paper forms and the acceptance results table.

- :func:`submission_document` / :func:`render_submission`: a plan, report, acceptance or case
  as PDF, laid out like an application form (the stage's form through
  :func:`~edupilot.documents.forms.form_rows`), then the 意见 boxes of the levels that handle
  it: the unit's own (填报单位意见, stamped), its approver's (督导单位审核意见 — or the
  issuer's where the file says it approves — filled with the accept/return opinion and date
  once decided), and for acceptance materials the expert panel's summary (mean score,
  suggested grade) and the issuer's decision (grade and opinion).
- :class:`AcceptanceResults`: the issuer's XLSX of every acceptance in a programme (unit,
  grade, mean score, the experts who scored, decision date).

What is printed: a submitted version (``version=N``; by default the latest), or the working
draft while the unit may still edit it (printed, stamped and scanned, as for applications).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.http import Http404
from django.utils import timezone

from edupilot.orgs.scoping import Scope
from edupilot.pilots.acceptance import acceptance_summary
from edupilot.pilots.models import (
    Pilot,
    Submission,
    SubmissionAttachment,
    SubmissionState,
    SubmissionVersion,
)
from edupilot.pilots.pages_stages import awards_page
from edupilot.pilots.periods import find_period
from edupilot.pilots.selectors import access_submission
from edupilot.pilots.services import stage_form
from edupilot.programmes.models import Programme
from edupilot.programmes.pilot_schema import PilotStageBase

from .forms import OpinionBox, Row, _Content, _local, form_rows
from .pdf import render_pdf
from .stored import Stored, from_inputs
from .xlsx import Column, XlsxExport

TEMPLATE = "documents/pilots/submission_form.html"
EDITABLE = (SubmissionState.DRAFT, SubmissionState.RETURNED)
OUTCOMES = {"accepted": "审核通过", "returned": "退回修改"}


@dataclass
class SubmissionDocument:
    submission: Submission
    pilot: Pilot
    stage: PilotStageBase
    period_label: str
    rows: list[Row]
    opinions: list[OpinionBox]
    version: int | None
    submitted_at: dt.datetime | None
    generated_at: dt.datetime

    @property
    def title(self) -> str:
        return self.stage.name + (f"（{self.period_label}）" if self.period_label else "")

    @property
    def org_name(self) -> str:
        return self.pilot.unit.name

    @property
    def filename(self) -> str:
        which = f"第{self.version}版" if self.version else "草稿"
        return f"{self.title}-{self.org_name}-{which}.pdf"

    @property
    def context(self) -> dict:
        return {"doc": self}


# --- what is printed ---------------------------------------------------------------------------


def _content(sub: Submission, version: int | None) -> tuple[_Content, SubmissionVersion | None]:
    if version is None and (sub.state in EDITABLE or not sub.version):
        files = [
            {"field": a.field_key, "filename": a.filename, "size": a.blob.size,
             "sha256": a.blob.sha256}
            for a in SubmissionAttachment.objects.filter(submission=sub, is_current=True)
            .select_related("blob")
            .order_by("uploaded_at", "pk")
        ]  # fmt: skip
        return _Content(sub.data or {}, "", [], files, None, None), None
    number = version if version is not None else sub.version
    v = (
        SubmissionVersion.objects.filter(submission=sub, number=number)
        .select_related("submitted_by", "decided_by")
        .first()
    )
    if v is None:
        raise Http404
    return _Content(v.data or {}, "", [], v.attachments or [], v.number, v.submitted_at), v


# --- the opinion boxes --------------------------------------------------------------------------


def _who(user) -> str:
    return user.display_name if user else ""


def _day(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localtime(moment).date() if moment else None


def _unit_box(sub: Submission, v: SubmissionVersion | None) -> OpinionBox:
    box = OpinionBox("填报单位意见")
    if v is not None:
        box.note = (
            f"{sub.pilot.unit.name}　提交人：{_who(v.submitted_by)}　{_local(v.submitted_at)}"
        )
        box.date = _day(v.submitted_at)
    return box


def _approver_box(
    stage: PilotStageBase, v: SubmissionVersion | None, *, title: str = ""
) -> OpinionBox:
    """The approver's box: the supervisor's, or the issuer's where the file names it. The
    acceptance materials always pass the supervisor's box (its sign-off before the issuer
    grades); the issuer's return is then printed in the decision box."""
    issuer = stage.approver == "issuer"
    box = OpinionBox(title or ("发文单位审核意见" if issuer else "督导单位审核意见"))
    if stage.kind == "acceptance" and not title:
        box.title = "督导单位审核意见"
        if issuer:
            return box
    if v is not None and v.outcome in OUTCOMES:
        result = OUTCOMES[v.outcome]
        box.text = v.reason or "同意。"
        if v.outcome == "returned":
            box.text = f"退回修改：{v.reason}"
        box.note = f"审核结果：{result}　审核人：{_who(v.decided_by)}　{_local(v.decided_at)}"
        box.date = _day(v.decided_at)
    return box


def _panel_box(sub: Submission, current: bool) -> OpinionBox:
    box = OpinionBox("验收专家组意见", signer="专家组组长（签字）", stamp=False)
    if not current:
        return box
    s = acceptance_summary(sub)
    if s.mean is None:
        box.note = f"专家评分尚未提交（至少需 {s.needed} 位专家评分）。"
        return box
    text = f"{len(s.totals)} 位专家提交评分，平均分 {s.mean}"
    if s.percent is not None:
        text += f"（得分率 {s.percent}%）"
    if s.suggested is not None:
        text += f"，按分数段建议等级：{s.suggested.name}"
    if s.mandatory_unmet:
        text += f"；必达项未达到（{'；'.join(s.mandatory_unmet)}），不能评为通过等级"
    box.text = text + "。"
    return box


def _decision_box(
    sub: Submission, stage: PilotStageBase, v: SubmissionVersion | None
) -> OpinionBox:
    box = OpinionBox("发文单位验收结论")
    if stage.approver == "issuer" and v is not None and v.outcome == "returned":
        return _approver_box(stage, v, title=box.title)  # the issuer sent it back unscored
    pilot = sub.pilot
    decided = (
        v is not None
        and pilot.grade
        and sub.decided_at is not None
        and sub.decided_at >= v.submitted_at
    )
    if decided:
        box.text = f"验收等级：{pilot.grade_name}。{sub.reason}".strip()
        box.note = f"评定人：{_who(sub.decided_by)}　{_local(sub.decided_at)}"
        box.date = _day(sub.decided_at)
    return box


def opinion_boxes(
    sub: Submission, stage: PilotStageBase, v: SubmissionVersion | None
) -> list[OpinionBox]:
    boxes = [_unit_box(sub, v), _approver_box(stage, v)]
    if stage.kind == "acceptance":
        current = v is not None and v.number == sub.version
        boxes += [_panel_box(sub, current), _decision_box(sub, stage, v)]
    return boxes


# --- entry points -------------------------------------------------------------------------------


def submission_document(
    sub: Submission, *, version: int | None = None, now: dt.datetime | None = None
) -> SubmissionDocument:
    """The printable form of ``sub`` (already fetched through the scope)."""
    pilot = sub.pilot
    stage = pilot.spec.stage(sub.stage) if pilot.spec else None
    if stage is None:
        raise Http404
    content, v = _content(sub, version)
    period = find_period(pilot, stage, sub.period) if sub.period else None
    return SubmissionDocument(
        submission=sub,
        pilot=pilot,
        stage=stage,
        period_label=period.label if period else sub.period,
        rows=form_rows(stage_form(stage), content, []),
        opinions=opinion_boxes(sub, stage, v),
        version=content.version,
        submitted_at=content.submitted_at,
        generated_at=now or timezone.now(),
    )


def access_submission_document(
    scope: Scope, pk, *, version: int | None = None
) -> SubmissionDocument:
    return submission_document(access_submission(scope, pk), version=version)


def render_submission(doc: SubmissionDocument) -> bytes:
    return render_pdf(TEMPLATE, doc.context)


def submission_inputs(doc: SubmissionDocument) -> list:
    """Everything the form prints but its generation time: a new opinion is a new file."""
    programme = doc.pilot.programme
    return [
        TEMPLATE,
        programme.title,
        programme.doc_no,
        doc.pilot.category_name,
        doc.stage.kind_label,
        doc.title,
        doc.org_name,
        doc.version,
        doc.submitted_at,
        [asdict(r) for r in doc.rows],
        [asdict(b) for b in doc.opinions],
    ]


def stored_submission(doc: SubmissionDocument) -> Stored:
    """The form as a stored document: rendered on the first click, served from then on."""
    return from_inputs(
        "pilot_submission",
        doc.submission.pk,
        submission_inputs(doc),
        doc.filename,
        lambda: render_submission(doc),
    )


# --- the acceptance results ---------------------------------------------------------------------


class AcceptanceResults(XlsxExport):
    """Every acceptance of a programme: grade, mean score, the experts who scored."""

    title = "验收结果汇总表"
    columns = [
        Column("序号", 6, "int"),
        Column("单位", 36),
        Column("类别", 14),
        Column("试点状态", 12),
        Column("验收等级", 10),
        Column("平均分", 10, "number"),
        Column("得分率（%）", 12, "number"),
        Column("评分专家", 30, wrap=True),
        Column("评定时间", 18, "datetime"),
    ]

    def __init__(self, programme: Programme):
        self.programme = programme
        self.heading = f"{programme.title}·验收结果汇总表"

    def filename(self) -> str:
        return f"验收结果-{self.programme.title}.xlsx"

    def _submissions(self):
        return (
            Submission.objects.filter(pilot__programme=self.programme, kind="acceptance")
            .select_related("pilot", "pilot__unit", "pilot__programme")
            .prefetch_related("reviews__expert")
            .order_by("pilot__unit_path", "pk")
        )

    def rows(self):
        for i, sub in enumerate(self._submissions(), start=1):
            pilot = sub.pilot
            pilot.programme = self.programme
            s = acceptance_summary(sub)
            experts = "、".join(
                _who(r.expert)
                for r in sub.reviews.all()
                if r.is_active and r.submitted_at and r.total is not None
            )
            decided = sub.decided_at if pilot.grade else None
            yield [
                i, pilot.unit.name, pilot.category_name, pilot.get_state_display(),
                pilot.grade_name, s.mean, s.percent if s.percent is not None else pilot.score,
                experts, decided,
            ]  # fmt: skip


# --- the award decision (以奖代补的决定) ----------------------------------------------------


AWARD_TEMPLATE = "documents/pilots/award_decision.html"


def award_decision(programme: Programme, stage_key: str, now: dt.datetime | None = None) -> dict:
    """The printable decision of one awards stage: fund, budget, each award and the total."""
    page = awards_page(None, programme)
    block = next((s for s in page["stages"] if s["stage"].key == stage_key), None)
    if block is None:
        raise Http404
    total = sum((a.amount for a in block["awards"]), Decimal(0))
    return {
        "programme": programme,
        "stage": block["stage"],
        "awards": block["awards"],
        "budget": block["budget"],
        "total": total,
        "issuer": programme.issuer.name,
        "decided_at": max((a.decided_at for a in block["awards"]), default=None),
        "generated_at": now or timezone.now(),
        "filename": f"{programme.title}-{block['stage'].name}决定.pdf",
    }


def render_award_decision(doc: dict) -> bytes:
    return render_pdf(AWARD_TEMPLATE, doc)
