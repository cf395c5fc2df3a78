"""Deadline reminders of the review levels, the issuer's experts and returned applications.

Registered as the reminder provider ``review.level_deadlines`` (its name is kept: the keys of
reminders already sent depend on it); ``edupilot.core`` imports this module at start.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from edupilot.applications.models import Application, AppState
from edupilot.core.notifications import (
    Reminder,
    days_until_due,
    register_reminder_provider,
    reminder_lead_days,
)
from edupilot.orgs.models import Role
from edupilot.programmes.models import Programme
from edupilot.review import joint

from .models import ExpertAssignment
from .permissions import fmt_time


def _link(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def lead_days(programme: Programme) -> tuple[int, ...]:
    """Days before a review level's deadline to remind: ``[reminders] days_before`` or default."""
    spec = programme.parsed
    if spec.reminders is not None:
        return tuple(spec.reminders.days_before)
    return reminder_lead_days(programme, "review_deadline")


@dataclass
class _Waiting:
    apps: list[dict]
    said: set[tuple[int, int]]  # (application, org): opinions given at a joint step


def _waiting(programme: Programme, category: str) -> _Waiting:
    apps = list(
        Application.objects.filter(
            programme=programme,
            category=category,
            state__in=(AppState.SUBMITTED, AppState.RECOMMENDED, AppState.RETURNED),
        ).values(
            "pk", "state", "chain", "current_step", "version", "current_org_id", "applicant_org_id"
        )
    )
    under_review = [a for a in apps if a["state"] == AppState.SUBMITTED]
    return _Waiting(apps, joint.spoken(under_review))


def _at_level(waiting: _Waiting, level_key: str) -> tuple[dict, dict, list[int]]:
    """Of the waiting applications, those at ``level_key``: counts per reviewing org (at a
    joint step, per org that has not yet given its opinion), counts per applicant of the
    returned ones, and the ids of those under review."""
    at_level: dict[int, int] = defaultdict(int)
    returned: dict[int, int] = defaultdict(int)
    app_ids = []
    for a in waiting.apps:
        step = a["current_step"]
        if step is None or not a["chain"] or step >= len(a["chain"]):
            continue
        if a["chain"][step]["level"] != level_key:
            continue
        if a["state"] == AppState.RETURNED:
            returned[a["applicant_org_id"]] += 1
        else:
            # A joint review step waits for each of its orgs that has not spoken yet.
            for org_id in joint.waiting_orgs(a, a["chain"][step], waiting.said):
                at_level[org_id] += 1
            app_ids.append(a["pk"])
    return at_level, returned, app_ids


def level_reminders(programme: Programme, today: dt.date) -> Iterable[Reminder]:
    """What is due ``today`` for one programme: each review level N days before its deadline.

    - the orgs with applications still waiting at that level (their reviewers and admins);
    - at the issuer's level, the experts with unsubmitted scores;
    - the applicants of applications returned by that level, whose resubmission deadline it is.
    """
    leads = lead_days(programme)
    for category in programme.parsed.categories:
        waiting = None
        for level in category.levels:
            deadline = programme.level_deadline(category.code, level.key)
            if deadline is None:
                continue
            n = days_until_due(deadline, today, leads)
            if n is None:
                continue
            if waiting is None:
                waiting = _waiting(programme, category.code)
            at_level, returned, app_ids = _at_level(waiting, level.key)
            due = _Due(
                base=f"review-deadline:{programme.code}:{category.code}:{level.key}",
                n=n,
                when=fmt_time(deadline),
                days="今天" if n == 0 else f"{n} 天后",
            )
            for org_id, count in sorted(at_level.items()):
                yield Reminder(
                    key=f"{due.base}:{org_id}:{n}",
                    event="review.deadline_reminder",
                    title=f"{programme.title}·{category.name}：{level.name}{due.days}截止",
                    body=f"还有 {count} 份申报等待本级处理，截止时间 {due.when}（北京时间）。",
                    link=_link("review:queue"),
                    orgs=(org_id,),
                    roles=(Role.REVIEWER, Role.PROGRAMME_ADMIN),
                )
            for org_id, count in sorted(returned.items()):
                yield Reminder(
                    key=f"{due.base}:returned:{org_id}:{n}",
                    event="application.resubmit_reminder",
                    title=f"{programme.title}：退回修改的申报{due.days}截止重新提交",
                    body=f"您有 {count} 份退回修改的申报，请在 {due.when}（北京时间）前修改并重新提交。",
                    link=_link("applications:home"),
                    orgs=(org_id,),
                    roles=(Role.APPLICANT,),
                )
            if level.key == category.levels[-1].key and app_ids:
                yield from _expert_reminders(programme, app_ids, due)


@dataclass(frozen=True)
class _Due:
    base: str  # the reminder key's prefix: programme, category, level
    n: int  # days left
    when: str
    days: str


def _expert_reminders(programme: Programme, app_ids: list[int], due: _Due) -> Iterable[Reminder]:
    """The experts with unsubmitted scores on applications at the issuer's level."""
    experts = sorted(
        set(
            ExpertAssignment.objects.filter(
                application_id__in=app_ids, is_active=True, submitted_at__isnull=True
            ).values_list("expert_id", flat=True)
        )
    )
    for expert_id in experts:
        yield Reminder(
            key=f"{due.base}:expert:{expert_id}:{due.n}",
            event="review.expert_reminder",
            title=f"{programme.title}：专家评分{due.days}截止",
            body=f"您还有未提交的评分，截止时间 {due.when}（北京时间）。",
            link=_link("selection:expert_tasks"),
            users=(expert_id,),
        )


@register_reminder_provider("review.level_deadlines")
def level_deadline_reminders(today: dt.date) -> Iterable[Reminder]:
    for programme in Programme.objects.filter(is_active=True, kind="call").select_related("issuer"):
        yield from level_reminders(programme, today)
