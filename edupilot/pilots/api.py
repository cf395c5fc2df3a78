"""Pilots over the API: the same selectors and services as the pages, so the same scope (a unit
sees its own pilots, a bureau its subtree's, a supervising centre those it supervises, experts
none), the same locks, checks, audit and notifications. Every write is one service call; a
refusal comes back as the project's JSON error with the Chinese message the page would show
(``edupilot.api.api`` maps :class:`~edupilot.core.errors.Refused` once)."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from edupilot.audit.services import actor_from
from edupilot.core.inputs import (
    DOCUMENT,
    KEY,
    LONG,
    SHORT,
    BoundedLimitOffset,
    Id,
    Key,
    Query,
    Text,
    form_post,
)
from edupilot.programmes.pilot_schema import due_rule

from . import acceptance, inspections, selectors, services
from .models import Inspection, Pilot, PilotState, Submission
from .pages_submissions import submission_sections
from .selectors import access_submission

router = Router(tags=["pilots"])


def _require_org_role(request) -> None:
    """The pages' rule: units, bureaus and platform admins; experts and others see nothing."""
    scope = request.scope
    if not (scope.is_applicant or scope.is_reviewer or scope.is_platform_admin):
        raise Http404


# --- schemas ------------------------------------------------------------------------------------


class OrgOut(Schema):
    id: int
    code: str
    name: str


class PilotOut(Schema):
    id: int
    programme: str = Field(..., alias="programme.code")
    category: str
    category_name: str
    topic: str
    title: str
    unit: OrgOut
    supervisor: OrgOut
    state: str
    starts_on: dt.date
    ends_on: dt.date | None
    grade: str
    grade_name: str
    score: Decimal | None
    closed_at: dt.datetime | None


class PeriodOut(Schema):
    period: str
    label: str
    due_on: dt.date | None
    status: str
    status_label: str
    submission: int | None
    state: str | None


class StageOut(Schema):
    key: str
    name: str
    kind: str
    kind_label: str
    rule: str
    approver: str
    # plan, reports, acceptance, cases: each started period (and the next one) and where it stands
    periods: list[PeriodOut] = []
    total_periods: int = 0
    # inspection: how many, and how many still open; acceptance: the decided grade
    inspections: int | None = None
    open_inspections: int | None = None


class PilotDetailOut(PilotOut):
    stages: list[StageOut]


class SubmissionOut(Schema):
    id: int
    pilot: int = Field(..., alias="pilot_id")
    stage: str
    kind: str
    period: str
    state: str
    due_at: dt.datetime | None
    submitted_at: dt.datetime | None
    first_submitted_at: dt.datetime | None
    late: bool = Field(..., alias="is_late")
    decided_at: dt.datetime | None
    reason: str
    version: int
    revision: int
    updated_at: dt.datetime


class VersionOut(Schema):
    number: int
    data: dict
    attachments: list
    submitted_at: dt.datetime
    outcome: str
    reason: str
    decided_at: dt.datetime | None


class FileOut(Schema):
    id: int
    field: str = Field(..., alias="field_key")
    filename: str
    uploaded_at: dt.datetime


class SubmissionDetailOut(SubmissionOut):
    data: dict
    files: list[FileOut]
    versions: list[VersionOut] = Field(..., alias="versions_list")


# A stage form has at most 60 fields (the schema's bound), groups post one per cell.
MAX_FIELDS = 2000


class DraftIn(Schema):
    # The revision read (0 before the first save): the save is refused (409) if it changed.
    revision: int = Field(..., ge=0, le=2**31 - 1)
    period: Text(12) = ""
    data: dict[Key, Text(DOCUMENT) | Annotated[list[Text(DOCUMENT)], Field(max_length=500)]] = (
        Field(..., max_length=MAX_FIELDS)
    )


class ReasonIn(Schema):
    reason: Text(LONG) = ""


class ProblemOut(Schema):
    message: str
    errors: dict[str, list[str]] = {}


class InspectionOut(Schema):
    id: int
    pilot: int = Field(..., alias="pilot_id")
    stage: str
    mode: str
    org: OrgOut
    scheduled_for: dt.date
    team: str
    state: str
    findings: str
    demands: str
    rectify_by: dt.date | None
    response: str
    responded_at: dt.datetime | None
    conclusion: str
    closed_at: dt.datetime | None


class ScheduleIn(Schema):
    mode: Key
    scheduled_for: dt.date
    team: Text(SHORT)


class RecordIn(Schema):
    findings: Text(LONG)
    demands: Text(LONG) = ""
    rectify_days: int | None = Field(None, ge=1, le=366)


class RespondIn(Schema):
    response: Text(LONG)


class CloseIn(Schema):
    conclusion: Text(LONG)
    again: bool = False
    rectify_days: int | None = Field(None, ge=1, le=366)


class GradeOut(Schema):
    key: str
    name: str
    result: str


class AcceptanceOut(Schema):
    submission: int
    pilot: int
    state: str
    scores_submitted: int
    scores_needed: int
    mean: Decimal | None
    percent: Decimal | None
    suggested_grade: str | None
    grades: list[GradeOut]
    grade: str
    grade_name: str
    decided_at: dt.datetime | None
    opinion: str


class DecideIn(Schema):
    grade: Key
    opinion: Text(LONG) = ""


# --- pilots -------------------------------------------------------------------------------------


@router.get("/", response=list[PilotOut])
@paginate(BoundedLimitOffset)
def list_pilots(
    request,
    programme: Id | None = None,
    state: Key = "",
    category: Key = "",
    q: Query = "",
):
    _require_org_role(request)
    qs = selectors.pilots_for(request.scope).select_related("programme", "unit", "supervisor")
    if programme:
        qs = qs.filter(programme_id=programme)
    if state:
        qs = qs.filter(state=state if state in PilotState.values else "-")
    if category:
        qs = qs.filter(category=category)
    if q.strip():
        qs = qs.filter(Q(unit__name__icontains=q.strip()) | Q(title__icontains=q.strip()))
    return qs.order_by("programme_id", "unit_path", "pk")


def _stage_rows(request, pilot: Pilot) -> list[dict]:
    spec = pilot.spec
    sections = {s["stage"].key: s for s in submission_sections(request.scope, pilot)}
    inspections_ = list(pilot.inspections.values_list("state", flat=True))
    out = []
    for stage in spec.pipeline if spec else []:
        row = {
            "key": stage.key, "name": stage.name, "kind": stage.kind,
            "kind_label": stage.kind_label, "rule": due_rule(stage), "approver": stage.approver,
        }  # fmt: skip
        section = sections.get(stage.key)
        if section is not None:
            row["total_periods"] = section["total"]
            row["periods"] = [
                {
                    "period": r["period"].key,
                    "label": r["period"].label,
                    "due_on": r["period"].due_on,
                    "status": r["status"],
                    "status_label": str(r["status_label"]),
                    "submission": r["submission"].pk if r["submission"] else None,
                    "state": r["submission"].state if r["submission"] else None,
                }
                for r in section["rows"]
            ]
        if stage.kind == "inspection":
            row["inspections"] = len(inspections_)
            row["open_inspections"] = sum(1 for s in inspections_ if s != "closed")
        out.append(row)
    return out


@router.get("/{int:pk}", response=PilotDetailOut)
def get_pilot(request, pk: Id):
    _require_org_role(request)
    pilot = selectors.access_pilot(request.scope, pk)
    pilot.stages = _stage_rows(request, pilot)
    return pilot


# --- submissions --------------------------------------------------------------------------------


@router.get("/{int:pk}/submissions", response=list[SubmissionOut])
def list_submissions(request, pk: Id, stage: Key = ""):
    _require_org_role(request)
    pilot = selectors.access_pilot(request.scope, pk)
    qs = pilot.submissions.all()
    if stage:
        qs = qs.filter(stage=stage)
    return list(qs.order_by("stage", "period", "pk"))


def _detail(request, pk) -> Submission:
    sub = access_submission(request.scope, pk)
    sub.files = list(sub.attachments.filter(is_current=True).order_by("pk"))
    sub.versions_list = list(sub.versions.order_by("number"))
    return sub


@router.get("/submissions/{int:pk}", response=SubmissionDetailOut)
def get_submission(request, pk: Id):
    _require_org_role(request)
    return _detail(request, pk)


@router.put(
    "/{int:pk}/drafts/{stage}",
    response={200: SubmissionDetailOut, 400: ProblemOut, 403: ProblemOut, 409: ProblemOut},
)
def save_draft(request, pk: Id, stage: Text(KEY), payload: DraftIn):
    """Save the unit's draft of ``stage`` (and ``period`` for a report): the row is made on
    the first save (``revision`` 0)."""
    _require_org_role(request)
    pilot = selectors.access_pilot(request.scope, pk)
    sub, result = services.submission_save(
        pilot=pilot,
        stage_key=stage,
        period=payload.period,
        post=form_post(payload.data),
        scope=request.scope,
        actor=actor_from(request),
        revision=payload.revision,
    )
    if not result.ok:
        return Status(
            400, {"message": _("草稿已保存，但有内容需要修改。"), "errors": result.errors}
        )
    return Status(200, _detail(request, sub.pk))


def _call(request, service, payload: Schema | None = None, **target):
    """``service`` on ``target`` as this request's actor, in its scope: the payload's fields
    are the service's own keyword arguments."""
    fields = payload.model_dump() if payload is not None else {}
    return service(**target, **fields, scope=request.scope, actor=actor_from(request))


def _act(request, pk, service, payload: Schema | None = None) -> Submission:
    _require_org_role(request)
    _call(request, service, payload, submission=access_submission(request.scope, pk))
    return _detail(request, pk)


ACTION = {200: SubmissionDetailOut, 400: ProblemOut, 403: ProblemOut}


@router.post("/submissions/{int:pk}/submit", response=ACTION)
def submit(request, pk: Id):
    return _act(request, pk, services.submission_submit)


@router.post("/submissions/{int:pk}/accept", response=ACTION)
def accept(request, pk: Id, payload: ReasonIn):
    return _act(request, pk, services.submission_accept, payload)


@router.post("/submissions/{int:pk}/return", response=ACTION)
def return_(request, pk: Id, payload: ReasonIn):
    return _act(request, pk, services.submission_return, payload)


# --- inspections --------------------------------------------------------------------------------


@router.get("/{int:pk}/inspections", response=list[InspectionOut])
def list_inspections(request, pk: Id):
    _require_org_role(request)
    pilot = selectors.access_pilot(request.scope, pk)
    return list(pilot.inspections.select_related("org").order_by("-scheduled_for", "-pk"))


INSPECTION_ACTION = {200: InspectionOut, 400: ProblemOut, 403: ProblemOut}


def _inspection(request, pk) -> Inspection:
    _require_org_role(request)
    return selectors.access_inspection(request.scope, pk)


@router.post("/{int:pk}/inspections/schedule", response=INSPECTION_ACTION)
def schedule_inspection(request, pk: Id, payload: ScheduleIn):
    _require_org_role(request)
    pilot = selectors.access_pilot(request.scope, pk)
    return _call(request, inspections.inspection_schedule, payload, pilot=pilot)


@router.post("/inspections/{int:pk}/record", response=INSPECTION_ACTION)
def record_inspection(request, pk: Id, payload: RecordIn):
    inspection = _inspection(request, pk)
    return _call(request, inspections.inspection_record, payload, inspection=inspection)


@router.post("/inspections/{int:pk}/respond", response=INSPECTION_ACTION)
def respond_inspection(request, pk: Id, payload: RespondIn):
    inspection = _inspection(request, pk)
    return _call(request, inspections.inspection_respond, payload, inspection=inspection)


@router.post("/inspections/{int:pk}/close", response=INSPECTION_ACTION)
def close_inspection(request, pk: Id, payload: CloseIn):
    inspection = _inspection(request, pk)
    return _call(request, inspections.inspection_close, payload, inspection=inspection)


# --- acceptance ---------------------------------------------------------------------------------


def _acceptance(request, pk) -> dict:
    sub = selectors.access_acceptance_submission(request.scope, pk)
    pilot = sub.pilot
    stage = pilot.spec.stage(sub.stage)
    summary = acceptance.acceptance_summary(sub)
    decided = pilot.grade and sub.decided_at
    return {
        "submission": sub.pk,
        "pilot": pilot.pk,
        "state": sub.state,
        "scores_submitted": len(summary.totals),
        "scores_needed": summary.needed,
        "mean": summary.mean,
        "percent": summary.percent,
        "suggested_grade": summary.suggested.key if summary.suggested else None,
        "grades": [{"key": g.key, "name": g.name, "result": g.result} for g in stage.grades],
        "grade": pilot.grade,
        "grade_name": pilot.grade_name,
        "decided_at": sub.decided_at if decided else None,
        "opinion": sub.reason if decided else "",
    }


@router.get("/acceptance/{int:pk}", response=AcceptanceOut)
def get_acceptance(request, pk: Id):
    """An acceptance submission's panel summary (submitted totals, mean, suggested grade) and
    the issuer's decision once made."""
    _require_org_role(request)
    return _acceptance(request, pk)


@router.post(
    "/acceptance/{int:pk}/decide", response={200: AcceptanceOut, 400: ProblemOut, 403: ProblemOut}
)
def decide_acceptance(request, pk: Id, payload: DecideIn):
    _require_org_role(request)
    sub = selectors.access_acceptance_submission(request.scope, pk)
    _call(request, acceptance.acceptance_decide, payload, submission=sub)
    return _acceptance(request, pk)
