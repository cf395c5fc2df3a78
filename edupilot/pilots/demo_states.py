"""The demo's pilots, each taken to a state worth looking at today, through the services.

Seven pilots of 晋江市, ten months into a one-year period (see ``pilots.demo``):

0. every plan and report accepted on time;
1. reports late twice (handed in after the reminder), the last one waiting for the county;
2. plan returned for revision, the last two months' reports missing (overdue: the county's
   admin is told);
3. under inspection: the city's centre visited and asked for rectification;
4. under acceptance: materials handed in, two experts assigned, one has scored;
5. accepted 优秀: awarded from the fund and titled 示范校 after its 公示; its typical case
   (典型案例) accepted by the city and public;
6. accepted 合格.

Dates are given to the services (``now=``) so that lateness and due dates are what they
would have been; nothing is written around them.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.utils import timezone

from edupilot.applications.demo import _scope_for, demo_pdf
from edupilot.audit.services import Actor
from edupilot.orgs.models import Membership, Role
from edupilot.programmes.models import Programme
from edupilot.programmes.schema_base import SHANGHAI
from edupilot.selection import experts as selection_experts
from edupilot.selection.demo import EXPERTS, Acting, _acting

from . import acceptance, honours, inspections, services
from .models import AcceptanceReview, Pilot, Submission
from .periods import add_months, report_periods
from .reports import report_reminders_send

log = logging.getLogger(__name__)

CITY_ADMIN = "quanzhou_admin"
COUNTY_REVIEWER = "jinjiang"
PROGRESS = "本月完成教师智慧校园平台应用培训两场，平台日均登录人数稳步上升；完成数据对接一项。"
PROBLEMS = "部分班级终端老化，下月拟协调更换。"


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


def _unit(pilot: Pilot) -> Acting:
    m = (
        Membership.objects.filter(org=pilot.unit, role=Role.APPLICANT)
        .select_related("user")
        .first()
    )
    actor = Actor(user=m.user if m else None, org=pilot.unit)
    return Acting(m, actor, _scope_for(pilot.unit, actor))


def _post(**fields) -> QueryDict:
    q = QueryDict(mutable=True)
    for key, value in fields.items():
        if isinstance(value, list):
            q.setlist(key, value)
        else:
            q[key] = str(value)
    return q


PLAN = _post(
    **{
        "f-phases-rows": 2,
        "f-phases-0-name": "建设与部署",
        "f-phases-0-tasks": "完成平台部署、数据对接和教师账号开通。",
        "f-phases-1-name": "全面应用",
        "f-phases-1-tasks": "全校常态化应用，每月通报使用情况。",
        "f-budget-rows": 1,
        "f-budget-0-item": "终端与网络改造",
        "f-budget-0-amount": "35.5",
        "f-results": "形成可推广的智慧校园应用模式，教师平台应用率达到 90% 以上。",
    }
)


def _hand_in(pilot, unit, stage, period, post, when, files=()):
    sub, _ = services.submission_save(
        pilot=pilot, stage_key=stage, period=period, post=post, scope=unit.scope,
        actor=unit.actor, now=when,
    )  # fmt: skip
    for field_key in files:
        upload = SimpleUploadedFile(f"{field_key}.pdf", demo_pdf(), content_type="application/pdf")
        services.submission_attach(
            submission=sub, field_key=field_key, upload=upload, scope=unit.scope, actor=unit.actor
        )
    return services.submission_submit(submission=sub, scope=unit.scope, actor=unit.actor, now=when)


def _plan_dates(pilot: Pilot, post: QueryDict) -> QueryDict:
    post = post.copy()
    post["f-phases-0-starts"] = pilot.starts_on.isoformat()
    post["f-phases-0-ends"] = add_months(pilot.starts_on, 3).isoformat()
    post["f-phases-1-starts"] = add_months(pilot.starts_on, 3).isoformat()
    post["f-phases-1-ends"] = (pilot.ends_on or add_months(pilot.starts_on, 12)).isoformat()
    return post


def walk_pilots(programme: Programme) -> None:
    pilots = list(
        Pilot.objects.filter(programme=programme).select_related("unit", "programme")
        .order_by("pk")
    )  # fmt: skip
    county = _acting(COUNTY_REVIEWER, Role.REVIEWER)
    city = _acting(CITY_ADMIN, Role.PROGRAMME_ADMIN)
    if len(pilots) < 7 or county is None or city is None:
        log.warning("pilot demo: %s pilots; the states need 7", len(pilots))
        return
    units = [_unit(p) for p in pilots]
    monthly = programme.parsed.pilot.stage("monthly")
    periods = report_periods(pilots[0], monthly)
    today = timezone.localdate()
    past = [p for p in periods if p.due_at.date() < today]
    for i, (pilot, unit) in enumerate(zip(pilots, units, strict=True)):
        when = _at(pilot.starts_on + dt.timedelta(days=20))
        plan = _hand_in(pilot, unit, "plan", "", _plan_dates(pilot, PLAN), when)
        if i == 2:
            services.submission_return(
                submission=plan, scope=county.scope, actor=county.actor,
                reason="经费预算须分年度列明，并补充里程碑节点。", now=when + dt.timedelta(days=3),
            )  # fmt: skip
        else:
            services.submission_accept(
                submission=plan, scope=county.scope, actor=county.actor,
                reason="方案可行，同意实施。", now=when + dt.timedelta(days=3),
            )  # fmt: skip
        _reports(i, pilot, unit, county, past)
    _inspection(pilots[3], city)
    _acceptance(programme, pilots, units, city)
    report_reminders_send(now=_at(today, 9))


def _reports(i: int, pilot: Pilot, unit: Acting, county: Acting, past) -> None:
    for n, period in enumerate(past):
        if i == 2 and n >= len(past) - 2:
            continue  # overdue: never handed in
        late = i == 1 and n >= len(past) - 3
        due = period.due_at.astimezone(SHANGHAI)
        when = due + dt.timedelta(days=3) if late else due - dt.timedelta(days=4)
        post = _post(**{"f-progress": PROGRESS, "f-users": 300 + 20 * n, "f-problems": PROBLEMS})
        sub = _hand_in(pilot, unit, "monthly", period.key, post, when)
        if i == 1 and n == len(past) - 1:
            continue  # waiting for the county
        services.submission_accept(
            submission=sub, scope=county.scope, actor=county.actor,
            now=when + dt.timedelta(days=2),
        )  # fmt: skip


def _inspection(pilot: Pilot, city: Acting) -> None:
    visit = inspections.inspection_schedule(
        pilot=pilot, mode="site", scheduled_for=timezone.localdate() - dt.timedelta(days=12),
        team="泉州市电化教育馆 陈老师、林老师", scope=city.scope, actor=city.actor,
    )  # fmt: skip
    inspections.inspection_record(
        inspection=visit,
        findings="平台已部署，但部分年级使用率偏低，数据未按要求对接市级平台。",
        demands="一个月内完成与市级平台的数据对接，并报送各年级使用情况。",
        scope=city.scope,
        actor=city.actor,
    )


def _acceptance(programme: Programme, pilots, units, city: Acting) -> None:
    stage = programme.parsed.pilot.stage("acceptance")
    materials = [services.material_key(m.key) for m in stage.materials]
    panel = [a for a in (_acting(u, Role.EXPERT) for u in EXPERTS) if a is not None]
    members = [
        selection_experts.expert_pool_add(
            programme=programme, membership=e.membership, note="演示：验收专家",
            scope=city.scope, actor=city.actor,
        )
        for e in panel
    ]  # fmt: skip
    summary = _post(**{"f-summary": "一年来完成平台部署与全面应用，形成“平台+教研”应用模式。"})
    for i, grade in ((4, None), (5, "excellent"), (6, "pass")):
        pilot, unit = pilots[i], units[i]
        sub = _hand_in(pilot, unit, "acceptance", "", summary, None, files=materials)
        scores = (
            {"use": "37", "effect": "38", "management": "19"}
            if grade == "excellent"
            else {"use": "30", "effect": "28", "management": "15"}
        )
        for n, (expert, member) in enumerate(zip(panel, members, strict=True)):
            review = acceptance.acceptance_assign(
                submission=sub, member=member, scope=city.scope, actor=city.actor
            )
            if grade is None and n > 0:
                continue  # one has scored, the others have not yet
            acceptance.acceptance_score(
                review=AcceptanceReview.objects.get(pk=review.pk), scores=scores,
                comment="材料齐全，应用成效明显。", submit=True, scope=expert.scope,
                actor=expert.actor,
            )  # fmt: skip
        if grade is not None:
            acceptance.acceptance_decide(
                submission=Submission.objects.get(pk=sub.pk), grade=grade,
                opinion="经专家评估，同意通过验收。", scope=city.scope, actor=city.actor,
            )  # fmt: skip
    best = Pilot.objects.get(pk=pilots[5].pk)
    honours.award_grant(pilot=best, stage="awards", scope=city.scope, actor=city.actor)
    honours.honour_propose(
        pilot=best, stage="titles", title="demo_school", scope=city.scope, actor=city.actor
    )
    announced = _at(timezone.localdate() - dt.timedelta(days=8))
    honours.honours_announce(
        programme=programme, stage="titles", scope=city.scope, actor=city.actor, now=announced
    )
    honours.honours_finalize(programme=programme, stage="titles", scope=city.scope,
                             actor=city.actor)  # fmt: skip
    # The 示范校's typical case, accepted by the city: the public portal's 典型案例.
    case = _post(**{"f-summary": "“平台+教研”应用模式：以智慧校园平台支撑集体备课与课堂观察。"})
    sub = _hand_in(
        best, units[5], "cases", "", case, _at(timezone.localdate() - dt.timedelta(days=6))
    )
    services.submission_accept(
        submission=sub, reason="案例经验可推广，同意公开。", scope=city.scope, actor=city.actor,
        now=_at(timezone.localdate() - dt.timedelta(days=5)),
    )  # fmt: skip
