"""Concurrent issuers granting awards from one budget: the total never exceeds it (PostgreSQL).

Each thread has its own connection and transaction, as several issuer accounts' requests
would; a barrier releases them together, and a pause before each award is written widens
the race so that the test fails if the budget row's lock is ever lost.
"""

import time
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.db.models.signals import pre_save

from edupilot.core.errors import Refused
from edupilot.pilots import honours as hon
from edupilot.pilots.models import Award, AwardBudget
from tests.review.conftest import load
from tests.review.test_concurrency import _race

from .conftest import issuer_admin
from .test_honours import accepted

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real row locks need PostgreSQL"),
]


@pytest.fixture
def slow_awards():
    def pause(sender, instance, **kwargs):
        if instance.pk is None:
            time.sleep(0.3)

    pre_save.connect(pause, sender=Award, dispatch_uid="test-slow-awards")
    yield
    pre_save.disconnect(sender=Award, dispatch_uid="test-slow-awards")


@pytest.mark.django_db(transaction=True)
def test_concurrent_grants_never_exceed_the_budget(transactional_seeded, slow_awards):
    quanzhou = load("quanzhou-smart-campus-2018.toml")
    pilots = [accepted(quanzhou, "excellent")[0] for _ in range(6)]  # 100 000 each
    AwardBudget.objects.create(programme=quanzhou, stage="awards", budget=Decimal("250000"))
    issuers = [issuer_admin(quanzhou) for _ in pilots]  # several accounts at the same instant

    def grant(pilot, who):
        return lambda: hon.award_grant(pilot=pilot, stage="awards", scope=who.scope,
                                       actor=who.actor)  # fmt: skip

    results = _race([grant(p, w) for p, w in zip(pilots, issuers, strict=True)])
    granted = [r for r in results if isinstance(r, Award)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(granted) == 2 and len(refused) == 4, results
    assert all("预算余额 50,000.00 元" in str(r) for r in refused)
    total = Award.objects.aggregate(s=Sum("amount"))["s"]
    assert total == Decimal("200000") == AwardBudget.objects.get().granted


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_grants_make_one_budget_row(transactional_seeded):
    quanzhou = load("quanzhou-smart-campus-2018.toml")
    pilots = [accepted(quanzhou, "excellent")[0] for _ in range(4)]
    issuers = [issuer_admin(quanzhou) for _ in pilots]
    results = _race(
        [
            (
                lambda p=p, w=w: hon.award_grant(
                    pilot=p, stage="awards", scope=w.scope, actor=w.actor
                )
            )  # fmt: skip
            for p, w in zip(pilots, issuers, strict=True)
        ]
    )
    assert all(isinstance(r, Award) for r in results), results
    assert AwardBudget.objects.get().granted == Decimal("400000")
