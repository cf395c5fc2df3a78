"""Application forms as PDF, laid out like the notice's paper form, for printing and stamping.

The layout comes from the programme file, so a new notice needs no code: each section is a
band of a bordered four-column grid (label, value, label, value); short fields sit two to a
row, long ones take the row, long texts are printed in full under their label (with the
notice's outline as a hint), member lists and uploaded files are listed row by row. Then
the form's 意见 boxes in the file's order: filled with the level's recorded opinion, the
reviewer and the date where the level has acted on the printed version, blank otherwise,
with the signature, (公章) and date lines to sign and stamp by hand.

What is printed: a version the applicant submitted (``version=N``; by default the latest),
or, while the application is editable, the working copy as the version its submission will
be, which is what an applicant prints, stamps and uploads as the stamped scan before
submitting; ``draft=True`` prints it watermarked 草稿, to read over, not to stamp.

Every print carries a QR code in the top-right margin of each page (segno, vector SVG): the
application, the version, draft or final, and a digest of the content, signed
(``edupilot.applications.formcode``), which the stamped scan's upload checks.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property

import segno
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils import timezone

from edupilot.applications.formcode import FormCode, content_digest, current_version
from edupilot.applications.models import (
    EDITABLE_STATES,
    Application,
    ApplicationVersion,
    AppState,
    Attachment,
)
from edupilot.applications.presenters import display_value
from edupilot.applications.selectors import access_application, applications_for
from edupilot.orgs.models import Locality, Org, Role, Stage
from edupilot.orgs.scoping import Scope
from edupilot.programmes import schema
from edupilot.programmes.models import Programme
from edupilot.review.models import Deactivation, ReviewAction, ReviewDecision
from edupilot.selection.models import ApprovalDecision, ExpertGroupOpinion

from .pdf import render_pdf
from .stored import Stored, from_inputs, stored_content

TEMPLATE = "documents/notices/application_form.html"
STAGE_LABELS = dict(Stage.choices)
LOCALITY_LABELS = dict(Locality.choices)
# Forms in one ZIP at most: at about a second a form, more would run for well over an hour.
ZIP_MAX_FORMS = 3000


@dataclass
class Cell:
    label: str
    value: str = ""
    pre: bool = False


@dataclass
class Row:
    """One row of the grid. ``kind`` picks its layout in the template."""

    kind: str  # section | pair | full | long | bool | table_head | table_row | group | note
    cells: list[Cell] = field(default_factory=list)
    label: str = ""
    hint: str = ""
    text: str = ""
    headers: list[str] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)


@dataclass
class OpinionBox:
    title: str
    text: str = ""
    note: str = ""
    date: dt.date | None = None
    signer: str = "负责人（签字）"
    stamp: bool = True


@dataclass
class FormDocument:
    application: Application
    programme: Programme
    category: schema.Category
    form: schema.Form
    rows: list[Row]
    opinions: list[OpinionBox]
    version: int | None
    submitted_at: dt.datetime | None
    generated_at: dt.datetime
    code: FormCode | None = None

    @property
    def title(self) -> str:
        return self.form.title

    @property
    def org_name(self) -> str:
        return self.application.applicant_org.name

    @property
    def draft(self) -> bool:
        return self.code is not None and self.code.draft

    @property
    def code_text(self) -> str:
        return self.code.text() if self.code is not None else ""

    @cached_property
    def code_svg(self) -> str:
        """The QR code as an SVG data URI (vector: crisp at any print resolution)."""
        if self.code is None:
            return ""
        return segno.make(self.code_text, error="m", micro=False).svg_data_uri(border=0)

    @property
    def filename(self) -> str:
        if self.draft:
            which = "草稿"
        elif self.version:
            which = f"第{self.version}版"
        else:
            which = f"第{self.code.version}版（盖章用）" if self.code else "草稿"
        return f"{self.form.title}-{self.org_name}-{which}.pdf"

    @property
    def context(self) -> dict:
        return {"doc": self}


# --- what is printed ---------------------------------------------------------------------------


@dataclass
class _Content:
    data: dict
    topic: str
    members: list[dict]  # {"id", "code", "name"}
    attachments: list[dict]  # {"field", "filename", "size", "sha256"}
    version: int | None
    submitted_at: dt.datetime | None


def _content(application: Application, version: int | None) -> _Content:
    if version is None and application.state in EDITABLE_STATES:
        attachments = [
            {
                "field": a.field_key,
                "filename": a.filename,
                "size": a.blob.size,
                "sha256": a.blob.sha256,
            }
            for a in Attachment.objects.filter(application=application, is_current=True)
            .select_related("blob")
            .order_by("uploaded_at", "pk")
        ]
        members = list(
            Org.objects.filter(memberships_in_bids__application=application)
            .order_by("path")
            .values("id", "code", "name")
        )
        return _Content(application.data or {}, application.topic, members, attachments, None, None)
    number = version if version is not None else application.version
    v = ApplicationVersion.objects.filter(application=application, number=number).first()
    if v is None:
        raise Http404
    return _Content(
        v.data or {}, v.topic, v.members or [], v.attachments or [], v.number, v.submitted_at
    )


# --- the grid --------------------------------------------------------------------------------


def _short(f) -> bool:
    if f.type in ("phone", "email", "number", "date"):
        return True
    if f.type == "text":
        return f.max_length <= 60
    if f.type == "choice":
        return sum(len(o.label) + 2 for o in f.options) <= 14
    return False


def _choice_text(f, value) -> str:
    """The paper form's tick boxes: ■ chosen, □ not."""
    chosen = {
        str(v) for v in (value if isinstance(value, list) else [value]) if v not in (None, "")
    }
    if len(f.options) > 8:
        return display_value(f, value)
    return "\u3000".join(f"{'■' if o.value in chosen else '□'} {o.label}" for o in f.options)


def _value(f, value, topics) -> str:
    if f.type == "choice":
        return _choice_text(f, value)
    if f.type == "bool":
        return (
            "■ 是\u3000□ 否"
            if value is True
            else ("□ 是\u3000■ 否" if value is False else "□ 是\u3000□ 否")
        )
    return display_value(f, value, topics)


def _long_hint(f) -> str:
    parts = []
    if f.target_chars:
        parts.append(f"字数控制在 {f.target_chars} 字左右")
    if f.outline:
        parts.append("主要包括：" + "；".join(f"{i}. {x}" for i, x in enumerate(f.outline, 1)))
    return f"（{'，'.join(parts)}）" if parts else ""


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{max(1, round(n / 1024))} KB"


def _member_rows(members: list[dict]) -> list[Row]:
    orgs = {
        o.pk: o
        for o in Org.objects.filter(pk__in=[m["id"] for m in members if m.get("id")])
        .only("pk", "stages", "locality", "parent__name")
        .select_related("parent")
    }
    rows = [Row("table_head", headers=["序号", "学校名称", "学段 / 城乡", "学校代码"])]
    for i, m in enumerate(members, 1):
        o = orgs.get(m.get("id"))
        facts = ""
        if o is not None:
            stages = "、".join(str(STAGE_LABELS.get(s, s)) for s in o.stage_list)
            facts = " / ".join(x for x in (stages, str(LOCALITY_LABELS.get(o.locality, ""))) if x)
        rows.append(Row("table_row", table=[[str(i), m.get("name", ""), facts, m.get("code", "")]]))
    return rows


def _flush(rows: list[Row], pending: list[Cell]) -> None:
    """Short fields go two to a row; one left over takes the row alone."""
    if len(pending) == 2:
        rows.append(Row("pair", cells=list(pending)))
    elif pending:
        rows.append(Row("full", cells=list(pending)))
    pending.clear()


def form_rows(form: schema.Form, content: _Content, topics: list[schema.Topic]) -> list[Row]:
    rows: list[Row] = []
    data = content.data
    for section in form.sections:
        only = section.fields[0] if len(section.fields) == 1 else None
        if not (only is not None and only.type == "longtext" and only.label == section.title):
            rows.append(Row("section", label=section.title, hint=section.help))
        pending: list[Cell] = []

        for f in section.fields:
            value = data.get(f.key)
            if f.type == "topic" and not value:
                value = content.topic
            if _short(f):
                pending.append(Cell(f.label, _value(f, value, topics)))
                if len(pending) == 2:
                    _flush(rows, pending)
                continue
            _flush(rows, pending)
            if f.type == "longtext":
                rows.append(Row("long", label=f.label, hint=_long_hint(f), text=value or ""))
            elif f.type == "bool":
                rows.append(Row("bool", label=f.label, text=_value(f, value, topics)))
            elif f.type == "attachment":
                files = [a for a in content.attachments if a.get("field") == f.key]
                if not files:
                    rows.append(Row("full", cells=[Cell(f.label, "未上传")]))
                for a in files:
                    rows.append(
                        Row(
                            "full",
                            cells=[
                                Cell(
                                    f.label,
                                    f"{a['filename']}（{_size(int(a.get('size') or 0))}，"
                                    f"SHA-256 {str(a.get('sha256', ''))[:16]}…）",
                                )
                            ],
                        )
                    )
            elif f.type == "members":
                rows.append(Row("note", label=f"{f.label}（共 {len(content.members)} 所）"))
                rows.extend(_member_rows(content.members))
            elif f.type == "group":
                items = value or []
                rows.append(
                    Row(
                        "group",
                        label=f.label,
                        headers=[s.label for s in f.fields],
                        table=[
                            [_value(s, item.get(s.key), topics) for s in f.fields]
                            for item in items
                            if isinstance(item, dict)
                        ],
                    )
                )
            else:
                rows.append(Row("full", cells=[Cell(f.label, _value(f, value, topics))]))
        _flush(rows, pending)
    return rows


# --- the opinion boxes --------------------------------------------------------------------------


def _local(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def sees_expert_opinion(scope: Scope, programme: Programme) -> bool:
    """The expert group's opinion is the issuer's working record, not the applicant's."""
    if scope.is_platform_admin:
        return True
    return (
        scope.role in (Role.REVIEWER, Role.PROGRAMME_ADMIN) and scope.org_id == programme.issuer_id
    )


def _level_decisions(application: Application, version: int) -> dict[str, ReviewDecision]:
    latest: dict[str, ReviewDecision] = {}
    for d in (
        ReviewDecision.objects.filter(application=application, version=version)
        .select_related("org", "decided_by")
        .order_by("decided_at", "pk")
    ):
        if d.action == ReviewAction.RECOMMEND and d.deactivated_reason == Deactivation.WITHDRAWN:
            continue
        latest[d.level] = d
    return latest


def opinion_boxes(
    scope: Scope,
    application: Application,
    category: schema.Category,
    form: schema.Form,
    version: int | None,
) -> list[OpinionBox]:
    levels = {lvl.key: lvl for lvl in category.levels}
    # Who decides: the last level of the chain, or the approval stage where it is its own step.
    approval_stage = category.stage_of("approval")
    deciders = {category.levels[-1].key} if category.levels else set()
    if approval_stage is not None:
        levels.setdefault(approval_stage.key, approval_stage)
        deciders.add(approval_stage.key)
    current = version is not None and version == application.version
    chain_levels = {s["level"] for s in application.chain or []} if current else None
    decisions = _level_decisions(application, version) if version is not None else {}
    approval = None
    if current and deciders:
        approval = (
            ApprovalDecision.objects.filter(
                application=application, is_active=True, announcement__isnull=False
            )
            .select_related("decided_by")
            .first()
        )
    boxes = []
    for box in form.opinions:
        out = OpinionBox(box.title, stamp=box.stamp)
        if box.by == "experts":
            out.signer = "专家组成员签字"
            if version is not None and sees_expert_opinion(scope, application.programme):
                opinion = (
                    ExpertGroupOpinion.objects.filter(application=application)
                    .order_by("-recorded_at", "-id")
                    .first()
                )
                if opinion is not None:
                    out.text = opinion.text
                    out.note = "　".join(
                        x
                        for x in (
                            f"专家组成员：{opinion.signed_by}" if opinion.signed_by else "",
                            f"记录于 {_local(opinion.recorded_at)}",
                        )
                        if x
                    )
                    out.date = timezone.localtime(opinion.recorded_at).date()
            boxes.append(out)
            continue
        if box.by == "applicant":
            boxes.append(out)
            continue
        if box.by not in levels:
            # The form serves several categories; this box belongs to another one's chain.
            continue
        if chain_levels is not None and box.by not in chain_levels | deciders:
            out.note = "本申报不经此级审核。"
            boxes.append(out)
            continue
        d = decisions.get(box.by)
        if box.by in deciders and approval is not None and d is None:
            out.text = approval.opinion or approval.get_outcome_display()
            who = approval.decided_by.display_name if approval.decided_by else ""
            out.note = f"审定结果：{approval.get_outcome_display()}　审定人：{who}　{_local(approval.decided_at)}"
            out.date = timezone.localtime(approval.decided_at).date()
        elif d is not None:
            who = d.decided_by.display_name if d.decided_by else ""
            if d.action == ReviewAction.RECOMMEND:
                out.text = d.opinion or "同意推荐。"
                result = f"推荐（本级推荐排序第 {d.rank} 名）"
                if not d.active:
                    result += f"，{d.get_deactivated_reason_display()}"
            else:
                out.text = f"{d.get_action_display()}：{d.reasons}"
                result = d.get_action_display()
            out.note = f"{d.org.name}　审核人：{who}　{_local(d.decided_at)}　{result}"
            out.date = timezone.localtime(d.decided_at).date()
        boxes.append(out)
    return boxes


# --- entry points -----------------------------------------------------------------------------


def form_document(
    scope: Scope,
    application: Application,
    *,
    version: int | None = None,
    draft: bool = False,
    now: dt.datetime | None = None,
) -> FormDocument:
    """The printable form of ``application`` (already fetched through the scope)."""
    programme = application.programme
    spec = programme.parsed
    category = spec.category(application.category)
    if category is None:
        raise Http404
    form = spec.form_for(category)
    topics = [t for t in spec.topics if t.code in category.topics]
    content = _content(application, version)
    return FormDocument(
        application=application,
        programme=programme,
        category=category,
        form=form,
        rows=form_rows(form, content, topics),
        opinions=opinion_boxes(scope, application, category, form, content.version),
        version=content.version,
        submitted_at=content.submitted_at,
        generated_at=now or timezone.now(),
        code=_code(application, content, draft),
    )


def _code(application: Application, content: _Content, draft: bool) -> FormCode:
    ids = [m["id"] for m in content.members if m.get("id") is not None]
    digest = content_digest(content.data, content.topic, ids)
    number = content.version if content.version is not None else current_version(application)
    return FormCode(application.pk, number, draft, digest)


def access_form_document(
    scope: Scope, pk, *, version: int | None = None, draft: bool = False
) -> FormDocument:
    return form_document(scope, access_application(scope, pk), version=version, draft=draft)


def render_form(doc: FormDocument) -> bytes:
    return render_pdf(TEMPLATE, doc.context)


def form_inputs(doc: FormDocument) -> list:
    """Everything the form prints but its generation time: a new opinion is a new file."""
    return [
        TEMPLATE,
        doc.programme.title,
        doc.programme.doc_no,
        doc.category.name,
        doc.title,
        list(doc.form.instructions or []),
        doc.org_name,
        doc.version,
        doc.submitted_at,
        [asdict(r) for r in doc.rows],
        [asdict(b) for b in doc.opinions],
        doc.code_text,
    ]


def stored_form(doc: FormDocument) -> Stored:
    """The form as a stored document: rendered on the first click, served from then on."""
    return from_inputs(
        "application_form",
        doc.application.pk,
        form_inputs(doc),
        doc.filename,
        lambda: render_form(doc),
    )


# --- a queue's forms as one ZIP ----------------------------------------------------------------

QUEUES = {"pending": "待本级审核", "passed": "本级已推荐"}


def queue_applications(
    scope: Scope, programme: Programme, *, queue: str, category: str = ""
) -> QuerySet[Application]:
    """The applications of a reviewer's queue: at its level now, or recommended by it."""
    qs = applications_for(scope).filter(programme=programme)
    if category:
        qs = qs.filter(category=category)
    if queue == "pending":
        qs = qs.filter(
            current_org_id=scope.org_id, state__in=[AppState.SUBMITTED, AppState.RECOMMENDED]
        ).order_by("category", "submitted_at", "pk")
    elif queue == "passed":
        mine = ReviewDecision.objects.filter(
            application=OuterRef("pk"),
            org_id=scope.org_id,
            active=True,
            action=ReviewAction.RECOMMEND,
        )
        qs = qs.filter(Exists(mine)).order_by("category", "applicant_org__path", "pk")
    else:
        raise Http404
    return qs.select_related("programme", "applicant_org", "current_org")


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def forms_zip(
    scope: Scope,
    programme: Programme,
    *,
    queue: str,
    category: str = "",
    progress: Callable[..., None] | None = None,
) -> str:
    """Render every form of a queue into a ZIP file; return its (temporary) path."""
    apps = list(
        queue_applications(scope, programme, queue=queue, category=category)[: ZIP_MAX_FORMS + 1]
    )
    if len(apps) > ZIP_MAX_FORMS:
        from edupilot.core.jobs import JobError

        raise JobError(f"一次最多打包 {ZIP_MAX_FORMS} 份申报表，请按类别分别下载。")
    total = len(apps)
    if progress is not None:
        progress(0, total, "正在生成申报表")
    fd, path = tempfile.mkstemp(suffix=".zip", prefix="edupilot-forms-")
    os.close(fd)
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for i, app in enumerate(apps, 1):
                doc = form_document(scope, app)
                name = _UNSAFE.sub("_", f"{i:03d}-{app.applicant_org.name}-{doc.category.name}.pdf")
                zf.writestr(name, stored_content(stored_form(doc)))
                if progress is not None:
                    progress(i, total, f"已生成 {i} / {total} 份：{app.applicant_org.name}")
            if not apps:
                zf.writestr("说明.txt", "所选范围内没有申报。\n".encode())
    except BaseException:
        os.unlink(path)
        raise
    return path
