"""The five notices' files: valid, faithful totals, chains and rules that decide as the notices do."""

from pathlib import Path

import pytest

from edupilot.orgs.models import Org, OrgKind
from edupilot.programmes import loader, rules
from edupilot.programmes.chain import quota_bucket, review_chain
from edupilot.programmes.quotas import compute_category
from tests.conftest import make_school, org

PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"
FILES = {
    "henan": "henan-tencent-smart-campus-2019.toml",
    "quanzhou": "quanzhou-smart-campus-2018.toml",
    "hengyang": "hengyang-informatization-pilots-2018.toml",
    "zhejiang": "zhejiang-smart-education-2019.toml",
    "hangzhou": "hangzhou-smart-campus-certification-2023.toml",
}


def spec(name):
    return loader.parse_file(PROGRAMMES / FILES[name]).spec


def reports(name, category):
    s = spec(name)
    return compute_category(s.category(category), loader.issuer_for(s))


def context(org_facts=None, data=None, topic="", phase="eligibility"):
    ctx = rules.sample_context(phase, data or {})
    ctx["org"] = {**rules.SAMPLE_ORG, "lists": [], "list_status": {}, **(org_facts or {})}
    if phase == "submission":
        ctx["app"]["topic"] = topic
    return ctx


def failing(spec_, category, ctx, phase="eligibility", severity="block"):
    results = rules.evaluate_all(spec_.category(category).rules, ctx, phase)
    return sorted(r.rule_id for r in results if not r.ok and r.severity == severity)


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_notice_file_validates(seeded, name):
    parsed, errors = loader.validate(PROGRAMMES / FILES[name])
    assert errors == []
    assert parsed.spec.code


def test_no_other_files_are_unchecked():
    assert {p.name for p in PROGRAMMES.glob("*.toml")} == set(FILES.values())


# --- declared totals, computed from the files against the seeded tree --------------------


@pytest.mark.parametrize(
    "name, category, total",
    [
        ("henan", "region", 29),
        ("henan", "school", 218),
        ("quanzhou", "school", 61),
        ("zhejiang", "region", 20),
        ("zhejiang", "k12", 60),
    ],
)
def test_declared_totals_hold(seeded, name, category, total):
    (report,) = reports(name, category)
    assert report.declared_total == total
    assert report.total == total
    assert report.declared_rows_total == total


def test_henan_region_table_has_every_city_and_province_administered_county(seeded):
    (report,) = reports("henan", "region")
    assert len(report.rows) == 28
    assert report.unlisted_holders == []
    assert {r.holder.name: r.effective for r in report.rows}["鹿邑县"] == 0


def test_quanzhou_direct_bucket_and_zones(seeded):
    (report,) = reports("quanzhou", "school")
    by_key = {(r.holder.code, r.direct): r for r in report.rows}
    assert by_key[("350500", True)].effective == 14
    assert by_key[("350500", True)].label == "市直中小学、幼儿园"
    assert by_key[("350500-TSQ", False)].effective == 2
    # The development zone is addressed by the notice but given no places.
    assert [h.code for h in report.unlisted_holders] == ["350500-KFQ"]
    assert by_key[("350500-KFQ", False)].effective == 0
    # The nominal 金门县 holds nothing and is not listed as unlisted either.
    assert ("350527", False) not in by_key


def test_zhejiang_formula_differs_from_table_and_says_why(seeded):
    (report,) = reports("zhejiang", "region")
    assert report.policy == "percent" and report.authority == "declared"
    assert report.computed_total == 18
    assert report.basis_total == 90
    assert report.notice_basis_total == 89
    differing = {r.holder.name: (r.computed, r.declared) for r in report.differing_rows}
    assert differing == {"温州市": (2, 3), "嘉兴市": (1, 2)}
    wenzhou = next(r for r in report.rows if r.holder.name == "温州市")
    assert (wenzhou.basis, wenzhou.notice_basis, wenzhou.notice_computed) == (12, 11, 2)
    assert "龙港市" in wenzhou.note
    assert "通知发布时县（市、区）数 11" in wenzhou.derivation


def test_zhejiang_school_quota_counts_schools_by_stage_from_the_tree(seeded):
    zhoushan = org("舟山市")
    county = Org.objects.filter(parent=zhoushan).order_by("code").first()
    for _ in range(150):
        make_school(county, stages=",primary,")
    for _ in range(30):
        make_school(county, stages=",kindergarten,")  # kindergartens are not counted
    (report,) = reports("zhejiang", "k12")
    row = next(r for r in report.rows if r.holder.name == "舟山市")
    assert row.basis == 150
    assert row.computed == 2  # 150 × 1.1% = 1.65 → 2
    assert row.declared == 2 and not row.differs


def test_hengyang_has_no_quota_and_hangzhou_is_a_certification():
    hy = spec("hengyang")
    assert all(c.quotas == [] for c in hy.categories)
    assert hy.period.closes_at.date().isoformat() == "2018-09-17"
    assert {t.name for t in hy.topics} == {
        "网络联校创新应用",
        "区域智慧教育",
        "教育网络安全",
        "人工数字智能教室",
    }
    hz = spec("hangzhou")
    assert hz.kind == "certification"
    assert [(b.name, b.data_cutoff.isoformat()) for b in hz.batches] == [
        ("第一批", "2024-08-31"),
        ("第二批", "2025-08-31"),
    ]
    assert "kindergarten" not in hz.categories[0].stages


def test_zhejiang_caps_and_closing_times():
    zj = spec("zhejiang")
    assert {c.code: c.cap for c in zj.categories} == {"region": 20, "higher_ed": 20, "k12": 60}
    k12 = zj.category("k12")
    assert zj.category_closes_at(k12) < zj.period.closes_at
    assert zj.category_closes_at(zj.category("higher_ed")) == zj.period.closes_at


def test_forms_follow_the_attachments():
    qz = spec("quanzhou").forms["school"]
    plan = qz.field("plan")
    assert plan.target_chars == 3000 and len(plan.outline) == 6
    assert [b.title for b in qz.opinions] == [
        "学校意见",
        "县（市、区）教育局意见",
        "专家组意见",
        "市教育局意见",
    ]
    zj = spec("zhejiang").forms["application"]
    assert zj.field("profile").target_chars == 500
    assert zj.field("plan").target_chars == 6000 and len(zj.field("plan").outline) == 7
    assert [o.value for o in zj.field("finish_year").options] == ["2020", "2021"]
    hy = spec("hengyang").forms["application"]
    assert [b.title for b in hy.opinions] == ["单位意见", "县市区教育局意见", "市教育局意见"]
    assert hy.field("work_plan").type == "attachment"


# --- review chains from the org tree -----------------------------------------------------


def chain_orgs(name, category, applicant):
    return [
        (s.level.key, s.org.code) for s in review_chain(spec(name).category(category), applicant)
    ]


def test_quanzhou_chain_city_stands_in_for_the_county(seeded):
    city, county, zone = org("350500"), org("350582"), org("350500-TSQ")
    direct = make_school(city, "泉州市某实验小学")
    county_school = make_school(county, "晋江市某镇中心小学")
    zone_school = make_school(zone, "台商区某中学", stages=",junior,")
    assert chain_orgs("quanzhou", "school", direct) == [("county", "350500"), ("city", "350500")]
    assert chain_orgs("quanzhou", "school", county_school) == [
        ("county", "350582"),
        ("city", "350500"),
    ]
    assert chain_orgs("quanzhou", "school", zone_school) == [
        ("county", "350500-TSQ"),
        ("city", "350500"),
    ]
    bucket = quota_bucket("county", direct)
    assert (bucket.holder.code, bucket.direct) == ("350500", True)


def test_zhejiang_chains(seeded):
    province, hangzhou = org("330000"), org("330100")
    university = Org.objects.create(
        code="T330000U1", name="某某大学", kind=OrgKind.UNIVERSITY, parent=province
    )
    district = org("330106")  # 西湖区
    school = make_school(district, stages=",junior,")
    direct = make_school(hangzhou, stages=",senior,")
    assert chain_orgs("zhejiang", "higher_ed", university) == [("province", "330000")]
    assert chain_orgs("zhejiang", "k12", school) == [
        ("county", "330106"),
        ("city", "330100"),
        ("province", "330000"),
    ]
    assert chain_orgs("zhejiang", "k12", direct) == [("city", "330100"), ("province", "330000")]
    assert chain_orgs("zhejiang", "region", district) == [
        ("city", "330100"),
        ("province", "330000"),
    ]


def test_hengyang_and_hangzhou_chains(seeded):
    hengyang, county = org("430400"), org("430421")
    assert chain_orgs("hengyang", "county", county) == [("city", "430400")]
    unit = Org.objects.create(
        code="T430400U1", name="衡阳市电教馆", kind=OrgKind.UNIT, parent=hengyang
    )
    assert chain_orgs("hengyang", "unit", unit) == [("city", "430400")]
    assert chain_orgs("hengyang", "unit", make_school(county)) == [
        ("county", "430421"),
        ("city", "430400"),
    ]
    hz_district_school = make_school(org("330106"))
    hz_direct_school = make_school(org("330100"))
    assert chain_orgs("hangzhou", "school", hz_district_school) == [
        ("county", "330106"),
        ("city", "330100"),
    ]
    assert chain_orgs("hangzhou", "school", hz_direct_school) == [("city", "330100")]


# --- rules decide as the notices say -----------------------------------------------------


def test_quanzhou_eligibility():
    qz = spec("quanzhou")
    city_private = {"parent_tier": "city", "ownership": "private", "stages": ["primary"]}
    assert failing(qz, "school", context(city_private)) == ["city_direct_public"]
    city_kindergarten = {"parent_tier": "city", "ownership": "public", "stages": ["kindergarten"]}
    assert failing(qz, "school", context(city_kindergarten)) == []
    county_kindergarten = {"parent_tier": "county", "stages": ["kindergarten"]}
    assert failing(qz, "school", context(county_kindergarten)) == ["county_school_kind"]
    county_primary = {"parent_tier": "county", "stages": ["primary"], "name": "安溪县某小学"}
    assert failing(qz, "school", context(county_primary)) == []
    assert failing(qz, "school", context(county_primary), severity="warn") == [
        "county_central_primary"
    ]
    central = {**county_primary, "name": "安溪县某镇中心小学"}
    assert failing(qz, "school", context(central), severity="warn") == []


@pytest.mark.parametrize(
    "stages, bandwidth, ok",
    [
        (["primary"], 30, True),
        (["primary"], 29, False),
        (["kindergarten"], 30, True),
        (["junior"], 49, False),
        (["junior"], 50, True),
        (["primary", "junior"], 40, False),
    ],
)
def test_quanzhou_bandwidth(stages, bandwidth, ok):
    qz = spec("quanzhou")
    data = {
        "bandwidth_mbps": bandwidth,
        "platform_security_certified": True,
        "budget_commitment": True,
    }
    ctx = context({"stages": stages}, data, phase="submission")
    assert (failing(qz, "school", ctx, "submission") == []) is ok


def test_quanzhou_security_certification_is_required():
    qz = spec("quanzhou")
    data = {"bandwidth_mbps": 100, "platform_security_certified": False, "budget_commitment": True}
    ctx = context({"stages": ["primary"]}, data, phase="submission")
    assert failing(qz, "school", ctx, "submission") == ["platform_security"]


def test_hengyang_unfinished_pilots_may_apply_only_for_network_school():
    hy = spec("hengyang")
    listed = {"lists": ["hengyang_unfinished_pilots"]}
    for category in ("unit", "county"):
        ctx = context(listed, topic="ai_classroom", phase="submission")
        assert failing(hy, category, ctx, "submission") == ["unfinished_pilot_network_school_only"]
        ctx = context(listed, topic="network_school", phase="submission")
        assert failing(hy, category, ctx, "submission") == []
        assert failing(hy, category, context(listed), severity="warn") == [
            "unfinished_pilot_warning"
        ]
        ctx = context({}, topic="ai_classroom", phase="submission")
        assert failing(hy, category, ctx, "submission") == []


def test_hangzhou_auto_certified_schools_are_out_of_scope():
    hz = spec("hangzhou")
    assert failing(hz, "school", context({})) == []
    ctx = context({"lists": ["zj_tech_enabled_pilot_school"]})
    assert failing(hz, "school", ctx) == ["auto_certified"]


def test_zhejiang_form_type_matches_category():
    zj = spec("zhejiang")
    ctx = context({}, {"unit_type": "school"}, phase="submission")
    assert failing(zj, "k12", ctx, "submission") == []
    assert failing(zj, "region", ctx, "submission") == ["form_type"]
