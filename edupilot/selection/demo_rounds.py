"""Demo of issue 10's newer constructs: 洛阳市's city round under an invented 河南 call
(programmes/examples/henan-ai-education-labs.toml and luoyang-ai-education-labs.toml).

The round runs to its end through the services a person would use: five schools of 新安县
and 宜阳县 apply; the counties recommend (新安县's 省级人工智能教育特色学校 outside its quota
and ranked first); three experts from outside 洛阳 score, 洛阳市电化教育馆 re-reviews; the city
approves three with their grades (优秀, 良好, 合格; the 不合格 one is rejected), publishes the
公示 with its 评审等级 column, and its final list. The three confirmed units then appear in
the province's call as 洛阳市's recommendations, its 3 places all spent, at the joint review
of 河南省教育厅 and 河南省财政厅: the province has given its opinion on one, the finance
department none yet. 开封市 has recommended one school for 人工智能课程建设; a second of the
same direction waits, and recommending it is refused by the coverage rule (both directions).

The walk-through runs with the files' dates moved so that they open today; then the round is
loaded again, with the province's call, with dates moved into the past (their period closed
45 days ago, every window of the round closed too); the province's city level and joint
review are still open. Runs after edupilot.selection.demo
(see edupilot.demo). Loading again changes only the date shifts: the walk-through runs only
while the round has no applications.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from edupilot.applications.demo import make_application
from edupilot.applications.models import Application
from edupilot.audit.services import Actor
from edupilot.core.errors import Refused
from edupilot.orgs.models import Org, Role
from edupilot.programmes import loader
from edupilot.programmes.models import ParticipantEntry, ParticipantList, Programme
from edupilot.programmes.services import ProgrammeLoadRefused, open_now_shift, programme_load
from edupilot.review import services as review

from . import approval
from .demo import Acting, _acting, _s, _schools, _staff, expert_submit, publish_final_list

log = logging.getLogger(__name__)

PARENT = "henan-ai-education-labs"
ROUND = "luoyang-ai-education-labs"
CATEGORY = "school"
TITLE_LIST = "henan_ai_featured_schools"
CITY_ADMIN, CENTRE = "luoyang_admin", "luoyang_djg"
COUNTY_REVIEWERS = {"410323": "xinan", "410327": "yiyang"}  # 新安县, 宜阳县
PROVINCE, FINANCE, KAIFENG = "henan_reviewer", "henan_czt", "kaifeng"
EXPERTS = ("expert_kaifeng", "expert_ningbo", "expert_wenzhou")  # none of them in 洛阳市
SCHOOL_ACCOUNT = "school_xinan"
ROUND_CLOSED_DAYS_AGO = 45  # county 5 working days, panel 10, centre 5: all closed by today
ANNOUNCED_DAYS_AGO = 12  # the city's 公示 (5 working days) ended before today


# (county, topic, the two experts' scores): 新安县's own, its titled school, 宜阳县's two.
BIDS = (
    ("410323", "ai_course", _s(27, 45, 17), _s(26, 44, 18)),  # 89: 优秀
    ("410323", "ai_teaching", _s(24, 40, 16), _s(25, 39, 15)),  # 79.5: 良好 (titled)
    ("410327", "ai_course", _s(20, 33, 14), _s(21, 34, 13)),  # 67.5: 合格
    ("410327", "ai_teaching", _s(15, 25, 10), _s(14, 26, 11)),  # 50.5: 不合格
)


def path(code: str):
    return settings.PROJECT_DIR / "programmes" / "examples" / f"{code}.toml"


def load_demo(*, actor: Actor) -> Programme | None:
    try:
        parent_parsed = loader.parse_file(path(PARENT))
        parent = programme_load(
            parsed=parent_parsed, actor=actor, time_shift_days=open_now_shift(parent_parsed)
        ).programme
        round_parsed = loader.parse_file(path(ROUND))  # inherits from the loaded parent
        city_round = programme_load(
            parsed=round_parsed, actor=actor, time_shift_days=open_now_shift(round_parsed)
        ).programme
    except loader.ProgrammeFileInvalid as exc:
        # The demo tree makes the units the files name (edupilot.demo.DEMO_UNITS).
        log.warning("round demo programmes not loaded: %s", "; ".join(map(str, exc.errors)))
        return None
    except ProgrammeLoadRefused as exc:
        log.warning("round demo programmes not reloaded: %s", exc)
        return None
    if not Application.objects.filter(programme=city_round).exists():
        _walk_through(parent, city_round)
    try:
        # The round is over: its period and windows lie in the past. The province's call
        # opened with it (one notice, the same dates) and its city level is open until the
        # end of the year: the units wait there, at the joint review.
        programme_load(
            parsed=parent_parsed, actor=actor, time_shift_days=closed_shift(parent_parsed)
        )
        return programme_load(
            parsed=round_parsed, actor=actor, time_shift_days=closed_shift(round_parsed)
        ).programme
    except ProgrammeLoadRefused as exc:
        log.warning("round demo programme not reloaded: %s", exc)
        return city_round


def closed_shift(parsed: loader.ParsedFile, now: dt.datetime | None = None) -> int:
    """Days to add to the round's dates so that its application period closed
    ``ROUND_CLOSED_DAYS_AGO`` days ago (every review window after it has closed too)."""
    now = now or timezone.now()
    closes = timezone.localtime(parsed.spec.period.closes_at).date()
    return (timezone.localtime(now).date() - closes).days - ROUND_CLOSED_DAYS_AGO


def _walk_through(parent: Programme, city_round: Programme) -> None:
    names = (CITY_ADMIN, CENTRE, PROVINCE, FINANCE, KAIFENG, *COUNTY_REVIEWERS.values())
    people = {
        u: _acting(u, Role.REVIEWER if u != CITY_ADMIN else Role.PROGRAMME_ADMIN) for u in names
    }
    panel = [_acting(u, Role.EXPERT) for u in EXPERTS]
    if any(p is None for p in [*people.values(), *panel]):
        log.warning("round demo: some demo accounts are missing; no applications made")
        return
    xinan, yiyang = (
        _schools("410323", 2, SCHOOL_ACCOUNT, public_only=True),
        _schools("410327", 2, public_only=True),
    )
    kaifeng = _schools("410200", 2, public_only=True)
    if len(xinan) < 2 or len(yiyang) < 2 or len(kaifeng) < 2:
        log.warning("round demo: too few schools in the demo tree; no applications made")
        return
    ParticipantEntry.objects.get_or_create(
        plist=ParticipantList.objects.get(code=TITLE_LIST),
        org=xinan[1],
        defaults={"note": "演示：2025 年认定"},
    )
    try:
        apps = [
            _apply(city_round, school, topic)
            for school, (_, topic, *_scores) in zip(xinan + yiyang, BIDS, strict=True)
        ]
        for app in apps:
            _recommend(_county_reviewer(people, app), app, "该校人工智能教育基础较好，同意推荐。")
        _panel(city_round, people[CITY_ADMIN], panel, apps)
        for app in apps:
            _recommend(
                people[CENTRE], app, "经复核，材料真实完整，评审程序规范，同意报市教育局审定。"
            )
        _decide_and_publish(city_round, people[CITY_ADMIN], apps)
        _province(parent, people, kaifeng)
    except Refused as exc:
        log.warning("round demo stopped: %s", exc.message)


def _county_reviewer(people: dict, app: Application) -> Acting:
    """The demo reviewer of the county where the application waits first."""
    by_org = {people[u].membership.org_id: people[u] for u in COUNTY_REVIEWERS.values()}
    return by_org[app.chain[0]["org"]]


def _apply(programme: Programme, school: Org, topic: str) -> Application:
    app = make_application(
        programme, CATEGORY, school, submit=True, answers={"topic": topic, "ai_teachers": "4"}
    )
    if app is None:
        raise Refused(f"{school.name} 的申报未能提交")
    app.refresh_from_db()  # the chain is frozen on submission
    return app


def _recommend(reviewer: Acting, app: Application, opinion: str) -> None:
    app.refresh_from_db()
    review.review_recommend(
        application=app, scope=reviewer.scope, actor=reviewer.actor, opinion=opinion
    )


def _panel(programme: Programme, city: Acting, panel: list[Acting], apps) -> None:
    _staff(programme, city, panel, "洛阳市")
    for app, (_, _topic, *scores) in zip(apps, BIDS, strict=True):
        for expert, given in zip(panel, scores, strict=False):
            expert_submit(
                expert, app, given, "人工智能课程开设规范，实验方案目标明确；建议加强教师培训。"
            )


def _decide_and_publish(programme: Programme, city: Acting, apps) -> None:
    """Approve the three that reach a grade, reject the 不合格 one, publish the 公示 and,
    after its objection period, the final list (the round's units go up to the province)."""
    for app in apps:
        app.refresh_from_db()
    passing, failing = apps[:3], apps[3]
    approval.selection_decide(
        applications=passing,
        outcome="approve",
        opinion="同意列为洛阳市推荐的省级人工智能教育实验校。",
        scope=city.scope,
        actor=city.actor,
    )
    approval.selection_reject(
        application=failing, reason="专家评审得分未达合格等级。", scope=city.scope, actor=city.actor
    )
    # The 公示 went out ANNOUNCED_DAYS_AGO days ago and its period has ended: the public
    # reads a final list dated in the past, not one dated after today.
    publish_final_list(programme, city, timezone.now() - dt.timedelta(days=ANNOUNCED_DAYS_AGO))


def _province(parent: Programme, people: dict, kaifeng: list[Org]) -> None:
    """The joint review: the province's opinion on one of 洛阳's units, the finance
    department's still due; 开封市 recommends one school, a second waits."""
    sent = list(Application.objects.filter(programme=parent).order_by("pk"))
    if sent:
        _recommend(people[PROVINCE], sent[0], "符合省级人工智能教育实验校条件，同意。")
    first = _apply(parent, kaifeng[0], "ai_course")
    _apply(parent, kaifeng[1], "ai_course")
    _recommend(people[KAIFENG], first, "同意推荐。")
