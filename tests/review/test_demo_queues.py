"""The demo's reviewers open a queue with something in it (a screen worth looking at today):
西湖区 has bids waiting and two recommended up to 杭州市, 晋江市 has Quanzhou's bids."""

from __future__ import annotations

import pytest

from edupilot import demo as site_demo
from edupilot.applications import demo as applications_demo
from edupilot.applications.models import Application, AppState
from edupilot.audit.services import Actor
from edupilot.orgs.demo import generate_schools
from edupilot.review import demo as review_demo

pytestmark = pytest.mark.django_db


def waiting_at(code: str, programme: str) -> int:
    return Application.objects.filter(
        programme__code=programme, current_org__code=code, state=AppState.SUBMITTED
    ).count()


def test_the_demo_reviewers_have_bids_waiting(programmes):
    generate_schools(["zhejiang", "quanzhou"], scale=0.5, seed=2024)
    site_demo.create_accounts()
    applications_demo.load_demo(actor=Actor.system())
    review_demo.load_demo(actor=Actor.system())
    zhejiang, quanzhou = "zhejiang-smart-education-2019", "quanzhou-smart-campus-2018"
    assert waiting_at("330106", zhejiang) >= 2  # 西湖区
    assert waiting_at("330100", zhejiang) == 2  # 杭州市: the two 西湖区 recommended
    assert waiting_at("350582", quanzhou) >= 3  # 晋江市
    # One draft each (the first school's, on purpose); none left by a refused submission.
    for code in (zhejiang, quanzhou):
        assert Application.objects.filter(programme__code=code, state=AppState.DRAFT).count() == 1
