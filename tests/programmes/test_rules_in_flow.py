"""The notices' rules decided on the facts the application flow builds (not hand-made ones)."""

from edupilot.applications import selectors
from edupilot.programmes.models import ParticipantEntry, ParticipantList, Programme
from tests.conftest import make_school, org


def choice(programme_code: str, category: str, applicant):
    programme = Programme.objects.get(code=programme_code)
    return selectors.category_eligibility(programme, programme.parsed.category(category), applicant)


def test_quanzhou_city_direct_and_county_schools(programmes):
    city, county = org("350500"), org("350524")  # 安溪县
    kindergarten = make_school(city, "泉州市实验幼儿园", stages=",kindergarten,")
    assert choice("quanzhou-smart-campus-2018", "school", kindergarten).eligible
    private = make_school(city, "泉州市某民办小学", ownership="private")
    result = choice("quanzhou-smart-campus-2018", "school", private)
    assert [f.message for f in result.failures] == ["市直学校须为公办中小学校、幼儿园。"]
    county_kg = make_school(county, "安溪县某幼儿园", stages=",kindergarten,")
    result = choice("quanzhou-smart-campus-2018", "school", county_kg)
    assert [f.rule_id for f in result.failures] == ["county_school_kind"]
    village = make_school(county, "安溪县某村小学")
    result = choice("quanzhou-smart-campus-2018", "school", village)
    assert result.eligible and [w.rule_id for w in result.warnings] == ["county_central_primary"]
    central = make_school(county, "安溪县某镇中心小学")
    result = choice("quanzhou-smart-campus-2018", "school", central)
    assert result.eligible and result.warnings == []


def test_hengyang_unfinished_pilot_warns_at_eligibility(programmes):
    county = org("430421")
    assert choice("hengyang-informatization-pilots-2018", "county", county).warnings == []
    plist = ParticipantList.objects.get(code="hengyang_unfinished_pilots")
    ParticipantEntry.objects.create(plist=plist, org=county, status="未验收")
    result = choice("hengyang-informatization-pilots-2018", "county", county)
    assert result.eligible
    assert [w.rule_id for w in result.warnings] == ["unfinished_pilot_warning"]
