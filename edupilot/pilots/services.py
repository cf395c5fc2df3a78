"""What a pilot hands in: plans, periodic reports, acceptance materials and cases.

The unit saves a draft (:func:`submission_save`, the row is made on the first save for its
stage and period, with the due time fixed then), attaches files (:func:`submission_attach`)
and submits (:func:`submission_submit`): the full check runs, a frozen
:class:`~.models.SubmissionVersion` is written and the first submission time is kept, so a
report returned and handed in again is not made late by the return. The stage's approver
accepts (:func:`submission_accept`) or returns it with a reason (:func:`submission_return`).

Every write locks the pilot, then the submission (always in that order), checks the
permission predicate again, saves, records an audit event and notifies (e-mails go out when
the transaction commits).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.applications import formspec
from edupilot.applications.files import UploadRejected, blob_store
from edupilot.audit.services import Actor, audit_record
from edupilot.core.errors import Denied, Refused, check, posted_text
from edupilot.core.notifications import notify
from edupilot.orgs.models import Role
from edupilot.orgs.scoping import Scope
from edupilot.programmes import schema
from edupilot.programmes.pilot_schema import PilotStageBase

from .models import Pilot, PilotState, Submission, SubmissionAttachment, SubmissionVersion
from .periods import Period, find_period, today_beijing
from .permissions import (
    can_accept_submission,
    can_edit_submission,
    can_return_submission,
    can_submit_submission,
    is_approver,
    is_unit,
)
from .workflows import PILOT, SUBMISSION

SUBMITTABLE_KINDS = ("plan", "reports", "acceptance", "cases")
REASON_MAX = 2000


class SubmissionError(Refused):
    """A refused plan, report, acceptance or case action; ``errors`` name the fields."""


class StaleSubmission(SubmissionError):
    """The draft changed since the caller read it (the API's ``revision``): 409."""

    status = 409


# --- the stage's form ---------------------------------------------------------------------------


def material_key(key: str) -> str:
    """The upload field of an acceptance material (kept apart from the stage's own fields)."""
    return f"material_{key}"


def stage_form(stage: PilotStageBase) -> schema.Form:
    """What the unit fills in at ``stage``: its ``fields`` (or one required summary, 情况说明),
    and an upload slot per acceptance material the file names."""
    fields = list(stage.fields) or [
        {"key": "summary", "label": "情况说明", "type": "longtext", "required": True}
    ]
    # An acceptance's named materials (试点成果材料 …) are uploads, one slot each.
    fields += [
        {
            "key": material_key(m.key),
            "label": m.name,
            "type": "attachment",
            "required": m.required,
            "max_count": 10,
        }
        for m in getattr(stage, "materials", [])
    ]
    return schema.Form.model_validate(
        {"title": stage.name, "sections": [{"key": "main", "title": stage.name, "fields": fields}]}
    )


def submittable_stage(pilot: Pilot, key: str) -> PilotStageBase:
    spec = pilot.spec
    stage = spec.stage(key) if spec else None
    if stage is None or stage.kind not in SUBMITTABLE_KINDS:
        raise SubmissionError(_("该阶段不存在或无需提交材料。"))
    return stage


def stage_period(pilot: Pilot, stage: PilotStageBase, key: str) -> Period:
    period = find_period(pilot, stage, key or "")
    if period is None:
        raise SubmissionError(_("该报告期不在试点周期内。"))
    return period


def _link(submission: Submission) -> str:
    return reverse("pilots:submission", args=[submission.pk])


def _what(submission: Submission, stage: PilotStageBase) -> str:
    period = f"（{submission.period}）" if submission.period else ""
    return f"{submission.pilot.programme.title}·{stage.name}{period}"


# --- locking ----------------------------------------------------------------------------------


def _lock_pilot(pilot_id: int) -> Pilot:
    return (
        Pilot.objects.select_for_update(of=("self",))
        .select_related("programme", "programme__issuer", "unit", "supervisor")
        .get(pk=pilot_id)
    )


def _lock(submission: Submission) -> tuple[Submission, PilotStageBase]:
    pilot = _lock_pilot(submission.pilot_id)
    sub = Submission.objects.select_for_update().get(pk=submission.pk)
    sub.pilot = pilot
    stage = pilot.spec.stage(sub.stage) if pilot.spec else None
    if stage is None:
        raise SubmissionError(_("该阶段已不在试点期安排中。"))
    return sub, stage


def _as_unit(scope, sub) -> type[Refused]:
    """A refusal about who acts is 403; about the submission's state, a message."""
    return SubmissionError if is_unit(scope, sub.pilot) else Denied


def _as_approver(scope, sub, stage) -> type[Refused]:
    return SubmissionError if is_approver(scope, sub.pilot, stage.approver) else Denied


# --- drafts -----------------------------------------------------------------------------------


@transaction.atomic
def submission_save(
    *,
    pilot: Pilot,
    stage_key: str,
    period: str = "",
    post,
    scope: Scope,
    actor: Actor,
    revision: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[Submission, formspec.CleanResult]:
    """Save what the unit typed, valid or not; the result says what does not validate yet.

    The submission row is made on the first save, with the period's due time. ``revision``
    (the API's): the revision the caller read (0 before the first save); another one is
    refused with :class:`StaleSubmission` and nothing is saved.
    """
    now = now or timezone.now()
    locked = _lock_pilot(pilot.pk)
    if not is_unit(scope, locked):
        raise Denied(_("只有试点单位可以填写和提交。"))
    stage = submittable_stage(locked, stage_key)
    p = stage_period(locked, stage, period)
    if p.start > today_beijing(now):
        raise SubmissionError(_("%(period)s尚未开始，不能填写。") % {"period": p.label})
    sub = Submission.objects.select_for_update().filter(
        pilot=locked, stage=stage.key, period=p.key
    ).first() or Submission(
        pilot=locked,
        stage=stage.key,
        kind=stage.kind,
        period=p.key,
        period_start=p.start if stage.kind == "reports" else None,
        period_end=p.end if stage.kind == "reports" else None,
        due_at=p.due_at,
        state=SUBMISSION.initial("start"),
    )
    sub.pilot = locked
    check(can_edit_submission(scope, sub), _as_unit(scope, sub))
    if revision is not None and revision != sub.revision:
        raise StaleSubmission(_("该材料已在其他窗口或由他人修改，请重新读取后再保存。"))
    result = formspec.clean_post(stage_form(stage), post)
    new_data = {**sub.data, **result.data}
    if sub.pk is not None and new_data == sub.data:
        return sub, result
    created = sub.pk is None
    sub.data = new_data
    sub.revision += 1
    sub.save()
    audit_record(
        actor=actor,
        action="pilot_submission.create" if created else "pilot_submission.draft_save",
        obj=sub,
        after={"pilot": locked.pk, "stage": stage.key, "period": p.key, "data": result.data},
    )
    return sub, result


@transaction.atomic
def submission_attach(
    *, submission: Submission, field_key: str, upload, scope: Scope, actor: Actor
) -> SubmissionAttachment:
    """Store an uploaded file for an attachment field of the stage. A rejected file changes
    nothing; a field taking one file replaces it."""
    sub, stage = _lock(submission)
    check(can_edit_submission(scope, sub), _as_unit(scope, sub))
    field = stage_form(stage).field(field_key)
    if field is None or field.type != "attachment":
        raise SubmissionError(_("附件栏目不存在。"))
    current = SubmissionAttachment.objects.filter(
        submission=sub, field_key=field_key, is_current=True
    )
    replacing = field.max_count == 1 and current.exists()
    if not replacing and current.count() >= field.max_count:
        raise SubmissionError(
            _("“%(field)s”最多 %(max_count)s 个文件，请先删除一个再上传。")
            % {"field": field.label, "max_count": field.max_count}
        )
    try:
        blob = blob_store(upload, accept=field.accept, max_mb=field.max_mb)
    except UploadRejected as exc:
        raise SubmissionError(str(exc), {field_key: [str(exc)]}) from exc
    if replacing:
        current.update(is_current=False)
    attachment = SubmissionAttachment.objects.create(
        submission=sub,
        field_key=field_key,
        blob=blob,
        filename=(getattr(upload, "name", "") or "file.pdf")[:255],
        uploaded_by=actor.user,
    )
    sub.revision += 1
    sub.save(update_fields=["revision", "updated_at"])
    audit_record(
        actor=actor,
        action="pilot_submission.attach",
        obj=sub,
        after={"field": field_key, "filename": attachment.filename, "sha256": blob.sha256},
    )
    return attachment


# --- submit and decide ------------------------------------------------------------------------


def _attachments(sub: Submission) -> list[SubmissionAttachment]:
    return list(
        SubmissionAttachment.objects.filter(submission=sub, is_current=True)
        .select_related("blob")
        .order_by("pk")
    )


def _approver_orgs(sub: Submission, stage: PilotStageBase) -> tuple[int, ...]:
    pilot = sub.pilot
    if stage.approver == "issuer":
        return (pilot.programme.issuer_id,)
    return (pilot.supervisor_id,)


@transaction.atomic
def submission_submit(
    *, submission: Submission, scope: Scope, actor: Actor, now: dt.datetime | None = None
) -> Submission:
    """Submit after the full check: a frozen version, the first time kept for lateness; the
    acceptance materials also open the pilot's acceptance."""
    now = now or timezone.now()
    sub, stage = _lock(submission)
    check(can_submit_submission(scope, sub), _as_unit(scope, sub))
    files = _attachments(sub)
    counts: dict[str, int] = {}
    for a in files:
        counts[a.field_key] = counts.get(a.field_key, 0) + 1
    result = formspec.check_complete(stage_form(stage), sub.data, attachment_counts=counts)
    if not result.ok:
        raise SubmissionError(_("还有内容未填写完整，请按提示补全后再提交。"), result.errors)
    before = {"state": sub.state}
    fields = SUBMISSION.advance(sub, "submit")
    sub.version += 1
    sub.submitted_at = now
    sub.first_submitted_at = sub.first_submitted_at or now
    sub.submitted_by = actor.user
    sub.reason = ""
    sub.save(
        update_fields=[
            *fields,
            "version",
            "submitted_at",
            "first_submitted_at",
            "submitted_by",
            "reason",
            "updated_at",
        ]
    )
    SubmissionVersion.objects.create(
        submission=sub,
        number=sub.version,
        data=sub.data,
        attachments=[
            {
                "field": a.field_key,
                "filename": a.filename,
                "sha256": a.blob.sha256,
                "size": a.blob.size,
            }
            for a in files
        ],
        submitted_at=now,
        submitted_by=actor.user,
    )
    pilot = sub.pilot
    if stage.kind == "acceptance":
        pilot.save(update_fields=PILOT.advance(pilot, "open_acceptance"))
    audit_record(
        actor=actor,
        action="pilot_submission.submit",
        obj=sub,
        before=before,
        after={"state": sub.state, "version": sub.version, "late": sub.is_late},
    )
    notify(
        orgs=_approver_orgs(sub, stage),
        roles=(Role.REVIEWER, Role.PROGRAMME_ADMIN),
        event="pilot.submission_submitted",
        title=f"{pilot.unit.name}提交了{stage.name}，请审核",
        body=_what(sub, stage),
        link=_link(sub),
        exclude_users=(actor.user,),
    )
    return sub


def _clean_reason(reason: str, required: bool) -> str:
    return posted_text(
        reason,
        field="reason",
        label=_("意见"),
        limit=REASON_MAX,
        exc=SubmissionError,
        required=_("退回理由") if required else "",
    )


_DECISIONS = {
    "accept": ("accepted", can_accept_submission),
    "return": ("returned", can_return_submission),
}


def _decide(
    submission: Submission, transition: str, reason: str, scope: Scope, actor: Actor, now
) -> tuple[Submission, PilotStageBase, str]:
    """The approver's decision (``accept`` or ``return``, a reason required to return): lock,
    check, move the submission and record the outcome on it and on its current version.
    Returns the locked submission, its stage and the cleaned reason."""
    outcome, permitted = _DECISIONS[transition]
    reason = _clean_reason(reason, required=transition == "return")
    sub, stage = _lock(submission)
    check(permitted(scope, sub), _as_approver(scope, sub, stage))
    fields = SUBMISSION.advance(sub, transition)
    sub.decided_at = now
    sub.decided_by = actor.user
    sub.reason = reason
    SubmissionVersion.objects.filter(submission=sub, number=sub.version).update(
        outcome=outcome, reason=reason, decided_at=now, decided_by=actor.user
    )
    sub.save(update_fields=[*fields, "decided_at", "decided_by", "reason", "updated_at"])
    return sub, stage, reason


def _audit_decision(sub: Submission, transition: str, reason: str, actor: Actor) -> None:
    audit_record(
        actor=actor,
        action=f"pilot_submission.{transition}",
        obj=sub,
        before={"state": "submitted"},
        after={"state": sub.state, "version": sub.version, "reason": reason},
    )


@transaction.atomic
def submission_accept(
    *,
    submission: Submission,
    scope: Scope,
    actor: Actor,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Submission:
    sub, stage, reason = _decide(submission, "accept", reason, scope, actor, now or timezone.now())
    _audit_decision(sub, "accept", reason, actor)
    notify(
        orgs=(sub.pilot.unit_id,),
        roles=(Role.APPLICANT,),
        event="pilot.submission_accepted",
        title=f"{stage.name}已审核通过",
        body=_what(sub, stage) + (f"。意见：{reason}" if reason else ""),
        link=_link(sub),
    )
    return sub


@transaction.atomic
def submission_return(
    *, submission: Submission, scope: Scope, actor: Actor, reason: str, now=None
) -> Submission:
    """Return for revision with a reason; returned acceptance materials reopen the pilot."""
    sub, stage, reason = _decide(submission, "return", reason, scope, actor, now or timezone.now())
    pilot = sub.pilot
    if stage.kind == "acceptance" and pilot.state == PilotState.ACCEPTANCE:
        back = PilotState.RECTIFYING if pilot.grade else PilotState.ACTIVE
        pilot.save(update_fields=PILOT.advance(pilot, "reopen", to=back))
    _audit_decision(sub, "return", reason, actor)
    notify(
        orgs=(pilot.unit_id,),
        roles=(Role.APPLICANT,),
        event="pilot.submission_returned",
        title=f"{stage.name}被退回修改",
        body=f"{_what(sub, stage)}。退回理由：{reason}",
        link=_link(sub),
    )
    return sub
