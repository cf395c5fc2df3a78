"""Bureaus add their own units: divisions by code, functional zones, school groups."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from edupilot.audit.models import AuditEvent
from edupilot.orgs.models import Org, OrgKind, Role, Tier
from edupilot.orgs.regions import DivisionError, add_region, reporting_codes
from tests.conftest import make_school, make_user, org


def run_cmd(*args) -> str:
    out = io.StringIO()
    call_command("orgs", *args, stdout=out)
    return out.getvalue()


def test_add_region_adds_a_city_with_its_ancestors_and_counties_idempotently(seeded):
    assert not Org.objects.filter(code="440300").exists()
    out = run_cmd("add-region", "440300")
    shenzhen = org("440300")
    assert shenzhen.name == "深圳市" and shenzhen.kind == OrgKind.CITY
    assert shenzhen.parent.code == "440000" and shenzhen.parent.name == "广东省"
    assert org("440305").parent == shenzhen and org("440305").tier == Tier.COUNTY
    # Only its province's chain, not the province's other cities.
    assert not Org.objects.filter(code="440100").exists()
    assert "新增" in out
    n = Org.objects.count()
    assert "新增 0 个机构" in run_cmd("add-region", "440300")
    assert Org.objects.count() == n


def test_add_region_county_province_and_municipality(seeded):
    result = add_region(["510104"])  # 锦江区, 成都市
    assert [o.code for o in result.orgs] == ["510104"]
    assert org("510104").parent.code == "510100" and org("510100").parent.code == "510000"
    assert not Org.objects.filter(code="510105").exists()  # a county does not bring siblings
    add_region(["110000"])  # 北京市: districts straight under the municipality
    assert org("110101").parent.code == "110000"
    assert org("110101").tier == Tier.CITY
    add_region(["460000"])  # 海南省: its province-run counties are cities of the registry
    assert Org.objects.filter(path__startswith=org("460000").path).count() > 20


def test_add_region_keeps_the_notices_facts(seeded):
    # Henan's province-administered county goes straight under the province.
    Org.objects.filter(code="410225").delete()
    add_region(["410225"])
    lankao = org("410225")
    assert lankao.parent.code == "410000" and lankao.division_parent_code == "410200"
    assert reporting_codes("410225") == ["410000", "410225"]


def test_add_region_leaves_a_moved_org_where_the_bureau_put_it(seeded):
    county = org("330106")
    call_command("orgs", "move", "330106", "--parent", "330200", stdout=io.StringIO())
    add_region(["330100"])
    assert org("330106").parent.code == "330200"
    assert county.pk == org("330106").pk


@pytest.mark.parametrize("bad", ["12345", "999999", "3505xx", "350599"])
def test_add_region_refuses_unknown_codes_and_writes_nothing(seeded, bad):
    n = Org.objects.count()
    with pytest.raises(CommandError) as exc:
        run_cmd("add-region", "440300", bad)
    assert bad in str(exc.value)
    assert Org.objects.count() == n
    with pytest.raises(DivisionError):
        add_region([bad])


def _post(client, user, form, **data):
    client.force_login(user)
    body = {"form": form, **{f"{form}-{k}": v for k, v in data.items()}}
    return client.post(reverse("orgs:units"), body, follow=True)


def test_province_admin_adds_a_division_under_it_but_not_elsewhere(client, seeded):
    admin = make_user(org("350000"), Role.PROGRAMME_ADMIN)
    r = _post(client, admin, "division", codes="350200")
    assert r.status_code == 200 and Org.objects.filter(code="350203").exists()
    r = _post(client, admin, "division", codes="440300")
    assert "不在您的管辖范围内" in r.content.decode()
    assert not Org.objects.filter(code="440300").exists()
    r = _post(client, admin, "division", codes="35020x")
    assert "6 位行政区划代码" in r.content.decode()
    assert "35020x" in r.content.decode()  # what the user typed is kept
    assert AuditEvent.objects.filter(action="orgs.add_region").count() == 1


def test_only_platform_and_province_or_city_programme_admins_manage_units(client, seeded):
    for who in (
        make_user(org("350503"), Role.PROGRAMME_ADMIN),
        make_user(org("350500"), Role.REVIEWER),
        make_user(make_school(org("350503")), Role.APPLICANT),
    ):
        client.force_login(who)
        assert client.get(reverse("orgs:units")).status_code == 403
    client.force_login(make_user(org("350500"), Role.PROGRAMME_ADMIN))
    assert client.get(reverse("orgs:units")).status_code == 200


def test_city_admin_creates_a_zone_in_its_city_only(client, seeded):
    admin = make_user(org("350500"), Role.PROGRAMME_ADMIN)
    r = _post(client, admin, "zone", parent="350500", code="350500-JKQ", name="泉州经济技术开发区")
    assert "已添加功能区" in r.content.decode()
    zone = org("350500-JKQ")
    assert zone.kind == OrgKind.ZONE and zone.tier == Tier.COUNTY and zone.parent.code == "350500"
    r = _post(client, admin, "zone", parent="350200", code="350200-X", name="外市开发区")
    assert "不在您的管辖范围内" in r.content.decode()
    r = _post(client, admin, "zone", parent="350503", code="350503-X", name="县下开发区")
    assert "省级机构或设区市之下" in r.content.decode()
    r = _post(client, admin, "zone", parent="350500", code="350500-JKQ", name="重复")
    assert "已被其他机构使用" in r.content.decode()
    assert not Org.objects.filter(code__in=["350200-X", "350503-X"]).exists()
    assert org("350500-JKQ").name == "泉州经济技术开发区"


def test_school_group_with_campuses_in_two_counties(client, seeded):
    a = make_school(org("350503"), name="实验小学丰泽校区")
    b = make_school(org("350502"), name="实验小学鲤城校区")
    other = make_school(org("330106"), name="杭州某校")
    admin = make_user(org("350500"), Role.PROGRAMME_ADMIN)
    r = _post(
        client, admin, "group", parent="350500", code="QZ-SYXX", name="泉州实验小学教育集团",
        campuses=f"{a.code}\n{b.code}",
    )  # fmt: skip
    assert "已添加教育集团" in r.content.decode()
    group = org("QZ-SYXX")
    assert group.kind == OrgKind.GROUP and group.tier == Tier.UNIT
    assert set(group.campuses.values_list("code", flat=True)) == {a.code, b.code}
    # The campuses stay where they are in the tree.
    assert org(a.code).parent.code == "350503" and org(b.code).parent.code == "350502"
    # A school outside the admin's subtree is refused and nothing changes.
    r = _post(client, admin, "group", parent="350500", code="QZ-SYXX", name="", campuses=other.code)
    assert "不在您的管辖范围内" in r.content.decode()
    assert group.campuses.count() == 2
    # Updating an existing group sets its campuses.
    _post(client, admin, "group", parent="350500", code="QZ-SYXX", name="x", campuses=a.code)
    assert list(group.campuses.values_list("code", flat=True)) == [a.code]
    # A campus of one group cannot join another.
    r = _post(client, admin, "group", parent="350500", code="QZ-2", name="二集团", campuses=a.code)
    assert "已是另一个教育集团的校区" in r.content.decode()
    assert not Org.objects.filter(code="QZ-2").exists()
    page = client.get(reverse("orgs:detail", args=[group.code])).content.decode()
    assert a.name in page


def test_a_group_is_not_a_parent(seeded):
    group = Org.objects.create(code="G-1", name="某集团", kind=OrgKind.GROUP, parent=org("350503"))
    school = make_school(org("350503"))
    with pytest.raises(CommandError, match="教育集团不是上级机构"):
        call_command("orgs", "move", school.code, "--parent", group.code, stdout=io.StringIO())
