"""Certification over the API, read-only: the batches a user may see, their schools' results,
one school's assessment indicator by indicator, and its self-assessment with the batch's
application gate (for bureaus that pull results into their own systems). The same selectors as the pages, so the same scope: a district sees its
schools, the city its whole batch, a school only itself; anything else is a 404.
"""

import datetime as dt

from django.core.paginator import Paginator
from ninja import Router, Schema

from edupilot.core.inputs import Id, Key, Page

from . import selectors
from .models import EntryState, SelfAssessment

router = Router(tags=["certification"])

PAGE_SIZE = 100


class BatchOut(Schema):
    id: int
    code: str
    name: str
    owner: str
    owner_code: str
    certification_date: dt.date
    cutoff: dt.date
    standard: str
    state: str


class EntryOut(Schema):
    id: int
    school: str
    school_code: str
    certifier: str
    state: str
    exempt_title: str
    provisional: str
    score: float | None
    unmet: int
    missing: int
    decision: str
    # The grade fixed with the decision, else the one the current assessment gives.
    grade: str = ""
    # Why the batch's application gate keeps the school out (未提交自评 …); "" when it does not
    # or the batch asks for no self-assessment.
    gate_reason: str = ""


class EntryPageOut(Schema):
    page: int
    pages: int
    count: int
    items: list[EntryOut]


class IndicatorOut(Schema):
    code: str
    name: str
    status: str
    value: str
    threshold: str
    source: str


class DimensionOut(Schema):
    name: str
    score: float
    max_score: float


class StandardResultOut(Schema):
    standard: str
    passed: bool
    incomplete: bool
    score: float
    max_score: float
    grade: str = ""
    dimensions: list[DimensionOut] = []
    reasons: list[str] = []
    indicators: list[IndicatorOut]


class SelfSummaryOut(Schema):
    submitted: bool
    submitted_at: dt.datetime | None
    total: float
    max_total: float
    percent: float | None


class EntryDetailOut(EntryOut):
    batch: int
    opinion: str
    standards: list[StandardResultOut]
    # The school's self-assessment, when the batch asks for one and the school has saved it.
    self_assessment: SelfSummaryOut | None = None


class SelfItemOut(Schema):
    code: str
    name: str
    dimension: str
    standard: str
    max_score: float
    # The school's own points; None when it left the item blank (a draft) or saved nothing.
    score: float | None


class SelfDimensionOut(Schema):
    name: str
    score: float
    max_score: float


class GateOut(Schema):
    # Whether the batch's application gate applies to this school (the batch asks for a
    # self-assessment, and the school is not certified by a title).
    applies: bool
    # Whether the school passes it; None when it does not apply.
    passed: bool | None
    reason: str
    rule: str


class SelfAssessmentOut(SelfSummaryOut):
    entry: int
    required: bool
    closes: dt.date | None
    # Why the school may not (or no longer) change it; "" while it may.
    closed: str
    dimensions: list[SelfDimensionOut]
    items: list[SelfItemOut]
    gate: GateOut


def _batch(b) -> dict:
    return {
        "id": b.pk,
        "code": b.code,
        "name": b.name,
        "owner": b.owner.name,
        "owner_code": b.owner.code,
        "certification_date": b.certification_date,
        "cutoff": b.cutoff,
        "standard": b.standard.short_title or b.standard.title,
        "state": b.state,
    }


def _entry(e) -> dict:
    return {
        "id": e.pk,
        "school": e.school.name,
        "school_code": e.school.code,
        "certifier": e.certifier.name,
        "state": e.state,
        "exempt_title": e.exempt_title.title if e.exempt_title_id else "",
        "provisional": e.provisional,
        "score": float(e.score) if e.score is not None else None,
        "unmet": e.unmet_count,
        "missing": e.missing_count,
        "decision": e.decision,
        "grade": e.grade_name if e.decision else e.provisional_grade,
        "gate_reason": e.gate_reason,
    }


def _self_summary(sa: SelfAssessment | None) -> dict | None:
    if sa is None:
        return None
    return {
        "submitted": sa.submitted_at is not None,
        "submitted_at": sa.submitted_at,
        "total": float(sa.total),
        "max_total": float(sa.max_total),
        "percent": sa.percent,
    }


@router.get("/batches", response=list[BatchOut])
def batches(request):
    """Certification batches the user's org takes part in."""
    return [_batch(b) for b in selectors.batches_for(request.scope).order_by("-cutoff", "pk")]


@router.get("/batches/{int:pk}", response=BatchOut)
def batch(request, pk: Id):
    return _batch(selectors.access_batch(request.scope, pk))


@router.get("/batches/{int:pk}/entries", response=EntryPageOut)
def entries(request, pk: Id, state: Key = "", page: Page = 1):
    """The batch's schools within the user's scope, 100 per page, by school code."""
    b = selectors.access_batch(request.scope, pk)
    qs = selectors.entries_for(request.scope, b).order_by("school__code", "pk")
    if state in EntryState.values:
        qs = qs.filter(state=state)
    p = Paginator(qs, PAGE_SIZE).get_page(page)
    return {
        "page": p.number,
        "pages": p.paginator.num_pages,
        "count": p.paginator.count,
        "items": [_entry(e) for e in p.object_list],
    }


@router.get("/entries/{int:pk}", response=EntryDetailOut)
def entry(request, pk: Id):
    """One school's assessment: each indicator met / unmet / missing, value, threshold, source."""
    e = selectors.access_entry(request.scope, pk)
    # Exempt schools are certified by their title; they have no assessment to show.
    view = selectors.entry_view(e) if e.state != EntryState.EXEMPT else None
    return {
        **_entry(e),
        "batch": e.batch_id,
        "opinion": e.opinion,
        "standards": [
            {
                "standard": section.standard.short_title or section.standard.title,
                "passed": section.passed,
                "incomplete": section.incomplete,
                "score": section.score,
                "max_score": section.max_score,
                "grade": section.grade_name,
                "dimensions": [
                    {"name": n, "score": got, "max_score": top}
                    for n, got, top in section.dimensions
                ],
                "reasons": section.reasons,
                "indicators": [
                    {
                        "code": row.indicator.code,
                        "name": row.indicator.name,
                        "status": row.status,
                        "value": row.value_text,
                        "threshold": row.threshold_text,
                        "source": row.source_text,
                    }
                    for row in section.rows
                ],
            }
            for section in (view.sections if view else [])
        ],
        "self_assessment": _self_summary(view.self_assessment if view else None),
    }


@router.get("/entries/{int:pk}/self-assessment", response=SelfAssessmentOut)
def self_assessment(request, pk: Id):
    """The school's self-assessment (学校自评): its own points per item within each item's
    maximum, the totals, whether it is submitted, and the batch's application gate on it."""
    e = selectors.access_entry(request.scope, pk)
    page = selectors.self_assessment_page(request.scope, e)
    rules, sa = page["rules"], page["sa"]
    applies = rules is not None and e.state != EntryState.EXEMPT
    summary = _self_summary(sa) or {
        "submitted": False,
        "submitted_at": None,
        "total": 0.0,
        "max_total": float(page["max_total"]),
        "percent": None,
    }
    return {
        **summary,
        "entry": e.pk,
        "required": rules is not None,
        "closes": page["closes"],
        "closed": page["closed"],
        "dimensions": [
            {"name": name, "score": got, "max_score": top}
            for name, got, top in (sa.dimensions if sa is not None else [])
        ],
        "items": [
            {
                "code": row["item"].code,
                "name": row["item"].name,
                "dimension": row["item"].dimension_name,
                "standard": row["item"].standard,
                "max_score": float(row["item"].max),
                "score": float(row["value"]) if row["value"] not in ("", None) else None,
            }
            for row in page["rows"]
        ],
        "gate": {
            "applies": applies,
            "passed": (page["gate"] == "") if applies else None,
            "reason": page["gate"] if applies else "",
            "rule": rules.text if rules is not None else "",
        },
    }
