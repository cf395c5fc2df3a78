"""Quota policies on trees built here: tables, percentages with each rounding, apportionment."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edupilot.orgs.models import Org, OrgKind
from edupilot.programmes import schema
from edupilot.programmes.quotas import QuotaResolveError, compute_category, largest_remainder
from tests.conftest import make_school


@pytest.fixture
def tree(db):
    """A province with three cities of 7, 3 and 2 counties; schools in the first counties."""
    province = Org.objects.create(code="990000", name="测试省", kind=OrgKind.PROVINCE)
    cities = {}
    for i, n_counties in enumerate((7, 3, 2), start=1):
        city = Org.objects.create(
            code=f"99{i:02d}00", name=f"测试{i}市", kind=OrgKind.CITY, parent=province
        )
        cities[i] = city
        for j in range(1, n_counties + 1):
            Org.objects.create(
                code=f"99{i:02d}{j:02d}", name=f"测试{i}市{j}县", kind=OrgKind.COUNTY, parent=city
            )
    first_county = {i: Org.objects.get(code=f"99{i:02d}01") for i in cities}
    for _ in range(10):
        make_school(first_county[1], stages=",primary,")
    for _ in range(4):
        make_school(first_county[2], stages=",junior,")
    make_school(first_county[2], stages=",kindergarten,")
    make_school(first_county[3], stages=",primary,", is_active=False)
    make_school(first_county[3], stages=",primary,junior,")
    return province, cities


def category(quota: dict, tiers=("county", "city", "province")) -> schema.Category:
    review = [
        {"key": t, "name": t, "tier": t, "deadline": f"2030-0{i + 1}-01"}
        for i, t in enumerate(tiers)
    ]
    return schema.Category.model_validate(
        {
            "code": "c",
            "name": "类别",
            "applicant_kinds": ["school"],
            "form": "f",
            "review": review,
            "quotas": [quota],
        }
    )


def rows(reports):
    (report,) = reports
    return report, {(r.holder.name, r.direct): r for r in report.rows}


def test_table_policy_with_direct_bucket(tree):
    province, cities = tree
    q = {
        "policy": "table",
        "level": "county",
        "declared_total": 4,
        "entries": [
            {"org": "测试1市1县", "quota": 2},
            {"org": "990201", "quota": 1},
            {"org": "测试1市", "quota": 1, "direct": True, "label": "市直学校"},
        ],
    }
    report, by = rows(compute_category(category(q), province))
    assert by[("测试1市1县", False)].effective == 2
    assert by[("测试1市", True)].effective == 1 and by[("测试1市", True)].label == "市直学校"
    assert report.total == 4 and report.problems == []
    # The other ten counties are at the tier but unlisted: a zero row each.
    assert len(report.unlisted_holders) == 10
    assert by[("测试3市2县", False)].effective == 0


def test_table_unlisted_unlimited(tree):
    province, _ = tree
    q = {
        "policy": "table",
        "level": "city",
        "unlisted": "unlimited",
        "entries": [{"org": "测试1市", "quota": 3}],
    }
    report, by = rows(compute_category(category(q), province))
    assert by[("测试2市", False)].unlimited and not by[("测试1市", False)].unlimited


def test_table_total_mismatch_is_reported(tree):
    province, _ = tree
    q = {
        "policy": "table",
        "level": "city",
        "declared_total": 5,
        "entries": [{"org": "测试1市", "quota": 3}],
    }
    report, _ = rows(compute_category(category(q), province))
    assert report.problems == ["名额合计 3 与通知公布的合计 5 不一致"]


def test_table_unknown_and_duplicated_orgs(tree):
    province, _ = tree
    q = {"policy": "table", "level": "city", "entries": [{"org": "没有这个市", "quota": 1}]}
    with pytest.raises(QuotaResolveError) as exc:
        compute_category(category(q), province, ("categories", 0))
    assert exc.value.loc == ("categories", 0, "quotas", 0, "entries", 0, "org")
    q["entries"] = [{"org": "测试1市", "quota": 1}, {"org": "990100", "quota": 2}]
    with pytest.raises(QuotaResolveError, match="出现了两次") as exc:
        compute_category(category(q), province)
    assert exc.value.loc[-2:] == (1, "org")


@pytest.mark.parametrize(
    "rounding, expected",
    [
        # 7, 3 and 2 counties × 25 % = 1.75, 0.75, 0.5
        ("half_up", {"测试1市": 2, "测试2市": 1, "测试3市": 1}),
        ("ceil", {"测试1市": 2, "测试2市": 1, "测试3市": 1}),
        ("floor", {"测试1市": 1, "测试2市": 0, "测试3市": 0}),
    ],
)
def test_percent_of_counties_each_rounding(tree, rounding, expected):
    province, _ = tree
    q = {
        "policy": "percent",
        "level": "city",
        "count": {"what": "counties"},
        "percent": 25,
        "rounding": rounding,
    }
    report, by = rows(compute_category(category(q), province))
    assert {name: r.effective for (name, _), r in by.items()} == expected
    assert by[("测试1市", False)].basis == 7
    assert "7 × 25% = 1.75" in by[("测试1市", False)].derivation


def test_percent_minimum(tree):
    province, _ = tree
    q = {
        "policy": "percent",
        "level": "city",
        "count": {"what": "counties"},
        "percent": 25,
        "rounding": "floor",
        "minimum": 1,
    }
    report, by = rows(compute_category(category(q), province))
    assert {name: r.effective for (name, _), r in by.items()} == {
        "测试1市": 1,
        "测试2市": 1,
        "测试3市": 1,
    }
    assert "不少于 1，取 1" in by[("测试3市", False)].derivation


def test_percent_counts_schools_by_stage_and_active_only(tree):
    province, _ = tree
    q = {
        "policy": "percent",
        "level": "city",
        "count": {"what": "schools", "stages": ["primary", "junior"]},
        "percent": 50,
        "rounding": "half_up",
    }
    _, by = rows(compute_category(category(q), province))
    assert {name: r.basis for (name, _), r in by.items()} == {
        "测试1市": 10,
        "测试2市": 4,  # the kindergarten is not counted
        "测试3市": 1,  # the inactive school is not counted
    }
    assert {name: r.effective for (name, _), r in by.items()} == {
        "测试1市": 5,
        "测试2市": 2,
        "测试3市": 1,  # 0.5 rounds half up
    }


def test_percent_declared_table_is_authoritative_and_differences_shown(tree):
    province, _ = tree
    q = {
        "policy": "percent",
        "level": "city",
        "count": {"what": "counties"},
        "percent": 25,
        "declared_total": 5,
        "declared": [
            {"org": "测试1市", "quota": 3, "basis": 8, "note": "通知发布时 8 个县"},
            {"org": "测试2市", "quota": 1},
            {"org": "测试3市", "quota": 1},
        ],
    }
    report, by = rows(compute_category(category(q), province))
    first = by[("测试1市", False)]
    assert (first.computed, first.declared, first.effective, first.difference) == (2, 3, 3, 1)
    assert first.notice_computed == 2  # 8 × 25 % = 2
    assert report.total == 5 and report.computed_total == 4
    assert report.notice_basis_total == 13 and report.basis_total == 12
    assert report.problems == ["按公式计算的合计 4 与通知公布的合计 5 不同"]
    q["authority"] = "computed"
    report, by = rows(compute_category(category(q), province))
    assert by[("测试1市", False)].effective == 2
    assert report.problems[0] == "名额合计 4 与通知公布的合计 5 不一致"


def test_apportion_by_school_counts(tree):
    province, _ = tree
    q = {
        "policy": "apportion",
        "level": "city",
        "count": {"what": "schools"},
        "total": 10,
        "minimum": 1,
    }
    report, by = rows(compute_category(category(q), province))
    # Counts 10, 5 (kindergarten included: no stage filter) and 1; 7 places left after
    # the minimum: 4.375, 2.1875, 0.4375 → 4, 2, 0, and the last place goes to the largest
    # remainder (0.4375).
    assert {name: r.effective for (name, _), r in by.items()} == {
        "测试1市": 5,
        "测试2市": 3,
        "测试3市": 2,
    }
    assert report.total == 10


def test_largest_remainder_examples():
    assert largest_remainder(10, [5, 3, 2]) == [5, 3, 2]
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]  # ties go to the earlier holder
    assert largest_remainder(10, [100, 0, 0], minimum=2) == [6, 2, 2]
    assert largest_remainder(4, [0, 0, 0]) == [2, 1, 1]
    assert largest_remainder(7, []) == []
    with pytest.raises(ValueError, match="不足以"):
        largest_remainder(2, [1, 1, 1], minimum=1)


weights = st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=40)


@given(weights=weights, total=st.integers(min_value=0, max_value=500), minimum=st.integers(0, 3))
def test_largest_remainder_properties(weights, total, minimum):
    total += minimum * len(weights)
    result = largest_remainder(total, weights, minimum)
    assert sum(result) == total
    assert all(r >= minimum for r in result)
    assert largest_remainder(total, list(weights), minimum) == result
    for i in range(len(weights)):
        for j in range(len(weights)):
            if weights[i] > weights[j]:
                assert result[i] >= result[j]


@given(weights=weights, total=st.integers(min_value=0, max_value=500))
def test_largest_remainder_is_within_one_of_the_exact_share(weights, total):
    result = largest_remainder(total, weights)
    s = sum(weights)
    if s:
        for w, r in zip(weights, result, strict=True):
            exact = total * w / s
            assert exact - 1 < r < exact + 1
