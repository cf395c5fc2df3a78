"""Two orgs of a joint review agree at the same instant: the step completes exactly once; two
reviewers of one org answer at once: one opinion counts, the other is refused (PostgreSQL)."""

import time

import pytest
from django.db import connection
from django.db.models.signals import pre_save

from edupilot.applications.models import AppState
from edupilot.orgs.models import Role
from edupilot.review import services
from edupilot.review.models import JointOpinion, ReviewDecision
from tests.applications.conftest import Who
from tests.conftest import org
from tests.programme_files import hengyang_units

from .test_concurrency import _race
from .test_joint import at_joint_step, load

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real row locks need PostgreSQL"),
]


@pytest.fixture
def slow_opinions():
    """Each opinion pauses before it is written: without the application lock both orgs
    would count one agreement and the step would never complete."""

    def pause(sender, instance, **kwargs):
        if instance.verdict:
            time.sleep(0.3)

    pre_save.connect(pause, sender=JointOpinion, dispatch_uid="test-slow-opinions")
    yield
    pre_save.disconnect(sender=JointOpinion, dispatch_uid="test-slow-opinions")


@pytest.mark.django_db(transaction=True)
def test_two_orgs_agreeing_at_once_complete_the_step_once(transactional_seeded, slow_opinions):
    hengyang_units()
    app, *_ = at_joint_step(load())
    city, finance = Who(org("430400"), Role.REVIEWER), Who(org("430400-czj"), Role.REVIEWER)
    results = _race(
        [
            lambda w=w: services.review_recommend(
                application=app, scope=w.scope, actor=w.actor, opinion="同意"
            )
            for w in (city, finance)
        ]
    )
    assert sorted(type(r).__name__ for r in results) == ["JointOpinion", "ReviewDecision"]
    app.refresh_from_db()
    assert app.state == AppState.RECOMMENDED
    assert ReviewDecision.objects.filter(application=app, step=1, action="recommend").count() == 1

    # Two reviewers of the same org at once (a new application): one opinion, one refusal.
    other, *_ = at_joint_step(load())
    a, b = Who(org("430400-czj"), Role.REVIEWER), Who(org("430400-czj"), Role.REVIEWER)
    results = _race(
        [
            lambda w=w: services.review_recommend(
                application=other, scope=w.scope, actor=w.actor, opinion="同意"
            )
            for w in (a, b)
        ]
    )
    refused = [r for r in results if isinstance(r, services.ReviewError)]
    assert len(refused) == 1 and "已" in refused[0].message and "发表意见" in refused[0].message
    assert JointOpinion.objects.filter(application=other).exclude(verdict="").count() == 1
