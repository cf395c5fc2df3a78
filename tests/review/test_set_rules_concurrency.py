"""Concurrent recommendations and approvals at a set rule's limit: exactly what the rule allows
passes (PostgreSQL), as for quotas (test_concurrency.py).

The recommendation race runs without any quota in the category, so no quota row lock
serialises the reviewers: only the set's own lock (review/sets.py) and the level's (a category
has one review stage per tier, so a set's recommendations are always one level's too).

The withdrawal racing an approval is the one pair that shares no other lock: the city's
withdrawal locks its application and its level, the province's approval the programme row and
the application it approves; only the set lock, taken by both, keeps ``confirm_ratio``.
"""

import time

import pytest
from django.db import connection
from django.db.models.signals import pre_save

from edupilot.orgs.models import Locality, Org, OrgKind, Role
from edupilot.review import services
from edupilot.review.models import ReviewDecision
from edupilot.selection import approval
from edupilot.selection.errors import SelectionError
from edupilot.selection.models import ApprovalDecision, ApprovalOutcome
from tests.conftest import org
from tests.selection.test_experts_support import load_henan, to_issuer, who

from .conftest import reviewer, school_in, submit_as
from .test_concurrency import _race, slow_decisions  # noqa: F401 - a fixture
from .test_set_rules import EACH_AND_RULES, school_table

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real row locks need PostgreSQL"),
]

RULES_ONLY = EACH_AND_RULES[EACH_AND_RULES.index("[[categories.set_rules]]") :]


@pytest.fixture
def slow_writes():
    """Widen the race: every write of a recommendation or an approval decision (after its
    checks, before its commit) pauses, so that without a shared lock both checks would read
    the set as it was."""

    def pause(sender, instance, **kwargs):
        time.sleep(0.4)

    for model in (ReviewDecision, ApprovalDecision):
        pre_save.connect(pause, sender=model, dispatch_uid=f"test-slow-{model.__name__}")
    yield
    for model in (ReviewDecision, ApprovalDecision):
        pre_save.disconnect(sender=model, dispatch_uid=f"test-slow-{model.__name__}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("slow_decisions")
def test_concurrent_recommendations_never_pass_a_group_limit(transactional_seeded):
    henan = load_henan(replace={school_table(): RULES_ONLY})
    assert not henan.parsed.category("school").quotas
    group = Org.objects.create(
        code="G410100-R", name="郑州市竞速教育集团", kind=OrgKind.GROUP, parent=org("郑州市")
    )
    apps = [
        submit_as(school_in(org("金水区"), locality=Locality.RURAL, group=group), henan, "school")
        for _ in range(5)
    ]
    reviewers = [reviewer("郑州市") for _ in apps]
    results = _race(
        [
            (
                lambda a=a, r=r: services.review_recommend(
                    application=a, scope=r.scope, actor=r.actor, opinion="同意推荐。"
                )
            )
            for a, r in zip(apps, reviewers, strict=True)
        ]
    )
    passed = [r for r in results if isinstance(r, ReviewDecision)]
    refused = [r for r in results if isinstance(r, services.ReviewError)]
    assert len(passed) == 2 and len(refused) == 3, results
    assert all("同一教育集团的校区至多推荐两所" in r.message for r in refused)
    assert ReviewDecision.objects.filter(active=True, action="recommend").count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_never_pass_a_confirmation_ratio(transactional_seeded):
    henan = load_henan(replace={school_table(): EACH_AND_RULES})
    apps = [
        submit_as(school_in(org("金水区"), locality=Locality.RURAL), henan, "school")
        for _ in range(3)
    ]
    city = reviewer("郑州市")
    services.review_recommend_bulk(
        applications=apps, scope=city.scope, actor=city.actor, opinion="同意推荐。"
    )
    apps = [to_issuer(a) for a in apps]
    admins = [who("410000", Role.PROGRAMME_ADMIN) for _ in apps]
    results = _race(
        [
            (
                lambda a=a, w=w: approval.selection_decide(
                    applications=[a],
                    outcome=ApprovalOutcome.APPROVE,
                    opinion="同意",
                    scope=w.scope,
                    actor=w.actor,
                )
            )
            for a, w in zip(apps, admins, strict=True)
        ]
    )
    refused = [r for r in results if isinstance(r, SelectionError)]
    assert len(refused) == 1, results
    assert "至多确认 ⌊3 / 1.5⌋ = 2 个" in refused[0].message
    assert ApprovalDecision.objects.filter(is_active=True).count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("slow_writes")
def test_a_withdrawal_racing_an_approval_never_leaves_the_issuer_over_its_ratio(
    transactional_seeded,
):
    """3 recommended, 1 confirmed: the city withdraws one while the province confirms another.
    Either alone is fine (2 of 3, or 1 of 2); both would leave 2 confirmed of 2 (⌊2 / 1.5⌋ =
    1). Exactly one of them passes."""
    henan = load_henan(replace={school_table(): EACH_AND_RULES})
    a, b, c = (
        submit_as(school_in(org("金水区"), locality=Locality.RURAL), henan, "school")
        for _ in range(3)
    )
    city = reviewer("郑州市")
    services.review_recommend_bulk(
        applications=[a, b, c], scope=city.scope, actor=city.actor, opinion="同意推荐。"
    )
    admin = who("410000", Role.PROGRAMME_ADMIN)

    def confirm(app):
        return approval.selection_decide(
            applications=[app],
            outcome=ApprovalOutcome.APPROVE,
            opinion="同意",
            scope=admin.scope,
            actor=admin.actor,
        )

    confirm(a)
    withdrawn = ReviewDecision.objects.get(application=b, active=True)
    results = _race(
        [
            lambda: services.review_withdraw_recommendation(
                decision=withdrawn, scope=city.scope, actor=city.actor
            ),
            lambda: confirm(c),
        ]
    )
    refused = [r for r in results if isinstance(r, services.ReviewError | SelectionError)]
    assert len(refused) == 1, results
    assert "各市推荐的学校，省里确认不超过三分之二。" in refused[0].message
    recommended = ReviewDecision.objects.filter(active=True, action="recommend").count()
    confirmed = ApprovalDecision.objects.filter(is_active=True).count()
    assert (recommended, confirmed) in {(3, 2), (2, 1)}
