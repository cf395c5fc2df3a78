"""The staged-flow demo (edupilot.selection.demo): 衡阳's invented smart-classroom notice with
an application waiting at each stage today, made through the services, and loadable twice."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from edupilot import demo as site_demo
from edupilot.applications.models import Application, AppState
from edupilot.applications.selectors import applications_for
from edupilot.audit.services import Actor
from edupilot.orgs.demo import generate_schools
from edupilot.orgs.models import Membership
from edupilot.orgs.scoping import Scope
from edupilot.programmes import loader
from edupilot.review import services as review
from edupilot.review.models import ReviewAction
from edupilot.selection import demo
from edupilot.selection.models import (
    Announcement,
    ApprovalDecision,
    ExpertAssignment,
    ExpertGroupOpinion,
    ExpertPoolMember,
)
from edupilot.selection.permissions import can_decide_application, can_score_assignment
from tests.conftest import org

CHAIN = ["tier_review", "expert_scoring", "org_review", "approval"]


def scope_of(username: str) -> Scope:
    return Scope.for_membership(
        Membership.objects.select_related("org").get(user__username=username)
    )


@pytest.fixture
def staged_demo(seeded):
    # Only 衡阳's tree, at a twentieth of its schools: enough for five bids in two counties.
    generate_schools(["hengyang"], scale=0.05, seed=2024)
    accounts = site_demo.create_accounts()
    programme = demo.load_demo(actor=Actor.system())
    assert programme is not None
    return programme, {a.username for a in accounts}


def test_the_file_is_an_example_not_a_seed_programme(seeded):
    path = demo.programme_path()
    assert path.parent.name == "examples"
    assert path not in set(settings.EDUPILOT_PROGRAMMES_DIR.glob("*.toml"))
    text = path.read_text(encoding="utf-8")
    assert "INVENTED" in text.split("schema_version")[0]
    assert site_demo.DEMO_PARTS.index("edupilot.selection.demo") > site_demo.DEMO_PARTS.index(
        "edupilot.review.demo"
    )


def test_each_stage_has_an_application_today(staged_demo):
    programme, accounts = staged_demo
    assert programme.code == demo.CODE
    assert {"hengyang_admin", "hengyangxian", "hengnan", "hengyang_djg"} <= accounts
    assert {"school_hengyang", "school_hengnan", *demo.EXPERTS} <= accounts
    centre = org("衡阳市电化教育馆")
    assert Membership.objects.get(user__username="hengyang_djg").org == centre

    # Dates: the applications are in, the county stage is still open.
    now = timezone.now()
    county_deadline = programme.level_deadline("school", "county")
    assert programme.closes_at < now < county_deadline
    assert programme.time_shift_days != 0

    by_state = {}
    for a in Application.objects.filter(programme=programme).select_related("applicant_org"):
        assert [s["kind"] for s in a.chain] == CHAIN
        by_state.setdefault((a.state, a.current_step), []).append(a)
    assert sorted((s, step, len(v)) for (s, step), v in by_state.items()) == sorted(
        [
            (AppState.SUBMITTED, 0, 1),
            (AppState.SUBMITTED, 1, 1),
            (AppState.SUBMITTED, 2, 1),
            (AppState.RECOMMENDED, 3, 1),
            (AppState.APPROVED, 3, 1),
        ]
    )
    (waiting,) = by_state[(AppState.SUBMITTED, 0)]
    (at_panel,) = by_state[(AppState.SUBMITTED, 1)]
    (at_centre,) = by_state[(AppState.SUBMITTED, 2)]
    (for_decision,) = by_state[(AppState.RECOMMENDED, 3)]
    (approved,) = by_state[(AppState.APPROVED, 3)]

    # The county reviewer can act on the one waiting, and the school is the demo account's.
    assert waiting.current_org == org("衡阳县")
    assert Membership.objects.get(user__username="school_hengyang").org == waiting.applicant_org
    assert review.can_decide(scope_of("hengyangxian"), waiting, ReviewAction.RECOMMEND) == (
        True,
        "",
    )

    # The panel: one of two scores in, two experts may still score.
    done = ExpertAssignment.objects.filter(application=at_panel, submitted_at__isnull=False)
    assert done.count() == 1
    open_tasks = ExpertAssignment.objects.filter(
        application=at_panel, is_active=True, submitted_at__isnull=True
    )
    assert {t.expert.username for t in open_tasks.select_related("expert")} == {
        "expert_luoyang",
        "expert_nanyang",
    }
    for task in open_tasks.select_related("expert"):
        assert can_score_assignment(scope_of(task.expert.username), task)[0]
    assert ExpertPoolMember.objects.filter(programme=programme, is_active=True).count() == 3
    assert not ExpertAssignment.objects.filter(
        application__programme=programme, expert_org__path__startswith=org("430400").path
    ).exists(), "no 衡阳 expert scores a 衡阳 school"

    # The centre: panel done, the group's opinion recorded, the centre may act now.
    assert at_centre.current_org == centre
    assert ExpertGroupOpinion.objects.filter(application=at_centre).exists()
    ok = review.can_decide(scope_of("hengyang_djg"), at_centre, ReviewAction.RECOMMEND)
    assert ok == (True, "")
    reached = set(applications_for(scope_of("hengyang_djg")).values_list("pk", flat=True))
    assert at_centre.pk in reached and waiting.pk not in reached

    # The city: one to decide, one approved on a published 公示 (the school_hengnan account's).
    assert can_decide_application(scope_of("hengyang_admin"), for_decision, decided=False)[0]
    assert not ApprovalDecision.objects.filter(application=for_decision).exists()
    (ann,) = Announcement.objects.filter(programme=programme)
    assert [e.application_id for e in ann.entries.all()] == [approved.pk]
    assert Membership.objects.get(user__username="school_hengnan").org == approved.applicant_org


def test_loading_again_changes_nothing(staged_demo):
    programme, _ = staged_demo
    counts = (
        Application.objects.filter(programme=programme).count(),
        ExpertAssignment.objects.count(),
        Announcement.objects.count(),
        ExpertGroupOpinion.objects.count(),
    )
    states = list(
        Application.objects.filter(programme=programme)
        .order_by("pk")
        .values_list("state", "current_step")
    )
    site_demo.create_accounts()
    again = demo.load_demo(actor=Actor.system())
    assert again.pk == programme.pk and again.time_shift_days == programme.time_shift_days
    assert counts == (
        Application.objects.filter(programme=programme).count(),
        ExpertAssignment.objects.count(),
        Announcement.objects.count(),
        ExpertGroupOpinion.objects.count(),
    )
    assert states == list(
        Application.objects.filter(programme=programme)
        .order_by("pk")
        .values_list("state", "current_step")
    )


def test_the_file_validates_against_the_demo_tree(seeded):
    generate_schools(["hengyang"], scale=0.01, seed=2024)
    parsed, errors = loader.validate(demo.programme_path())
    assert errors == [] and parsed.spec.code == demo.CODE
