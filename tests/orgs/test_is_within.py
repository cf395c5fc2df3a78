"""Org.is_within: self or a descendant, by materialized path, never by a shared code prefix."""

import pytest

from edupilot.orgs.models import Org, OrgKind, lineage_paths, path_within


@pytest.fixture
def tree(db):
    def mk(code, kind, parent=None):
        return Org.objects.create(code=code, name=f"机构{code}", kind=kind, parent=parent)

    province = mk("XP33", OrgKind.PROVINCE)
    city = mk("X3301", OrgKind.CITY, province)
    sibling = mk("X33011", OrgKind.CITY, province)  # its code starts with the city's code
    county = mk("X330101", OrgKind.COUNTY, city)
    school = mk("X33010101", OrgKind.SCHOOL, county)
    sibling_school = mk("X330111", OrgKind.SCHOOL, sibling)
    other_province = mk("XP44", OrgKind.PROVINCE)
    other_city = mk("X4401", OrgKind.CITY, other_province)
    return {
        "province": province,
        "city": city,
        "sibling": sibling,
        "county": county,
        "school": school,
        "sibling_school": sibling_school,
        "other_province": other_province,
        "other_city": other_city,
    }


def test_self_child_and_grandchild_are_within(tree):
    city = tree["city"]
    assert city.is_within(city)
    assert tree["county"].is_within(city)
    assert tree["school"].is_within(city)
    assert tree["school"].is_within(tree["province"])


def test_ancestors_are_not_within_their_descendants(tree):
    assert not tree["city"].is_within(tree["county"])
    assert not tree["province"].is_within(tree["school"])


def test_a_sibling_with_a_common_code_prefix_is_not_within(tree):
    # "XP33/X33011/" starts with "XP33/X3301" but not with "XP33/X3301/".
    assert tree["sibling"].path.startswith(tree["city"].path[:-1])
    assert not tree["sibling"].is_within(tree["city"])
    assert not tree["sibling_school"].is_within(tree["city"])
    assert not tree["city"].is_within(tree["sibling"])


def test_another_province_is_not_within(tree):
    assert not tree["other_city"].is_within(tree["province"])
    assert not tree["school"].is_within(tree["other_province"])
    assert tree["other_city"].is_within(tree["other_province"])


def test_path_within_on_strings(tree):
    assert path_within(tree["school"].path, tree["city"].path)
    assert path_within(tree["school"].path, tree["city"].path[:-1])  # a root without the "/"
    assert not path_within(tree["sibling"].path, tree["city"].path[:-1])
    assert not path_within(tree["school"].path, None)
    assert not path_within(None, tree["city"].path)


def test_lineage_paths_are_the_ancestors_and_self(tree):
    school = tree["school"]
    assert lineage_paths(school.path) == [
        tree["province"].path,
        tree["city"].path,
        tree["county"].path,
        school.path,
    ]
    assert all(school.is_within(Org.objects.get(path=p)) for p in lineage_paths(school.path))
