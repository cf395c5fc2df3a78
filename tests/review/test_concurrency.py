"""Concurrent recommendations at the last free places: exactly the quota passes (PostgreSQL).

Each thread has its own database connection and transaction, as two reviewers' requests
would; a barrier releases them together so that their transactions overlap.
"""

import threading
import time

import pytest
from django.db import connection, connections
from django.db.models.signals import pre_save

from edupilot.applications.models import AppState
from edupilot.review import services
from edupilot.review.models import ReviewDecision
from tests.conftest import org

from .conftest import load, reviewer, school_in, set_quota, submit_as

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real row locks need PostgreSQL"),
]


@pytest.fixture
def slow_decisions():
    """Widen the race: each recommendation pauses between counting the places and committing.

    With the row lock the others wait their turn; without it they would all count the same
    free places and all pass, so this test fails if the lock is ever lost.
    """

    def pause(sender, instance, **kwargs):
        if instance.pk is None:
            time.sleep(0.3)

    pre_save.connect(pause, sender=ReviewDecision, dispatch_uid="test-slow-decisions")
    yield
    pre_save.disconnect(sender=ReviewDecision, dispatch_uid="test-slow-decisions")


def _race(calls):
    """Run the calls at once in threads; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # collected and asserted below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_recommendations_never_exceed_the_quota(transactional_seeded, slow_decisions):
    henan = load("henan-tencent-smart-campus-2019.toml")
    set_quota(henan, "school", "郑州市", 4)
    apps = [submit_as(school_in(org("金水区")), henan, "school") for _ in range(10)]
    city = reviewer("郑州市")
    for a in apps[:2]:  # two places already spent: two are left
        services.review_recommend(
            application=a, scope=city.scope, actor=city.actor, opinion="同意推荐。"
        )
    # Several reviewers of the same city (several accounts) act at the same instant.
    reviewers = [reviewer("郑州市") for _ in apps[2:]]
    results = _race(
        [
            (
                lambda a=a, r=r: services.review_recommend(
                    application=a, scope=r.scope, actor=r.actor, opinion="同意推荐。"
                )
            )
            for a, r in zip(apps[2:], reviewers, strict=True)
        ]
    )
    passed = [r for r in results if isinstance(r, ReviewDecision)]
    refused = [r for r in results if isinstance(r, services.ReviewError)]
    others = [r for r in results if r not in passed and r not in refused]
    assert not others, others
    assert len(passed) == 2 and len(refused) == 6
    assert all("已全部占用" in r.message for r in refused)
    active = ReviewDecision.objects.filter(
        active=True, action="recommend", quota_holder=org("郑州市")
    )
    assert active.count() == 4
    assert sorted(active.values_list("rank", flat=True)) == [1, 2, 3, 4]
    states = [a.state for a in type(apps[0]).objects.filter(pk__in=[a.pk for a in apps[2:]])]
    assert states.count(AppState.RECOMMENDED) == 2 and states.count(AppState.SUBMITTED) == 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_bulk_recommendations_never_exceed_the_quota(
    transactional_seeded, slow_decisions
):
    henan = load("henan-tencent-smart-campus-2019.toml")
    set_quota(henan, "school", "郑州市", 3)
    apps = [submit_as(school_in(org("金水区")), henan, "school") for _ in range(6)]
    a, b = reviewer("郑州市"), reviewer("郑州市")
    results = _race(
        [
            lambda: services.review_recommend_bulk(
                applications=apps[:2], scope=a.scope, actor=a.actor, opinion="同意推荐。"
            ),
            lambda: services.review_recommend_bulk(
                applications=apps[2:4], scope=b.scope, actor=b.actor, opinion="同意推荐。"
            ),
        ]
    )
    passed = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, services.ReviewError)]
    assert len(passed) == 1 and len(refused) == 1, results
    assert "还剩 1 个，不够推荐所选的 2 个" in refused[0].message
    assert ReviewDecision.objects.filter(active=True).count() == 2
