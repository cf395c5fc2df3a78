"""Demo of the pilot period: an invented one-year Quanzhou notice
(programmes/examples/quanzhou-smart-campus-pilots-demo.toml) whose final list is out and whose
pilots are in their eleventh month today, each in a state worth looking at.

The selection runs through the services a person would use, with the file's dates placed so
that the application period is open (晋江市's schools apply, 晋江市 recommends, the city
approves and publishes the 公示); then the dates are moved so that the pilot period started ten
months ago, and the 公示 (no objection period) closes: the final list makes the pilots.
``pilots.demo_states`` then takes them through plans, reports, inspections, acceptance,
titles and awards.

Runs after edupilot.selection.demo (see edupilot.demo). Loading again changes only the date
shift: the walk-through runs only while the programme has no applications.
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
from edupilot.orgs.models import Role
from edupilot.programmes import loader
from edupilot.programmes.models import Programme
from edupilot.programmes.services import ProgrammeLoadRefused, open_now_shift, programme_load
from edupilot.selection import approval
from edupilot.selection.demo import _acting, _recommend, _schools, publish_final_list

from .demo_states import _at
from .models import Pilot
from .periods import add_months

log = logging.getLogger(__name__)

CODE = "quanzhou-smart-campus-pilots-demo"
FILE = "examples/quanzhou-smart-campus-pilots-demo.toml"
COUNTY = ("350582", "jinjiang", "school_jinjiang")  # 晋江市, its reviewer, its school account
CITY_ADMIN = "quanzhou_admin"
PILOTS = 7
MONTHS_IN = 10  # the pilot period started this many months before the current one


def pilot_shift(parsed: loader.ParsedFile, today: dt.date | None = None) -> int:
    """Days to add to the file's dates so that its pilots started ``MONTHS_IN`` months ago."""
    today = today or timezone.localdate()
    target = add_months(today.replace(day=1), -MONTHS_IN)
    return (target - parsed.spec.pilot.starts).days


def load_demo(*, actor: Actor) -> Programme | None:
    path = settings.PROJECT_DIR / "programmes" / FILE
    try:
        parsed = loader.parse_file(path)
        existing = Programme.objects.filter(code=CODE).first()
        fresh = existing is None or not Application.objects.filter(programme=existing).exists()
        if fresh:
            programme = programme_load(
                parsed=parsed, actor=actor, time_shift_days=open_now_shift(parsed)
            ).programme
            _select(programme)
        programme = programme_load(
            parsed=parsed, actor=actor, time_shift_days=pilot_shift(parsed)
        ).programme
        if fresh:
            _publish_final_list(programme)
            from .demo_states import walk_pilots

            walk_pilots(programme)
        return programme
    except loader.ProgrammeFileInvalid as exc:
        log.warning("pilot demo programme not loaded: %s", "; ".join(map(str, exc.errors)))
    except ProgrammeLoadRefused as exc:
        log.warning("pilot demo programme not reloaded: %s", exc)
    except Refused as exc:
        # A demo that cannot finish its story still leaves a working site; say where it stopped.
        log.warning("pilot demo stopped: %s", exc.message)
    return None


def _select(programme: Programme) -> None:
    county_code, reviewer, account = COUNTY
    county = _acting(reviewer, Role.REVIEWER)
    city = _acting(CITY_ADMIN, Role.PROGRAMME_ADMIN)
    schools = _schools(county_code, PILOTS, account)
    if county is None or city is None or len(schools) < PILOTS:
        log.warning("pilot demo: demo accounts or schools missing; no pilots made")
        return
    apps = [make_application(programme, "school", s, submit=True) for s in schools]
    apps = [a for a in apps if a is not None]
    _recommend(county, apps, "该校智慧校园应用基础好，同意推荐为试点校。")
    for app in apps:
        app.refresh_from_db()
        approval.selection_approve(
            application=app, opinion="同意列为试点校。", scope=city.scope, actor=city.actor
        )


def _publish_final_list(programme: Programme) -> None:
    """The 公示 and the final list, dated before the pilots' start: the public reads a list
    published ten months ago, not one dated tomorrow. The file's 公示 has no objection days:
    it ends the night it is published; the demo closes it then."""
    city = _acting(CITY_ADMIN, Role.PROGRAMME_ADMIN)
    if city is None:
        return
    starts = programme.shift(programme.parsed.pilot.starts)
    publish_final_list(programme, city, _at(starts - dt.timedelta(days=2)))
    log.info("pilot demo: %s pilots", Pilot.objects.filter(programme=programme).count())
