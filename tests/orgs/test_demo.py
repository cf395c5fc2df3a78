"""Demo schools: realistic shape, deterministic, idempotent."""

from collections import Counter

from edupilot.orgs.demo import apportion, city_counts, generate_schools, load_counts, plan_schools
from edupilot.orgs.models import Org, OrgKind, Stage, subtree_q
from tests.conftest import org


def test_apportion_keeps_the_total():
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert sum(apportion(997, [0.3, 2.5, 1.1, 0.7])) == 997
    assert apportion(0, [1, 2]) == [0, 0]


def test_counts_come_from_the_reference_data():
    data = load_counts()
    henan = city_counts(data, "henan")
    assert henan["410100"]["primary"] == 1002  # Zhengzhou, reported 2024
    assert sum(c["primary"] for c in henan.values()) == 16400
    assert henan["410100"]["teaching_point"] > 0
    assert city_counts(data, "zhejiang")["330100"]["teaching_point"] == 0
    assert city_counts(data, "quanzhou")["350500"]["primary"] == 950  # midpoint of 800–1100


def test_plan_is_deterministic_and_realistic(seeded):
    a, stats = plan_schools(["quanzhou", "hengyang"], scale=0.2, seed=7)
    b, _ = plan_schools(["quanzhou", "hengyang"], scale=0.2, seed=7)
    assert [(o.code, o.name, o.bandwidth_mbps) for o in a] == [
        (o.code, o.name, o.bandwidth_mbps) for o in b
    ]
    c, _ = plan_schools(["quanzhou", "hengyang"], scale=0.2, seed=8)
    assert [o.name for o in a] != [o.name for o in c]
    assert stats["primary"] == round(950 * 0.2) + round(800 * 0.2)
    quanzhou = [o for o in a if o.path.startswith("350000/350500/")]
    # Bandwidth spread: some schools below the notice's 30 and 50 Mbps thresholds.
    assert any(o.bandwidth_mbps < 30 for o in quanzhou)
    assert any(30 <= o.bandwidth_mbps < 50 for o in quanzhou)
    assert any(o.bandwidth_mbps >= 100 for o in quanzhou)
    assert {o.locality for o in quanzhou} == {"urban", "town", "rural"}
    assert {o.ownership for o in quanzhou} == {"public", "private"}
    # City-direct schools hang under the city; the nominal 金门县 gets none.
    assert any(o.parent.code == "350500" for o in quanzhou)
    assert not any(o.parent.code == "350527" for o in quanzhou)
    assert any(o.parent.kind == OrgKind.ZONE for o in quanzhou)
    names = [o.name for o in a]
    assert len(names) == len(set(names))
    assert any(n.endswith("中心小学") for n in names)
    assert any(n.endswith("幼儿园") for n in names)
    assert all(o.extra["demo"] and o.code.startswith("D") for o in a)
    units = [o for o in a if o.kind == OrgKind.UNIT]
    assert len(units) == 5 and all(u.parent.code == "430400" for u in units)
    for o in a:
        assert o.path == f"{o.parent.path}{o.code}/" and o.teacher_count
        assert o.kind == OrgKind.UNIT or o.student_count


def test_generate_writes_once_with_henan_and_zhejiang_specials(seeded):
    stats = generate_schools(["henan", "zhejiang"], scale=0.01, seed=3)
    assert stats["created"] > 300 and stats["existing"] == 0
    again = generate_schools(["henan", "zhejiang"], scale=0.01, seed=3)
    assert again["created"] == 0
    henan = org("410000")
    direct = Org.objects.filter(parent=henan, kind=OrgKind.SCHOOL)
    assert direct.count() == 4 and direct.filter(name="河南省实验中学").exists()
    tps = Org.objects.filter(subtree_q(henan.path), stages__contains=f",{Stage.TEACHING_POINT},")
    assert tps.exists()
    assert not Org.objects.filter(
        subtree_q(org("330000").path), stages__contains=",teaching_point,"
    ).exists()
    unis = Org.objects.filter(parent=org("330000"), kind=OrgKind.UNIVERSITY)
    assert 10 <= unis.count() <= 20 and unis.filter(name="浙江大学").exists()
    # Every city has city-direct schools, and province-administered counties get schools too.
    for city in Org.objects.filter(parent=henan, kind=OrgKind.CITY):
        assert Org.objects.filter(parent=city, kind=OrgKind.SCHOOL).exists(), city.name
    assert Org.objects.filter(parent=org("巩义市"), kind=OrgKind.SCHOOL).exists()
    kinds = Counter(s for o in Org.objects.filter(code__startswith="D") for s in o.stage_list)
    assert kinds["primary"] > kinds["junior"] > kinds["senior"] > 0
    assert kinds["kindergarten"] > 0 and kinds["vocational"] > 0
