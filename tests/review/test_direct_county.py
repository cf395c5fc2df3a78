"""Issue 11 §6: a province-administered county (省直管县) applies for a region pilot itself.

Its own bid goes straight to the province (it never reviews its own bid at the city level it
acts at), and the province's recommendation spends the county's own city-level place."""

from edupilot.applications.models import AppState
from edupilot.orgs.models import Locality, Org, OrgKind, Role, Tier
from edupilot.programmes.chain import review_chain
from edupilot.review.quotas import quota_buckets
from tests.conftest import org

from ..applications.conftest import Who
from .conftest import school_in, submit_as


def test_gongyi_applies_for_a_region_pilot_and_queues_at_the_province(henan):
    gongyi = org("巩义市")
    assert gongyi.directly_administered and not org("中牟县").directly_administered
    members = [
        school_in(gongyi, locality=Locality.RURAL if i % 2 else Locality.URBAN).org
        for i in range(8)
    ]
    bureau = Who(gongyi, Role.APPLICANT)
    app = submit_as(bureau, henan, "region", members=members)
    # The province is the issuer: its review is the deciding one, so the bid waits there.
    assert app.state == AppState.RECOMMENDED
    assert [s["org_name"] for s in app.chain] == ["河南省"]
    assert app.current_org == org("410000")
    assert app.chain[0]["quota_tiers"] == [Tier.CITY, Tier.PROVINCE]
    ((policy, bucket),) = quota_buckets(app, 0)
    assert policy.level == Tier.CITY and bucket.holder == gongyi and not bucket.direct


def test_any_county_hung_under_its_province_is_province_administered(henan):
    province = org("410000")
    county = Org.objects.create(
        code="T410000D1", name="某直管县", kind=OrgKind.COUNTY, parent=province
    )
    assert county.tier == Tier.CITY and county.directly_administered
    region = henan.parsed.category("region")
    steps = review_chain(region, county, issuer=province)
    assert [(s.level.key, s.org.code) for s in steps] == [("province", "410000")]
    # Its schools still go through it first.
    school = school_in(county).org
    school_steps = review_chain(henan.parsed.category("school"), school, issuer=province)
    assert [s.org.code for s in school_steps] == ["T410000D1", "410000"]
    # An ordinary county's bid is unchanged: city, then province, no carried quota.
    plain = review_chain(region, org("中牟县"), issuer=province)
    assert [s.org.name for s in plain] == ["郑州市", "河南省"]
    assert all("quota_tiers" not in s.as_json() for s in plain)


def test_the_orgs_command_makes_a_county_province_administered(henan):
    from django.core.management import call_command

    call_command("orgs", "move", "410122", "--parent", "410000", verbosity=0)  # 中牟县
    county = org("410122")
    assert county.directly_administered
    steps = review_chain(henan.parsed.category("region"), county, issuer=org("410000"))
    assert [s.org.code for s in steps] == ["410000"]
