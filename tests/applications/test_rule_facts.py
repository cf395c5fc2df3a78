"""The applicant home asks only for the facts its eligibility rules read (facts_needed)."""

from edupilot.applications.selectors import facts_needed


def test_facts_needed_names_what_the_rules_read():
    assert facts_needed(['!("henan_tencent_phase1" in org.lists)']) == {"lists"}
    assert facts_needed(['org.parent_tier == "city" || "primary" in org.stages']) == {"parent_tier"}
    assert facts_needed(['!applicant.member_of.exists(a, a.category == "region")']) == {"member_of"}
    assert facts_needed(["size(applicant.applications) == 0"]) == {"applications"}
    assert facts_needed(['"primary" in org.stages']) == set()
    assert facts_needed([]) == set()


def test_a_rule_reading_a_whole_map_gets_every_fact():
    assert facts_needed(['org["lists"].size() > 0']) is None
    assert facts_needed(["size(applicant) > 0"]) is None
    assert facts_needed(['"primary" in org.stages', "has(org)"]) is None
