"""Review over the API: the reviewer's queue and one service call per level action.

The same selectors and services as the pages, so the same scope, quota locks, deadlines and
audit apply; a refusal comes back with the Chinese message the page would show.
"""

from django.http import Http404
from ninja import Field, Router, Schema, Status
from pydantic import BaseModel

from edupilot.applications.selectors import access_application
from edupilot.core.inputs import LONG, Id, Key, Page, Query, Text

from . import queue as reviewer_queue
from . import services
from .calls import level_call

router = Router(tags=["review"])


# The queue's rows are plain pydantic models, not ninja Schemas: a Schema validates each of
# the page's 50 dicts through a Python wrapper (``DjangoGetter``, for reading model
# attributes), ten times the cost of pydantic's own validation of a dict; the rows here are
# dicts already. Same fields, same OpenAPI schema.
class QueueRowOut(BaseModel):
    id: int
    applicant: str
    parent: str
    programme: str
    category: str
    topic: str  # a sub-direction after its direction: "教学应用 / 智慧课堂"
    # The unit's titles (``[[categories.titles]]``), as the queue shows them: "省级示范校 · 优先".
    titles: str
    state: str
    level: str
    my_rank: str | int
    submitted: str
    deadline: str
    late: bool


class QueueOut(BaseModel):
    page: int
    pages: int
    count: int
    items: list[QueueRowOut]


class RecommendIn(Schema):
    opinion: Text(LONG)
    rank: int | None = Field(None, ge=1, le=100_000)


class ReasonIn(Schema):
    reasons: Text(LONG)


class DecisionOut(Schema):
    id: int
    application: int
    action: str
    step: int
    level: str
    rank: int | None
    opinion: str
    reasons: str


class ProblemOut(Schema):
    message: str


def _require_reviewer(request) -> None:
    if not (request.scope.is_reviewer or request.scope.is_platform_admin):
        raise Http404


@router.get("/queue", response=QueueOut)
def queue(
    request,
    programme: Id | None = None,
    category: Key = "",
    state: Key = "",
    q: Query = "",
    page: Page = 1,
):
    """Applications standing at the scope's level (or its history), 50 per page."""
    _require_reviewer(request)
    params = {
        "programme": programme,
        "category": category,
        "state": state or None,
        "q": q,
        "page": page,
    }
    view = reviewer_queue.review_queue(
        request.scope, reviewer_queue.QueueFilters.from_params(params), page_extras=False
    )
    return {
        "page": view.page.number,
        "pages": view.page.paginator.num_pages,
        "count": view.page.paginator.count,
        "items": [
            {
                "id": r["pk"],
                "applicant": r["name"],
                "parent": r["parent"],
                "programme": r["programme"],
                "category": r["category"],
                "topic": r["topic"],
                "titles": r["badge"],
                "state": r["state"],
                "level": r["level"],
                "my_rank": r["my_rank"],
                "submitted": r["submitted"],
                "deadline": r["deadline"],
                "late": bool(r["late"]),
            }
            for r in view.rows
        ],
    }


def _decision(d) -> dict:
    return {
        "id": d.pk,
        "application": d.application_id,
        "action": d.action,
        "step": d.step,
        "level": d.level,
        "rank": d.rank,
        "opinion": d.opinion,
        "reasons": d.reasons,
    }


def _act(request, pk: Id, action: str, **fields):
    """One level action (:func:`level_call` of ``action`` with ``fields``): the decision, or
    403/409 with the refusal's message."""
    _require_reviewer(request)
    application = access_application(request.scope, pk)
    try:
        return Status(200, _decision(level_call(request, action, **fields)(application)))
    except services.ReviewDenied as exc:
        return Status(403, {"message": exc.message})
    except services.ReviewError as exc:
        return Status(409, {"message": exc.message})


RESPONSES = {200: DecisionOut, 403: ProblemOut, 409: ProblemOut}


@router.post("/{int:pk}/recommend", response=RESPONSES)
def recommend(request, pk: Id, payload: RecommendIn):
    return _act(request, pk, "recommend", opinion=payload.opinion, rank=payload.rank)


@router.post("/{int:pk}/return", response=RESPONSES)
def return_for_revision(request, pk: Id, payload: ReasonIn):
    return _act(request, pk, "return", reasons=payload.reasons)


@router.post("/{int:pk}/not-recommend", response=RESPONSES)
def not_recommend(request, pk: Id, payload: ReasonIn):
    return _act(request, pk, "not_recommend", reason=payload.reasons)
