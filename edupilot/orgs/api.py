"""Orgs over the API, through the same scoping as the pages."""

from ninja import Router, Schema
from ninja.pagination import paginate

from edupilot.core.inputs import BoundedLimitOffset, Key, Query

from . import selectors

router = Router(tags=["orgs"])


class OrgOut(Schema):
    code: str
    name: str
    kind: str
    tier: str
    parent_code: str | None
    stages: list[str]
    ownership: str
    locality: str
    bandwidth_mbps: int | None
    teacher_count: int | None
    student_count: int | None

    @staticmethod
    def resolve_parent_code(obj) -> str | None:
        return obj.parent.code if obj.parent_id else None

    @staticmethod
    def resolve_stages(obj) -> list[str]:
        return obj.stage_list


@router.get("/", response=list[OrgOut])
@paginate(BoundedLimitOffset)
def list_orgs(request, q: Query = "", kind: Key = "", stage: Key = ""):
    return selectors.org_search(request.scope, q=q, kind=kind, stage=stage)


@router.get("/{code}", response=OrgOut)
def get_org(request, code: Key):
    return selectors.access_org(request.scope, code)
