"""``earlier_rounds``: a quota over several rounds (years). 郑州市 has 5 places over the 2019
and 2020 rounds; it used 3 in 2019, so 2020 can take 2 and no more — not in one bulk of 3, not
one by one — and a 2019 recommendation withdrawn gives its place back to 2020.
"""

from __future__ import annotations

import pytest

from edupilot.orgs.models import Locality
from edupilot.review import services
from edupilot.review.models import ReviewDecision
from tests.selection.test_experts_support import load_henan

from .conftest import reviewer
from .test_set_rules import EACH_AND_RULES, recommend, school, school_table

pytestmark = pytest.mark.django_db

FIVE = EACH_AND_RULES[: EACH_AND_RULES.index("[[categories.set_rules]]")].replace(
    'quota = 4, orgs = ["郑州市"]', 'quota = 5, orgs = ["郑州市"]'
)
OVER_TWO_ROUNDS = FIVE.replace(
    'policy = "each"\n', 'policy = "each"\nearlier_rounds = ["henan-tencent-2019"]\n'
)


def test_a_unit_that_used_3_of_5_places_in_the_earlier_round_gets_only_2(seeded):
    first = load_henan(replace={school_table(): FIVE})
    used = [school(first, locality=Locality.RURAL, name=f"金水区2019第{i}小学") for i in range(3)]
    for a in used:
        recommend(a)
    second = load_henan(
        replace={
            'code = "henan-tencent-2019"': 'code = "henan-tencent-2020"',
            school_table(): OVER_TWO_ROUNDS,
        }
    )
    bids = [school(second, name=f"金水区2020第{i}小学") for i in range(3)]
    city = reviewer("郑州市")

    with pytest.raises(services.ReviewError) as exc:
        services.review_recommend_bulk(
            applications=bids, scope=city.scope, actor=city.actor, opinion="同意推荐。"
        )
    assert "共 5 个，已用 3 个，还剩 2 个，不够推荐所选的 3 个" in exc.value.message
    assert "金水区2019第0小学（" in exc.value.message
    assert not ReviewDecision.objects.filter(programme=second).exists()

    recommend(bids[0])
    recommend(bids[1])
    with pytest.raises(services.ReviewError) as exc:
        recommend(bids[2])
    assert "共 5 个，已全部占用" in exc.value.message
    assert ReviewDecision.objects.filter(programme=second, active=True).count() == 2

    # A 2019 recommendation withdrawn frees its place for 2020.
    d = ReviewDecision.objects.get(application=used[0], active=True)
    services.review_withdraw_recommendation(decision=d, scope=city.scope, actor=city.actor)
    recommend(bids[2])
    assert ReviewDecision.objects.filter(programme=second, active=True).count() == 3
