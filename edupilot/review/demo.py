"""Demo review states: a city that has recommended, returned and declined some bids, so the
queue, the quota bar, the applicant's page with return reasons and the issuer's board all
have something to show. Runs after edupilot.applications.demo (see edupilot.demo)."""

from __future__ import annotations

import logging

from edupilot.applications.models import Application, AppState
from edupilot.audit.services import Actor
from edupilot.orgs.models import Membership, Role
from edupilot.orgs.scoping import Scope

from . import services

log = logging.getLogger(__name__)


def _reviewer(org_code: str) -> tuple[Scope, Actor] | None:
    m = (
        Membership.objects.filter(org__code=org_code, role=Role.REVIEWER, is_active=True)
        .select_related("org", "user")
        .order_by("pk")
        .first()
    )
    if m is None:
        return None
    return Scope.for_membership(m), Actor(user=m.user, org=m.org)


def load_demo(*, actor: Actor) -> None:
    # 郑州市: recommends within its 15 places, returns one, declines one.
    _act(
        "410100",
        "henan-tencent-2019",
        5,
        "基础条件较好，同意推荐。",
        refuse=True,
        category="school",
    )
    # 西湖区: two of its schools go up to 杭州市, so both queues have something to show.
    _act("330106", "zhejiang-smart-education-2019", 2, "应用基础扎实，同意推荐。")


def _act(org_code: str, programme_code: str, n: int, opinion: str, refuse=False, **filters):
    """The reviewer of ``org_code`` recommends its first ``n`` waiting bids and (``refuse``)
    returns the next one and declines the one after, where there are that many."""
    reviewer = _reviewer(org_code)
    if reviewer is None:
        return
    scope, who = reviewer
    waiting = list(
        Application.objects.filter(
            programme__code=programme_code, current_org_id=scope.org_id,
            state=AppState.SUBMITTED, **filters,
        ).order_by("pk")
    )  # fmt: skip
    plan = [("recommend", app) for app in waiting[:n]]
    if refuse and len(waiting) > n + 1:
        plan += [("return", waiting[n]), ("decline", waiting[n + 1])]
    for action, app in plan:
        try:
            if action == "recommend":
                services.review_recommend(application=app, scope=scope, actor=who, opinion=opinion)
            elif action == "return":
                services.review_return(
                    application=app,
                    scope=scope,
                    actor=who,
                    reasons="请补充无线网络覆盖情况，并上传加盖学校公章的申请表。",
                )
            else:
                services.review_not_recommend(
                    application=app,
                    scope=scope,
                    actor=who,
                    reason="本年度名额有限，建议下一批次申报。",
                )
        except services.ReviewError as exc:
            log.info("demo review %s of %s not done: %s", action, app.pk, exc.message)
