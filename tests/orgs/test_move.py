import pytest

from edupilot.audit.models import AuditEvent
from edupilot.audit.services import Actor
from edupilot.orgs.models import Membership, Org, OrgKind, Role, Tier, subtree_q
from edupilot.orgs.scoping import Scope
from edupilot.orgs.services import OrgMoveError, org_move
from tests.conftest import make_school, make_user, org


def scope_of(code: str, role=Role.REVIEWER) -> Scope:
    return Scope.for_membership(Membership.objects.get(user=make_user(org(code), role)))


def test_moving_a_county_rewrites_its_whole_subtree(seeded):
    county = org("410122")  # 中牟县, under 郑州市
    s1 = make_school(county)
    unit = Org.objects.create(
        code="T41012299", name="中牟县教研室", kind=OrgKind.UNIT, parent=county
    )
    s2 = make_school(unit)
    assert county.tier == Tier.COUNTY
    n = org_move(org=county, new_parent=org("410000"), actor=Actor.system())
    assert n == 4
    county.refresh_from_db()
    # Now province-administered: it acts at city level, like 巩义市.
    assert county.path == "410000/410122/" and county.tier == Tier.CITY and county.depth == 1
    s1.refresh_from_db()
    s2.refresh_from_db()
    assert s1.path == f"410000/410122/{s1.code}/" and s1.depth == 2
    assert s2.path == f"410000/410122/T41012299/{s2.code}/" and s2.depth == 3
    zz = Org.objects.filter(subtree_q(org("410100").path)).values_list("pk", flat=True)
    assert s1.pk not in set(zz)
    event = AuditEvent.objects.filter(action="org.move").last()
    assert event.before["parent"] == "410100" and event.after["parent"] == "410000"
    assert event.after["subtree"] == 4


def test_a_move_into_its_own_subtree_or_under_a_school_is_refused(seeded):
    county = org("410105")
    school = make_school(county)
    with pytest.raises(OrgMoveError, match="自己或它的下级"):
        org_move(org=org("410100"), new_parent=county, actor=Actor.system())
    with pytest.raises(OrgMoveError, match="不能是学校"):
        org_move(org=make_school(county), new_parent=school, actor=Actor.system())


def test_reviewers_move_schools_only_within_their_subtree(seeded):
    zz = scope_of("410100")
    school = make_school(org("410105"))
    org_move(org=school, new_parent=org("410106"), actor=Actor.system(), scope=zz)
    school.refresh_from_db()
    assert school.parent.code == "410106"
    with pytest.raises(OrgMoveError, match="新的上级机构不在"):
        org_move(org=school, new_parent=org("410200"), actor=Actor.system(), scope=zz)
    with pytest.raises(OrgMoveError, match="平台管理员"):
        org_move(org=org("410105"), new_parent=org("410000"), actor=Actor.system(), scope=zz)
    kaifeng_school = make_school(org("410202"))
    with pytest.raises(OrgMoveError, match="不在您的管辖范围内"):
        org_move(org=kaifeng_school, new_parent=org("410105"), actor=Actor.system(), scope=zz)
