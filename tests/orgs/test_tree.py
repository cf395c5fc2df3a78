from edupilot.orgs.models import Org, OrgKind, Tier, subtree_q
from tests.conftest import make_school, org


def test_seed_regions_follow_the_notices(seeded):
    gongyi = org("巩义市")
    assert gongyi.parent.code == "410000"  # reports straight to the province
    assert gongyi.division_parent_code == "410100"
    assert gongyi.tier == Tier.CITY
    assert org("济源市").tier == Tier.CITY
    zone = org("泉州台商投资区")
    assert zone.kind == OrgKind.ZONE and zone.tier == Tier.COUNTY and zone.parent.name == "泉州市"
    assert not org("金门县").is_active
    assert Org.objects.filter(parent=org("330100")).count() == 13  # Hangzhou after 2021
    assert Org.objects.filter(parent=org("430400")).count() == 12  # Hengyang


def test_subtree_query_excludes_lookalike_prefixes(seeded):
    zz = org("410100")
    s1 = make_school(org("金水区"))
    # A code that shares the text prefix "4101" but is not under Zhengzhou's path.
    s2 = make_school(org("410181"))  # 巩义市: province-administered, outside Zhengzhou
    inside = set(Org.objects.filter(subtree_q(zz.path)).values_list("pk", flat=True))
    assert s1.pk in inside
    assert s2.pk not in inside
    assert org("410181").pk not in inside
