"""A category's flow of stages: validation that refuses what the engine cannot run, cascading
deadlines, chain resolution, and `edupilot programme show`."""

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from edupilot.orgs.models import Org, OrgKind
from edupilot.programmes import loader
from edupilot.programmes.chain import review_chain
from edupilot.programmes.schema import SHANGHAI
from tests.conftest import make_school, org

DOC = Path(__file__).resolve().parents[2] / "docs" / "programme-format.md"

CENTRE_STAGES = """
[[categories.flow]]
kind = "expert_scoring"
key = "panel"
name = "专家评审"
min_scores = 2
experts = 3
days_after = 5

[[categories.flow]]
kind = "org_review"
key = "centre"
name = "市电教馆复核"
org = "430400-djg"
days_after = 3
"""


@pytest.fixture(scope="module")
def example() -> str:
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return blocks[-1]


def validate(tmp_path, text: str):
    path = tmp_path / "notice.toml"
    path.write_text(text, encoding="utf-8")
    return loader.validate(path)


def parse(tmp_path, text: str):
    path = tmp_path / "notice.toml"
    path.write_text(text, encoding="utf-8")
    return loader.parse_file(path)


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line(text: str, error) -> str:
    assert error.line is not None, error
    return text.splitlines()[error.line - 1].strip()


def with_centre(example: str) -> str:
    """The example with experts and a centre's re-review between the county and the city."""
    without_panel = replace_once(
        example,
        '[[categories.flow]]\nkind = "expert_scoring"\nkey = "experts"\nname = "专家评审"\n\n',
        "",
    )
    head, sep, tail = without_panel.partition(
        '[[categories.flow]]\nkind = "tier_review"\nkey = "city"'
    )
    return (
        head
        + CENTRE_STAGES.lstrip()
        + "\n"
        + sep
        + tail.replace("deadline = 2030-04-30", "days_after = 5", 1)
    )


@pytest.fixture
def centre(seeded):
    return Org.objects.create(
        code="430400-djg", name="衡阳市电化教育馆", kind=OrgKind.UNIT, parent=org("430400")
    )


def test_example_resolves_into_five_stages(tmp_path, example):
    (category,) = parse(tmp_path, example).spec.categories
    assert [s.kind for s in category.pipeline] == [
        "tier_review", "tier_review", "expert_scoring", "approval", "announcement",
    ]  # fmt: skip
    assert [s.key for s in category.levels] == ["county", "city"]


def test_cascading_deadlines(tmp_path, example):
    (category,) = parse(tmp_path, with_centre(example)).spec.categories
    deadlines = {s.key: s.deadline_at for s in category.pipeline}
    county = dt.datetime(2030, 4, 10, 23, 59, 59, tzinfo=SHANGHAI)
    assert deadlines["county"] == county
    assert deadlines["panel"] == county + dt.timedelta(days=5)
    assert deadlines["centre"] == county + dt.timedelta(days=8)
    assert deadlines["city"] == county + dt.timedelta(days=13)
    assert [s.key for s in category.levels] == ["county", "panel", "centre", "city"]


def test_two_reviews_at_one_tier_are_refused_not_dropped(tmp_path, example):
    text = replace_once(example, 'tier = "county"\n', 'tier = "city"\n')
    _, errors = validate(tmp_path, text)
    assert len(errors) == 1
    assert "两个 city 层级的审核阶段" in errors[0].message and "org_review" in errors[0].message
    assert errors[0].field == "categories[1].flow[2].tier"
    assert line(text, errors[0]) == 'tier = "city"'


@pytest.mark.parametrize(
    "old, new, field, message",
    [
        (  # a named org's review spends no quota
            'org = "430400-djg"\n',
            'org = "430400-djg"\nquota = true\n',
            "flow[3].quota",
            "不占名额",
        ),
        (
            "min_scores = 2\nexperts = 3",
            "min_scores = 4\nexperts = 3",
            "flow[2].min_scores",
            "大于",
        ),
        (
            "days_after = 3\n",
            "days_after = 3\ndeadline = 2030-05-01\n",
            "flow[3].days_after",
            "只能写一个",
        ),  # fmt: skip
        ('key = "centre"', 'key = "panel"', "flow[3].key", "key 重复：panel"),
        ('kind = "announcement"', 'kind = "approval"', "flow[6].kind", "只能有一个"),
    ],
)
def test_unrunnable_flows_are_refused_at_their_line(tmp_path, example, old, new, field, message):
    text = replace_once(with_centre(example), old, new)
    _, errors = validate(tmp_path, text)
    assert errors, "validated"
    assert errors[0].field == f"categories[1].{field}", errors
    assert message in errors[0].message


def test_experts_first_and_stages_after_approval_are_refused(tmp_path, example):
    text = with_centre(example)
    first = text.index("[[categories.flow]]")
    panel = text.index('[[categories.flow]]\nkind = "expert_scoring"')
    centre = text.index('[[categories.flow]]\nkind = "org_review"')
    moved = text[:first] + text[panel:centre] + text[first:panel] + text[centre:]
    _, errors = validate(tmp_path, moved)
    assert "专家评审前须至少有一个审核阶段" in errors[0].message

    approval = text.index('[[categories.flow]]\nkind = "approval"')
    announcement = text.index('[[categories.flow]]\nkind = "announcement"')
    swapped = (
        text[:centre] + text[approval:announcement] + text[centre:approval] + text[announcement:]
    )
    _, errors = validate(tmp_path, swapped)
    assert "不能排在审定（approval）之后" in errors[0].message


def test_a_flow_without_announcement_is_refused(tmp_path, example):
    text = replace_once(
        example,
        '[[categories.flow]]\nkind = "announcement"\nkey = "publicity"\nname = "公示"\n',
        "",
    )
    _, errors = validate(tmp_path, text)
    assert 'kind = "announcement"' in errors[0].message


def test_the_older_review_form_still_loads_with_the_default_tail(tmp_path, example):
    text = example.replace('[[categories.flow]]\nkind = "tier_review"\n', "[[categories.review]]\n")
    for kind in ("expert_scoring", "approval", "announcement"):
        start = text.index(f'[[categories.flow]]\nkind = "{kind}"')
        end = text.index("\n\n", start) + 2
        text = text[:start] + text[end:]
    (category,) = parse(tmp_path, text).spec.categories
    assert [(s.kind, s.key) for s in category.pipeline] == [
        ("tier_review", "county"), ("tier_review", "city"), ("expert_scoring", "experts"),
        ("approval", "approval"), ("announcement", "announcement"),
    ]  # fmt: skip
    both = text.replace(
        "[[categories.quotas]]",
        '[[categories.flow]]\nkind = "approval"\nkey = "x"\nname = "审定"\n\n[[categories.quotas]]',
    )
    _, errors = validate(tmp_path, both)
    assert "不能同时写 review" in errors[0].message


def test_org_review_names_an_org_that_exists(seeded, tmp_path, example):
    text = with_centre(example)
    _, errors = validate(tmp_path, text)
    assert len(errors) == 1
    assert errors[0].field == "categories[1].flow[3].org"
    assert line(text, errors[0]) == 'org = "430400-djg"' and "不存在" in errors[0].message


def test_chain_runs_the_centre_and_the_panel_in_turn(centre, tmp_path, example):
    spec = parse(tmp_path, with_centre(example)).spec
    (category,) = spec.categories
    county = org("衡阳县")
    school = make_school(county, "衡阳县流程测试小学")
    steps = review_chain(category, school, issuer=org("430400"))
    assert [(s.kind, s.org.name, s.quota) for s in steps] == [
        ("tier_review", "衡阳县", True),
        ("expert_scoring", "衡阳市", False),
        ("org_review", "衡阳市电化教育馆", False),
        ("tier_review", "衡阳市", False),
    ]
    assert steps[2].as_json()["kind"] == "org_review"


def show(*args) -> str:
    out = io.StringIO()
    call_command("programme", "show", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_programme_show_json_for_an_applicant(programmes):
    data = json.loads(
        show("zhejiang-smart-education-2019", "--applicant", "330106", "--format", "json")
    )
    assert data["code"] == "zhejiang-smart-education-2019"
    region = next(c for c in data["categories"] if c["code"] == "region")
    keys = ["key", "name", "kind", "actor_org", "deadline", "quota"]
    assert all(set(keys) <= set(s) for s in region["stages"])
    first = region["stages"][0]
    assert first["kind"] == "tier_review" and first["actor_org"] == "杭州市"
    assert first["quota"].startswith("杭州市：") and first["deadline"].startswith("20")
    assert [s["kind"] for s in region["stages"]][-2:] == ["approval", "announcement"]


def test_programme_show_text_and_errors(programmes):
    out = show("quanzhou-smart-campus-2018")
    assert "类别 school" in out and "办理：申报单位所在县级教育行政部门" in out
    with pytest.raises(CommandError, match="没有代码为 nope 的项目"):
        show("nope")
    with pytest.raises(CommandError, match="没有代码或名称为 XX 的单位"):
        show("quanzhou-smart-campus-2018", "--applicant", "XX")
