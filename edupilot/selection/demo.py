"""Demo of a staged flow: 衡阳市's invented smart-classroom notice
(programmes/examples/hengyang-smart-classroom-staged.toml), with an application waiting at
each of its stages today.

county review (衡阳县, 衡南县) → expert panel (3 experts, 2 scores needed) → 衡阳市电化教育馆's
re-review → the city's decision → 公示. Everything happens through the services a person
would use, in the order the flow allows: five schools apply, the counties recommend four, the
city staffs the panel, the experts score, the city records the group's opinions, the centre
re-reviews two, the city approves one and publishes the 公示. Then the programme's dates are
moved so that the application period has just closed and the county stage is still open: the
county reviewer can still act on the one left, the experts and the centre on theirs.

Runs after edupilot.review.demo (see edupilot.demo). Loading again changes only the date
shift: the walk-through runs only while the programme has no applications.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from edupilot.applications.demo import make_application
from edupilot.applications.models import Application
from edupilot.audit.services import Actor
from edupilot.core.errors import Refused
from edupilot.orgs.models import Membership, Org, OrgKind, Role, subtree_q
from edupilot.orgs.scoping import Scope
from edupilot.programmes import loader
from edupilot.programmes.models import Programme
from edupilot.programmes.services import ProgrammeLoadRefused, open_now_shift, programme_load
from edupilot.review import services as review

from . import announcements, approval, experts, scoring
from .models import ExpertAssignment

log = logging.getLogger(__name__)

CODE = "hengyang-smart-classroom-staged"
FILE = "examples/hengyang-smart-classroom-staged.toml"
CATEGORY = "school"
CITY_ADMIN = "hengyang_admin"
CENTRE_REVIEWER = "hengyang_djg"
EXPERTS = ("expert_luoyang", "expert_kaifeng", "expert_nanyang")  # none of them in 衡阳市
# County → (its reviewer, the school account whose school applies first, how many apply).
COUNTIES = {
    "430421": ("hengyangxian", "school_hengyang", 2),  # 衡阳县: one waiting, one at the panel
    "430422": ("hengnan", "school_hengnan", 3),  # 衡南县: approved, for decision, at the centre
}
CLOSED_DAYS_AGO = 2  # the application period closed this many days before today


@dataclass(frozen=True)
class Acting:
    membership: Membership
    actor: Actor
    scope: Scope


def programme_path():
    return settings.PROJECT_DIR / "programmes" / FILE


def county_open_shift(parsed: loader.ParsedFile, now: dt.datetime | None = None) -> int:
    """Days to add to the file's dates so that its application period closed
    ``CLOSED_DAYS_AGO`` days ago and the county stage is open today; where the county's
    window would be too short for that, the ``--open-now`` shift."""
    now = now or timezone.now()
    closes = parsed.spec.period.closes_at
    shift = (timezone.localtime(now).date() - timezone.localtime(closes).date()).days
    shift -= CLOSED_DAYS_AGO
    county = parsed.spec.category(CATEGORY).stage("county")
    if county.deadline_at + dt.timedelta(days=shift) <= now + dt.timedelta(days=1):
        return open_now_shift(parsed, now)
    return shift


def _acting(username: str, role: str) -> Acting | None:
    m = (
        Membership.objects.filter(user__username=username, role=role, is_active=True)
        .select_related("org", "user")
        .order_by("pk")
        .first()
    )
    if m is None:
        return None
    return Acting(m, Actor(user=m.user, org=m.org), Scope.for_membership(m))


def _schools(
    parent_code: str, n: int, account: str | None = None, *, public_only: bool = False
) -> list[Org]:
    """``n`` primary or junior schools under an org (``public_only``: public ones), the demo
    account's own school first."""
    parent = Org.objects.filter(code=parent_code).first()
    if parent is None:
        return []
    eligible = (
        Org.objects.filter(subtree_q(parent.path), kind=OrgKind.SCHOOL, is_active=True)
        .filter(Q(stages__contains=",primary,") | Q(stages__contains=",junior,"))
        .order_by("code")
    )
    if public_only:
        eligible = eligible.filter(ownership="public")
    own = (
        Membership.objects.filter(user__username=account, role=Role.APPLICANT, org__in=eligible)
        .values_list("org_id", flat=True)
        .first()
    )
    first = list(eligible.filter(pk=own)) if own else []
    return (first + list(eligible.exclude(pk=own)[:n]))[:n]


def load_demo(*, actor: Actor) -> Programme | None:
    path = programme_path()
    try:
        parsed = loader.parse_file(path)
        existing = Programme.objects.filter(code=CODE).first()
        if existing is None or not Application.objects.filter(programme=existing).exists():
            programme = programme_load(
                parsed=parsed, actor=actor, time_shift_days=open_now_shift(parsed)
            ).programme
            _walk_through(programme)
        return programme_load(
            parsed=parsed, actor=actor, time_shift_days=county_open_shift(parsed)
        ).programme
    except loader.ProgrammeFileInvalid as exc:
        # The demo tree makes the org the file names (衡阳市电化教育馆); a bare tree does not.
        log.warning("staged demo programme not loaded: %s", "; ".join(map(str, exc.errors)))
    except ProgrammeLoadRefused as exc:
        log.warning("staged demo programme not reloaded: %s", exc)
    return None


def _walk_through(programme: Programme) -> None:
    city = _acting(CITY_ADMIN, Role.PROGRAMME_ADMIN)
    centre = _acting(CENTRE_REVIEWER, Role.REVIEWER)
    panel = [_acting(u, Role.EXPERT) for u in EXPERTS]
    counties = {code: _acting(user, Role.REVIEWER) for code, (user, _, _) in COUNTIES.items()}
    people = [city, centre, *panel, *counties.values()]
    if any(p is None for p in people):
        log.warning("staged demo: some demo accounts are missing; no applications made")
        return
    schools = {code: _schools(code, n, account) for code, (_, account, n) in COUNTIES.items()}
    if any(len(s) < COUNTIES[code][2] for code, s in schools.items()):
        log.warning("staged demo: too few schools in the demo tree; no applications made")
        return
    apps = [
        make_application(programme, CATEGORY, s, submit=True) for s in sum(schools.values(), [])
    ]
    if any(a is None for a in apps):
        log.warning("staged demo: an application could not be submitted; stopped there")
        return
    waiting, at_panel, approved, for_decision, at_centre = apps
    try:
        _recommend(counties["430421"], [at_panel], COUNTY_OPINION)
        _recommend(counties["430422"], [approved, for_decision, at_centre], COUNTY_OPINION)
        _panel(programme, city, panel, approved, for_decision, at_centre, at_panel)
        _recommend(centre, [approved, for_decision], CENTRE_OPINION)
        approved.refresh_from_db()
        approval.selection_approve(
            application=approved,
            opinion="同意列为衡阳市中小学智慧课堂试点校。",
            scope=city.scope,
            actor=city.actor,
        )
        announcements.announcement_publish(programme=programme, scope=city.scope, actor=city.actor)
    except Refused as exc:
        # A demo that cannot finish its story still leaves a working site; say where it stopped.
        log.warning("staged demo stopped: %s", exc.message)


COUNTY_OPINION = "该校智慧课堂建设基础较好，方案切实可行，同意推荐。"
CENTRE_OPINION = "经复核，申报材料真实完整，专家评审程序规范，同意报市教育局审定。"


def _recommend(reviewer: Acting, apps: list[Application], opinion: str) -> None:
    for app in apps:
        app.refresh_from_db()
        review.review_recommend(
            application=app, scope=reviewer.scope, actor=reviewer.actor, opinion=opinion
        )


# Which experts score which application (indexes into EXPERTS), and their scores.
def _s(basis: int, plan: int, support: int) -> dict[str, str]:
    return {"basis": str(basis), "plan": str(plan), "support": str(support)}


SCORES = (
    ((0, _s(27, 44, 18)), (1, _s(25, 41, 17))),
    ((1, _s(24, 40, 16)), (2, _s(26, 38, 15))),
    ((0, _s(22, 36, 15)), (2, _s(23, 39, 16))),
    ((1, _s(20, 35, 15)),),  # expert_luoyang and expert_nanyang may still score it
)


def _panel(programme: Programme, city: Acting, panel: list[Acting], *apps: Application) -> None:
    """Staff the panel (3 experts each), score: two scores move the first three on by
    themselves, the last keeps one; then the expert group's opinion on the three."""
    _staff(programme, city, panel, "衡阳市")
    for app, scores in zip(apps, SCORES, strict=True):
        for i, given in scores:
            expert_submit(
                panel[i],
                app,
                given,
                "工作基础扎实，实施方案目标明确、步骤可行；建议细化教师培训安排。",
            )
    names = "、".join(p.actor.user.display_name for p in panel)
    for app in apps[:3]:
        app.refresh_from_db()
        scoring.expert_group_opinion_record(
            application=app,
            text="专家组经评审，认为该校试点基础较好、方案可行，同意推荐进入复核。",
            signed_by=names,
            scope=city.scope,
            actor=city.actor,
        )


def _staff(programme: Programme, city: Acting, panel: list[Acting], city_name: str) -> None:
    """The panel's experts join the programme's pool; each application gets its experts."""
    for expert in panel:
        experts.expert_pool_add(
            programme=programme,
            membership=expert.membership,
            note=f"演示：外市专家，与{city_name}的学校无利害关系",
            scope=city.scope,
            actor=city.actor,
        )
    experts.experts_auto_assign(programme=programme, scope=city.scope, actor=city.actor)


def publish_final_list(programme: Programme, city: Acting, published: dt.datetime) -> None:
    """``city`` publishes the programme's 公示 at ``published`` (a past time, so the public
    reads a final list dated then, not after today) and it closes the moment its objection
    period ends, making the list final."""
    ann = announcements.announcement_publish(
        programme=programme, scope=city.scope, actor=city.actor, now=published
    )
    announcements.announcement_close(
        announcement=ann,
        scope=city.scope,
        actor=city.actor,
        now=ann.objection_until + dt.timedelta(seconds=1),
    )


def expert_submit(expert: Acting, app, scores, comment: str) -> None:
    """``expert`` submits its scores of ``app`` (its active assignment), as on its page."""
    assignment = ExpertAssignment.objects.get(
        application=app, expert_id=expert.scope.user_id, is_active=True
    )
    scoring.expert_scores_save(
        assignment=assignment,
        scores=scores,
        comment=comment,
        submit=True,
        scope=expert.scope,
        actor=expert.actor,
    )
