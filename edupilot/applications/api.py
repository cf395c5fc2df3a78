"""Applications over the API: the same selectors and services as the pages, the same scope."""

import datetime as dt
from typing import Annotated

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from edupilot.audit.services import actor_from
from edupilot.core.inputs import DOCUMENT, KEY, BoundedLimitOffset, Id, Key, Text, form_post
from edupilot.programmes import sets as setrules
from edupilot.programmes.selectors import open_programmes_covering

from . import selectors, services

router = Router(tags=["applications"])
# Mounted at /programmes beside programmes' own router: eligibility is decided here, with the
# applicant's existing applications, and programmes does not import applications.
programme_router = Router(tags=["programmes"])


class OrgOut(Schema):
    id: int
    code: str
    name: str


class ApplicationOut(Schema):
    id: int
    programme: str = Field(..., alias="programme.code")
    category: str
    topic: str
    # Topics in two levels: the topic's direction (its ``parent``), "" for a direction itself;
    # ``topic_label`` names both ("教学应用 / 智慧课堂").
    direction: str
    topic_label: str
    state: str
    title: str
    version: int
    applicant: OrgOut = Field(..., alias="applicant_org")
    current_reviewer: OrgOut | None = Field(None, alias="current_org")
    submitted_at: dt.datetime | None
    updated_at: dt.datetime

    @staticmethod
    def resolve_direction(obj) -> str:
        direction = obj.programme.parsed.direction_of(obj.topic)  # parsed once per file: no query
        return "" if direction == obj.topic else direction

    @staticmethod
    def resolve_topic_label(obj) -> str:
        return obj.programme.parsed.topic_label(obj.topic) if obj.topic else ""


class ApplicationDetailOut(ApplicationOut):
    # What the draft PUT must send back: the save is refused (409) if the draft changed since.
    revision: int
    data: dict
    chain: list
    # The titles the applicant holds in its category (``[[categories.titles]]``), as reviewers
    # see them: "省级示范校（直接入选，不占名额，推荐排序优先）".
    titles: list[str]

    @staticmethod
    def resolve_titles(obj) -> list[str]:
        category = obj.programme.parsed.category(obj.category)
        held = setrules.titles_of(category, [obj.applicant_org])[obj.applicant_org.pk]
        return [t.describe().replace(f"（名单 {t.list}）：", "（", 1) + "）" for t in held]


# A form has at most a few hundred fields (groups post one per cell).
MAX_FIELDS = 2000


class DraftIn(Schema):
    revision: int = Field(..., ge=0, le=2**31 - 1)
    data: dict[Key, Text(DOCUMENT) | Annotated[list[Text(DOCUMENT)], Field(max_length=500)]] = (
        Field(..., max_length=MAX_FIELDS)
    )


class ProblemOut(Schema):
    message: str
    errors: dict[str, list[str]] = {}


@router.get("/", response=list[ApplicationOut])
@paginate(BoundedLimitOffset)
def list_applications(request, state: Key | None = None, programme: Key | None = None):
    qs = selectors.applications_for(request.scope).select_related(
        "programme", "applicant_org", "current_org"
    )
    if state:
        qs = qs.filter(state=state)
    if programme:
        qs = qs.filter(programme__code=programme)
    return qs.order_by("-updated_at", "-pk")


@router.get("/{int:pk}", response=ApplicationDetailOut)
def get_application(request, pk: Id):
    return selectors.access_application(request.scope, pk)


@router.put(
    "/{int:pk}/draft", response={200: ApplicationDetailOut, 400: ProblemOut, 409: ProblemOut}
)
def save_draft(request, pk: Id, payload: DraftIn):
    app = selectors.access_application(request.scope, pk)
    try:
        result = services.application_save_draft(
            application=app,
            post=form_post(payload.data),
            scope=request.scope,
            actor=actor_from(request),
            revision=payload.revision,
        )
    except services.StaleDraft as exc:
        return Status(409, {"message": exc.message})
    except services.ApplicationError as exc:
        return Status(400, {"message": exc.message, "errors": exc.errors})
    if result.errors:
        return Status(
            400, {"message": _("草稿已保存，但有内容需要修改。"), "errors": result.errors}
        )
    return Status(200, selectors.access_application(request.scope, pk))


@router.post("/{int:pk}/submit", response={200: ApplicationDetailOut, 400: ProblemOut})
def submit(request, pk: Id):
    app = selectors.access_application(request.scope, pk)
    try:
        services.application_submit(application=app, scope=request.scope, actor=actor_from(request))
    except services.ApplicationError as exc:
        return Status(400, {"message": exc.message, "errors": exc.errors})
    return Status(200, selectors.access_application(request.scope, pk))


class EligibilityOut(Schema):
    category: str
    name: str
    eligible: bool
    reasons: list[str]
    warnings: list[str]
    application_id: int | None


@programme_router.get("/{code}/eligibility", response=list[EligibilityOut])
def eligibility(request, code: Text(KEY)):
    """For an applicant: each category of the programme it falls under, and why it may not apply."""
    if not request.scope.is_applicant:
        raise Http404
    org = request.scope.org
    if not any(p.code == code for p in open_programmes_covering(org)):
        raise Http404
    return [
        {
            "category": c.category.code,
            "name": c.category.name,
            "eligible": c.eligible,
            "reasons": [r.message for r in c.failures],
            "warnings": [r.message for r in c.warnings],
            "application_id": c.application.pk if c.application else None,
        }
        for c in selectors.choices_for_org(org)
        if c.programme.code == code
    ]
