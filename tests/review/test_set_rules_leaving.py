"""A recommendation that stops counting shrinks its set: under ``confirm_ratio`` ("recommend 3,
confirm 2") it lowers what the issuer may confirm, so it is refused once the issuer has
confirmed more than the smaller set allows (withdrawn by the city, or returned by the
province), and passes again once a confirmation is revoked.
"""

from __future__ import annotations

import pytest

from edupilot.orgs.models import Locality, Role
from edupilot.review import services
from edupilot.review.models import ReviewDecision
from edupilot.selection import approval
from edupilot.selection.models import ApprovalDecision
from tests.selection.test_experts_support import who

from .conftest import reviewer
from .test_set_rules import approve, load_sets, recommend, school

pytestmark = pytest.mark.django_db


@pytest.fixture
def henan_sets(seeded):
    return load_sets()


REFUSAL = (
    "各市推荐的学校，省里确认不超过三分之二。（规则 confirm：郑州市推荐的申报去掉这一个后共 2 个，"
    "至多确认 ⌊2 / 1.5⌋ = 1 个，而审定单位已确认 2 个；请先请审定单位撤销一个确认）"
)


def three_recommended_two_confirmed(programme):
    a = school(programme, name="金水区确认甲小学")
    b = school(programme, name="金水区待定乙小学")
    c = school(programme, locality=Locality.RURAL, name="金水区确认乡村小学")
    for x in (a, b, c):
        recommend(x)
    approve([a])
    approve([c])
    return a, b, c


def test_a_withdrawal_that_leaves_the_issuer_over_its_ratio_is_refused(henan_sets):
    a, b, c = three_recommended_two_confirmed(henan_sets)
    city = reviewer("郑州市")
    d = ReviewDecision.objects.get(application=b, active=True)
    with pytest.raises(services.ReviewError) as exc:
        services.review_withdraw_recommendation(decision=d, scope=city.scope, actor=city.actor)
    assert exc.value.message == REFUSAL + "涉及的单位：金水区待定乙小学。"
    d.refresh_from_db()
    b.refresh_from_db()
    assert d.active and b.state == "recommended"
    # The province takes one confirmation back: 1 of the 2 left is within ⌊2 / 1.5⌋.
    admin = who("410000", Role.PROGRAMME_ADMIN)
    approval.selection_revoke(
        decision=ApprovalDecision.objects.get(application=c, is_active=True),
        scope=admin.scope,
        actor=admin.actor,
    )
    services.review_withdraw_recommendation(decision=d, scope=city.scope, actor=city.actor)
    b.refresh_from_db()
    assert b.state == "submitted" and b.current_org.name == "郑州市"


def test_a_return_from_the_issuer_is_held_to_the_ratio_too(henan_sets):
    a, b, c = three_recommended_two_confirmed(henan_sets)
    province = reviewer("河南省")
    with pytest.raises(services.ReviewError) as exc:
        services.review_return(
            application=b, scope=province.scope, actor=province.actor, reasons="材料不全"
        )
    assert exc.value.message.startswith(REFUSAL)
    assert ReviewDecision.objects.filter(application=b, active=True).count() == 1


def test_without_a_ratio_a_withdrawal_is_not_held(henan_sets):
    """Only confirm_ratio depends on the set's size: one of 2 recommended, none confirmed."""
    a = school(henan_sets, name="金水区撤回甲小学")
    b = school(henan_sets, locality=Locality.RURAL, name="金水区撤回乡村小学")
    for x in (a, b):
        recommend(x)
    city = reviewer("郑州市")
    d = ReviewDecision.objects.get(application=a, active=True)
    services.review_withdraw_recommendation(decision=d, scope=city.scope, actor=city.actor)
    d.refresh_from_db()
    assert not d.active
