"""``policy = "each"`` quotas (per holder, by class of holder) and ``[[categories.set_rules]]``
in the file: computed rows, line-exact errors, and what ``programme show`` prints.

The base file is the complete example of docs/programme-format.md (衡阳市, quotas per county).
"""

import io
import json

import pytest
from django.core.management import call_command

from edupilot.programmes import loader, quotas
from edupilot.programmes.services import programme_load
from tests.programme_files import EXAMPLE, EXAMPLE_TODAY, load_text
from tests.programmes.test_file_errors import DOC, line, replace_once, validate  # noqa: F401

pytestmark = pytest.mark.django_db

TABLE = """[[categories.quotas]]
policy = "table"
level = "county"
declared_total = 4
entries = [
  { org = "衡阳县", quota = 2 },
  { org = "耒阳市", quota = 1 },
  { org = "430400", quota = 1, direct = true, label = "市直学校" },
]
"""

EACH = """[[categories.quotas]]
policy = "each"
level = "county"
quota = 2
classes = [
  { name = "中心城区", quota = 3, orgs = ["珠晖区", "雁峰区", "石鼓区", "蒸湘区"] },
  { name = "乡村振兴重点县", quota = 4, extra = { focus = "yes" } },
]
entries = [
  { org = "430400", quota = 1, direct = true, label = "市直学校" },
]
"""

RULES = """
[[categories.set_rules]]
id = "rural"
kind = "at_least"
level = "county"
min = 1
where = { locality = "rural" }
message = "各县（市、区）推荐的学校中至少有一所乡村学校。"

[[categories.set_rules]]
id = "campuses"
kind = "at_most_per_group"
level = "county"
max = 2
per = "group"
message = "同一教育集团的校区至多推荐两所。"

[[categories.set_rules]]
id = "confirm"
kind = "confirm_ratio"
level = "county"
ratio = 1.5
message = "各县（市、区）推荐的学校，市里确认不超过三分之二。"
"""


@pytest.fixture(scope="module")
def example() -> str:
    return EXAMPLE


def with_sets(example: str, quota: str = EACH, rules: str = RULES) -> str:
    text = replace_once(example, TABLE, quota)
    return replace_once(text, "\n[pilot]\n", rules + "\n[pilot]\n")


def test_each_quota_gives_every_county_its_class_number(seeded, tmp_path, example):
    from edupilot.orgs.models import Org

    Org.objects.filter(name="衡东县").update(extra={"focus": "yes"})
    parsed, errors = validate(tmp_path, with_sets(example))
    assert not errors, [str(e) for e in errors]
    (report,) = quotas.compute_category(parsed.spec.categories[0], loader.issuer_for(parsed.spec))
    got = {(r.holder.name, r.direct): (r.effective, r.derivation) for r in report.rows}
    assert got[("蒸湘区", False)] == (3, "中心城区：每个 3 个")
    assert got[("衡东县", False)] == (4, "乡村振兴重点县：每个 4 个")
    assert got[("衡阳县", False)] == (2, "每个单位 2 个")
    assert got[("衡阳市", True)][0] == 1
    # 4 central districts × 3 + 1 focus county × 4 + 7 others × 2 + the direct bucket.
    assert report.total == 12 + 4 + 14 + 1
    assert (
        report.formula
        == "中心城区每个 3 个；乡村振兴重点县每个 4 个；其余每个单位 2 个；另有名额表"
    )


def test_each_quota_without_a_default_leaves_the_others_to_unlisted(seeded, tmp_path, example):
    quota = EACH.replace("quota = 2\n", 'unlisted = "unlimited"\n', 1)
    parsed, errors = validate(tmp_path, with_sets(example, quota))
    assert not errors, [str(e) for e in errors]
    (report,) = quotas.compute_category(parsed.spec.categories[0], loader.issuer_for(parsed.spec))
    other = next(r for r in report.rows if r.holder.name == "衡阳县")
    assert other.unlimited and "不属于任何名额类别" in other.derivation
    assert "衡阳县" in [h.name for h in report.unlisted_holders]


@pytest.mark.parametrize(
    "old, new, message, at",
    [
        (
            'quota = 2\nclasses = [\n  { name = "中心城区", quota = 3, orgs = ["珠晖区", "雁峰区", "石鼓区", "蒸湘区"] },\n  { name = "乡村振兴重点县", quota = 4, extra = { focus = "yes" } },\n]\n',
            "",
            "each 名额须写 quota",
            None,
        ),
        (
            '"石鼓区", "蒸湘区"]',
            '"石鼓区", "蒸湘県"]',
            "机构“蒸湘県”不存在",
            '{ name = "中心城区", quota = 3, orgs = ["珠晖区", "雁峰区", "石鼓区", "蒸湘県"] },',
        ),
        (
            'quota = 4, extra = { focus = "yes" }',
            "quota = 4",
            "须说明哪些单位属于它",
            '{ name = "乡村振兴重点县", quota = 4 },',
        ),
        (
            'min = 1\nwhere = { locality = "rural" }\n',
            "min = 1\n",
            "at_least 规则须写 where",
            'kind = "at_least"',
        ),
        (
            'ratio = 1.5\nmessage = "各县',
            'ratio = 1.5\nwhen = ["recommend"]\nmessage = "各县',
            "confirm_ratio 只在审定时检查",
            'when = ["recommend"]',
        ),
        (
            'max = 2\nper = "group"',
            'max = 2\nper = "school_group"',
            "格式不对",
            'per = "school_group"',
        ),
        (
            'id = "rural"\nkind = "at_least"\nlevel = "county"',
            'id = "rural"\nkind = "at_least"\nlevel = "province"',
            "集合规则 rural 的层级 province 不在审核链中",
            'level = "province"',
        ),
        (
            'where = { locality = "rural" }',
            'where = { lists = ["rural_schools"] }',
            "未在 [[lists]] 中声明的名单：rural_schools",
            'where = { lists = ["rural_schools"] }',
        ),
        (
            'where = { locality = "rural" }',
            'where = { orgs = ["衡阳县第九十九中学"] }',
            "集合规则 rural：机构“衡阳县第九十九中学”不存在",
            'where = { orgs = ["衡阳县第九十九中学"] }',
        ),
        (
            'id = "campuses"',
            'id = "rural"',
            "集合规则 rural 重复",
            'id = "rural"',
        ),
    ],
    ids=[
        "each-needs-a-number",
        "class-org-unknown",
        "class-says-nothing",
        "at-least-without-where",
        "ratio-on-recommend",
        "bad-group",
        "level-not-in-chain",
        "undeclared-list",
        "where-org-unknown",
        "duplicate-id",
    ],
)
def test_set_rule_errors_name_the_line(seeded, tmp_path, example, old, new, message, at):
    text = with_sets(example)
    text = replace_once(text, old, new)
    _, errors = validate(tmp_path, text)
    assert errors, "the broken file validated"
    assert message in errors[0].message, [str(e) for e in errors]
    if at is not None:
        assert line(text, errors[-1] if at == 'id = "rural"' else errors[0]) == at
    else:
        assert errors[0].line is not None


def test_programme_show_prints_the_quota_policy_and_the_set_rules(client, seeded, example):
    parsed = loader.parse_text(with_sets(example), "sets.toml")
    from edupilot.audit.services import Actor

    programme_load(parsed=parsed, actor=Actor.system(), time_shift_days=0)
    out = io.StringIO()
    call_command("programme", "show", "example-smart-classroom", stdout=out)
    text = out.getvalue()
    assert "名额（县级）：中心城区每个 3 个；乡村振兴重点县每个 4 个；其余每个单位 2 个" in text
    assert "集合规则 rural：每个县级单位推荐的申报中至少 1 个城乡类别为乡村" in text
    assert "集合规则 campuses：每个县级单位推荐的申报中同一教育集团至多 2 个" in text
    assert "集合规则 confirm：" in text and "1/1.5" in text
    out = io.StringIO()
    call_command("programme", "show", "example-smart-classroom", "--format", "json", stdout=out)
    cat = json.loads(out.getvalue())["categories"][0]
    assert [r["id"] for r in cat["set_rules"]] == ["rural", "campuses", "confirm"]
    assert cat["set_rules"][2]["checked"] == ["approve"]
    assert cat["quotas"][0]["policy"] == "each"
    from django.urls import reverse

    from edupilot.orgs.models import Role
    from tests.review.conftest import reviewer
    from tests.review.test_views import login

    login(client, reviewer("430400", Role.PROGRAMME_ADMIN))
    page = client.get(reverse("programmes:detail", args=["example-smart-classroom"]))
    html = page.content.decode()
    assert "同一教育集团的校区至多推荐两所。" in html and "中心城区每个 3 个" in html
    out = io.StringIO()
    call_command("quota", "show", "example-smart-classroom", stdout=out)
    text = out.getvalue()
    assert "政策：每单位定额（中心城区每个 3 个" in text
    assert "中心城区：每个 3 个" in text


def test_the_cookbook_recipes_hold_when_loaded_and_tried(seeded, tmp_path):
    """The two cookbook recipes spliced into the complete example, loaded, and broken: the
    county's third campus of one group is refused, naming the three campuses."""
    from edupilot.orgs.models import Locality, Org, OrgKind
    from edupilot.programmes.models import QuotaAllocation
    from edupilot.review import services
    from tests.conftest import org
    from tests.programme_files import RECIPES, splice
    from tests.review.conftest import reviewer, school_in, submit_as

    quota = next(r for _, r in RECIPES if r.startswith("[[categories.quotas]]"))
    rules = next(r for _, r in RECIPES if r.startswith("[[categories.set_rules]]"))
    text = splice(quota)
    start = text.index("[[categories.quotas]]")
    text = text[:start] + quota + "\n" + rules + text[start + len(quota) :]
    programme = load_text(text, "cookbook.toml", today=EXAMPLE_TODAY)
    places = dict(
        QuotaAllocation.objects.filter(programme=programme).values_list("holder__name", "effective")
    )
    assert places["石鼓区"] == 12 and places["衡阳县"] == 10
    group = Org.objects.create(
        code="G430421-1", name="衡阳县一中教育集团", kind=OrgKind.GROUP, parent=org("衡阳县")
    )
    apps = [
        submit_as(
            school_in(
                org("衡阳县"), name=f"衡阳县一中{i}校区", locality=Locality.RURAL, group=group
            ),
            programme,
            "school",
        )
        for i in range(3)
    ]
    county = reviewer("衡阳县")
    services.review_recommend_bulk(
        applications=apps[:2], scope=county.scope, actor=county.actor, opinion="同意推荐。"
    )
    with pytest.raises(services.ReviewError) as exc:
        services.review_recommend(
            application=apps[2], scope=county.scope, actor=county.actor, opinion="同意推荐。"
        )
    assert exc.value.message.startswith("同一教育集团的校区至多推荐两所。（规则 campuses：")
    assert "衡阳县一中0校区、衡阳县一中1校区、衡阳县一中2校区" in exc.value.message


@pytest.mark.parametrize(
    "title, message, at",
    [
        (
            'list = "nowhere"\nname = "示范校"\npriority = true',
            "称号 示范校 引用了未在 [[lists]] 中声明的名单：nowhere",
            'list = "nowhere"',
        ),
        (
            'list = "example_earlier_pilots"\nname = "示范校"',
            "须写 admit",
            'name = "示范校"',
        ),
        (
            'list = "example_earlier_pilots"\nname = "示范校"\nadmit = "outside"',
            "取值必须是",
            'admit = "outside"',
        ),
    ],
    ids=["undeclared-list", "says-nothing", "bad-admit"],
)
def test_title_errors_name_the_line(seeded, tmp_path, example, title, message, at):
    text = with_sets(example, rules=RULES + "\n[[categories.titles]]\n" + title + "\n")
    _, errors = validate(tmp_path, text)
    assert errors and message in errors[0].message, [str(e) for e in errors]
    assert line(text, errors[0]) == at


TWO_LEVELS = """[[topics]]
code = "teaching"
name = "教学应用"

[[topics]]
code = "classroom"
name = "智慧课堂教学应用"
parent = "teaching"

[[topics]]
code = "management"
name = "管理应用"

[[topics]]
code = "evaluation"
name = "综合素质评价"
parent = "management"
"""

COVERS = """
[[categories.set_rules]]
id = "directions"
kind = "covers"
level = "county"
each_topic = "direction"
min = 1
message = "各县（市、区）推荐的学校须覆盖每个方向。"
"""


def test_covers_every_direction_within_the_places_left(seeded, tmp_path, example):
    """Topics in two levels; a county's two places must cover both directions: a second
    school of the same direction is refused, naming the direction still missing."""
    from edupilot.orgs.models import Locality
    from edupilot.review import services
    from tests.conftest import org
    from tests.review.conftest import reviewer, school_in, submit_as

    text = with_sets(example, rules=RULES + COVERS)
    text = replace_once(
        text, '[[topics]]\ncode = "classroom"\nname = "智慧课堂教学应用"\n', TWO_LEVELS
    )
    text = replace_once(text, 'topics = ["classroom"]', 'topics = ["classroom", "evaluation"]')
    parsed = loader.parse_text(text, "covers.toml")
    assert parsed.spec.direction_of("evaluation") == "management"
    programme = load_text(text, "covers.toml", today=EXAMPLE_TODAY)
    county = reviewer("衡阳县")

    def bid(topic):
        who = school_in(org("衡阳县"), locality=Locality.RURAL)
        return submit_as(who, programme, "school", topic=topic)

    a, b, c = bid("classroom"), bid("classroom"), bid("evaluation")
    services.review_recommend(application=a, scope=county.scope, actor=county.actor, opinion="同意")
    with pytest.raises(services.ReviewError) as exc:
        services.review_recommend(
            application=b, scope=county.scope, actor=county.actor, opinion="同意"
        )
    assert exc.value.message.startswith(
        "各县（市、区）推荐的学校须覆盖每个方向。（规则 directions："
    )
    assert "尚缺 1 个才能覆盖：管理应用，而此后只剩 0 个名额" in exc.value.message
    assert b.applicant_org.name in exc.value.message
    services.review_recommend(application=c, scope=county.scope, actor=county.actor, opinion="同意")


def test_covers_every_county_of_a_city_names_the_missing_ones(seeded):
    """``each_org_at``: the cells are the city's counties; a unit of an already covered county
    is the one named."""
    from edupilot.programmes import sets
    from edupilot.programmes.set_schema import SetRule
    from tests.conftest import make_school, org

    rule = SetRule(
        id="counties", kind="covers", level="city", each_org_at="county", min=1, message="每县一所"
    )
    city = org("430400")

    class Spec:
        topics = []

    cells, orgs_at = sets.coverage_cells(rule, Spec, None, city)
    assert len(cells) == 12 and cells[0][1] == "珠晖区"
    hy = [make_school(org("衡阳县")) for _ in range(2)]
    others = [make_school(o) for o in orgs_at[:9] if o.name != "衡阳县"]
    failure = sets.check_rule(
        rule,
        holder="衡阳市推荐的申报",
        members=others + hy,
        added=[hy[1]],
        room=1,
        cells=cells,
        key_of=lambda o: sets.cell_key(rule, Spec, o, "", orgs_at),
    )
    assert failure is not None and "尚缺 3 个才能覆盖" in failure.message
    assert failure.units == [hy[1].name]


@pytest.mark.parametrize(
    "rule, message, at",
    [
        (
            COVERS.replace('level = "county"', 'level = "city"').replace(
                'each_topic = "direction"', 'each_org_at = "city"'
            ),
            "each_org_at 须是 city 以下的层级",
            'each_org_at = "city"',
        ),
        (
            COVERS.replace('each_topic = "direction"\n', ""),
            "covers 规则须写 each_topic 或 each_org_at",
            'kind = "covers"',
        ),
        (COVERS.replace("min = 1\n", ""), "covers 规则须写 min", 'kind = "covers"'),
    ],
    ids=["org-tier-not-below", "covers-nothing", "no-min"],
)
def test_covers_errors_name_the_line(seeded, tmp_path, example, rule, message, at):
    text = with_sets(example, rules=RULES + rule)
    _, errors = validate(tmp_path, text)
    assert errors and message in errors[0].message, [str(e) for e in errors]
    assert line(text, errors[0]) == at


def test_a_sub_direction_names_a_declared_direction(seeded, tmp_path, example):
    text = replace_once(
        example, 'name = "智慧课堂教学应用"\n', 'name = "智慧课堂教学应用"\nparent = "teaching"\n'
    )
    _, errors = validate(tmp_path, text)
    assert "parent = teaching 须是已声明的一级方向" in errors[0].message
    assert line(text, errors[0]) == 'parent = "teaching"'
