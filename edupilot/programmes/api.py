"""Programmes over the API: what a scope may see, its eligibility and its quotas."""

import datetime as dt

from django.http import Http404
from ninja import Router, Schema

from edupilot.core.inputs import Key

from . import selectors

router = Router(tags=["programmes"])


class LevelOut(Schema):
    key: str
    name: str
    tier: str
    deadline: dt.datetime


class CategoryOut(Schema):
    code: str
    name: str
    applicant_kinds: list[str]
    stages: list[str]
    topics: list[str]
    closes_at: dt.datetime
    cap: int | None
    review: list[LevelOut]


class ProgrammeOut(Schema):
    code: str
    title: str
    kind: str
    doc_no: str
    issuer: str
    opens_at: dt.datetime
    closes_at: dt.datetime


class ProgrammeDetailOut(ProgrammeOut):
    categories: list[CategoryOut]


class QuotaOut(Schema):
    category: str
    level: str
    holder_code: str
    holder: str
    direct: bool
    declared: int | None
    computed: int | None
    effective: int
    unlimited: bool
    derivation: str


def _out(p) -> dict:
    return {
        "code": p.code,
        "title": p.title,
        "kind": p.kind,
        "doc_no": p.doc_no,
        "issuer": p.issuer.name,
        "opens_at": p.opens_at,
        "closes_at": p.closes_at,
    }


def _detail(p) -> dict:
    categories = []
    for c in p.parsed.categories:
        categories.append(
            {
                "code": c.code,
                "name": c.name,
                "applicant_kinds": list(c.applicant_kinds),
                "stages": list(c.stages),
                "topics": list(c.topics),
                "closes_at": p.category_closes_at(c.code),
                "cap": c.cap,
                "review": [
                    {
                        "key": lv.key,
                        "name": lv.name,
                        "tier": lv.tier,
                        "deadline": p.level_deadline(c.code, lv.key),
                    }
                    for lv in c.levels
                ],
            }
        )
    return {**_out(p), "categories": categories}


def _applicant_programmes(request):
    org = request.scope.org
    return org, selectors.open_programmes_covering(org)


def _access(request, code: str):
    """The programme through the scope: an applicant sees the open calls that cover its org."""
    if request.scope.is_applicant:
        _org, programmes = _applicant_programmes(request)
        for p in programmes:
            if p.code == code:
                return p
        raise Http404
    return selectors.access_programme(request.scope, code)


@router.get("/", response=list[ProgrammeOut])
def list_programmes(request):
    if request.scope.is_applicant:
        return [_out(p) for p in _applicant_programmes(request)[1]]
    return [
        _out(p)
        for p in selectors.programmes_for(request.scope).select_related("issuer").order_by("code")
    ]


@router.get("/{code}", response=ProgrammeDetailOut)
def get_programme(request, code: Key):
    return _detail(_access(request, code))


@router.get("/{code}/quotas", response=list[QuotaOut])
def quotas(request, code: Key, category: Key | None = None):
    """Quotas of the scope's subtree (all of them for the programme's own admins)."""
    if request.scope.is_applicant or request.scope.is_expert:
        raise Http404
    programme = selectors.access_programme(request.scope, code)
    out = []
    for cq in selectors.quota_overview_for(request.scope, programme, category):
        for section in cq.sections:
            for line in section.lines:
                row, alloc = line.row, line.allocation
                out.append(
                    {
                        "category": row.category,
                        "level": row.level,
                        "holder_code": row.holder.code,
                        "holder": row.holder.name,
                        "direct": row.direct,
                        "declared": row.declared,
                        "computed": row.computed,
                        "effective": alloc.effective if alloc else row.effective,
                        "unlimited": alloc.unlimited if alloc else row.unlimited,
                        "derivation": row.derivation,
                    }
                )
    return out
