"""Set rules and ``each`` quotas enforced: on the city's recommendations and on the province's
approvals of the Henan school category, with a refusal that names the rule and the units.

The Henan file is loaded with its 28-row school table replaced by "3 per city, 4 for 郑州"
and three set rules at the city level (the notice has none: invented for the test).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from edupilot.orgs.models import Locality, Org, OrgKind, Role
from edupilot.programmes.models import QuotaAllocation
from edupilot.review import services
from edupilot.review.models import ReviewDecision
from edupilot.selection import approval
from edupilot.selection.errors import SelectionError
from edupilot.selection.models import ApprovalDecision, ApprovalOutcome
from tests.conftest import org
from tests.review.conftest import reviewer, school_in, submit_as
from tests.selection.test_experts_support import henan_file_text, load_henan, to_issuer, who

pytestmark = pytest.mark.django_db

EACH_AND_RULES = """[[categories.quotas]]
policy = "each"
level = "city"
quota = 3
classes = [{ name = "省会城市", quota = 4, orgs = ["郑州市"] }]

[[categories.set_rules]]
id = "rural"
kind = "at_least"
level = "city"
min = 1
where = { locality = "rural" }
message = "各市推荐的学校中至少有一所乡村学校。"

[[categories.set_rules]]
id = "campuses"
kind = "at_most_per_group"
level = "city"
max = 2
per = "group"
message = "同一教育集团的校区至多推荐两所。"

[[categories.set_rules]]
id = "confirm"
kind = "confirm_ratio"
level = "city"
ratio = 1.5
message = "各市推荐的学校，省里确认不超过三分之二。"
"""


def school_table() -> str:
    text = henan_file_text()
    start = text.index(
        '[[categories.quotas]]\npolicy = "table"\nlevel = "city"\ndeclared_total = 218'
    )
    return text[start : text.index("\n]\n", start) + 3]


def load_sets():
    return load_henan(replace={school_table(): EACH_AND_RULES})


@pytest.fixture
def henan_sets(seeded):
    return load_sets()


def recommend(app, by="郑州市"):
    r = reviewer(by)
    return services.review_recommend(
        application=app, scope=r.scope, actor=r.actor, opinion="同意推荐。"
    )


def school(programme, parent="金水区", locality=Locality.URBAN, name=None, **attrs):
    return submit_as(
        school_in(org(parent), name=name, locality=locality, **attrs), programme, "school"
    )


def test_each_quota_gives_zhengzhou_4_and_every_other_city_3(henan_sets):
    rows = dict(
        QuotaAllocation.objects.filter(programme=henan_sets, category="school").values_list(
            "holder__name", "effective"
        )
    )
    assert rows["郑州市"] == 4 and rows["开封市"] == 3 and rows["巩义市"] == 3
    assert set(rows.values()) == {3, 4}


def test_a_recommendation_that_leaves_no_room_for_a_rural_school_is_refused(henan_sets):
    urban = [school(henan_sets, name=f"金水区城区第{i}小学") for i in range(4)]
    rural = school(henan_sets, locality=Locality.RURAL, name="金水区乡村小学")
    for a in urban[:3]:
        recommend(a)  # the fourth place is still free for a rural school
    with pytest.raises(services.ReviewError) as exc:
        recommend(urban[3])
    message = exc.value.message
    assert message.startswith("各市推荐的学校中至少有一所乡村学校。（规则 rural：郑州市推荐的申报")
    assert "其中城乡类别为乡村的 0 个，须至少 1 个，而此后只剩 0 个名额" in message
    assert "涉及的单位：金水区城区第3小学" in message
    assert ReviewDecision.objects.filter(active=True).count() == 3
    recommend(rural)
    # The quota is full now: the quota says so first.
    with pytest.raises(services.ReviewError, match="已全部占用"):
        recommend(urban[3])


def test_at_most_two_campuses_of_one_school_group(henan_sets):
    kaifeng = org("开封市")
    group = Org.objects.create(
        code="G410200-1", name="开封市第一教育集团", kind=OrgKind.GROUP, parent=kaifeng
    )
    campuses = [
        school(henan_sets, "开封市", Locality.RURAL, name=f"开封一中教育集团{i}校区", group=group)
        for i in range(3)
    ]
    r = reviewer("开封市")
    services.review_recommend_bulk(
        applications=campuses[:2], scope=r.scope, actor=r.actor, opinion="同意推荐。"
    )
    with pytest.raises(services.ReviewError) as exc:
        recommend(campuses[2], by="开封市")
    message = exc.value.message
    assert (
        "同一教育集团的校区至多推荐两所。（规则 campuses：开封市推荐的申报中同属教育集团“开封市第一教育集团”的有 3 个，至多 2 个）"
        in message
    )
    assert (
        "涉及的单位：开封一中教育集团0校区、开封一中教育集团1校区、开封一中教育集团2校区" in message
    )
    # A campus of no group, or of another group, is not held back.
    recommend(school(henan_sets, "开封市", Locality.RURAL), by="开封市")


def test_the_reviewer_page_shows_the_rule_and_the_units(client, henan_sets):
    from tests.review.test_views import login

    apps = [school(henan_sets, name=f"金水区页面第{i}小学") for i in range(4)]
    for a in apps[:3]:
        recommend(a)
    city = reviewer("郑州市")
    login(client, city)
    r = client.post(
        reverse("review:recommend", args=[apps[3].pk]), {"opinion": "同意推荐。"}, follow=True
    )
    html = r.content.decode()
    assert "各市推荐的学校中至少有一所乡村学校" in html and "金水区页面第3小学" in html
    apps[3].refresh_from_db()
    assert apps[3].state == "submitted"


def approve(apps):
    admin = who("410000", Role.PROGRAMME_ADMIN)
    return approval.selection_decide(
        applications=apps,
        outcome=ApprovalOutcome.APPROVE,
        opinion="同意",
        scope=admin.scope,
        actor=admin.actor,
    )


def test_the_province_confirms_at_most_two_of_three_and_keeps_a_rural_one(henan_sets):
    a = school(henan_sets, name="金水区确认甲小学")
    b = school(henan_sets, name="金水区确认乙小学")
    c = school(henan_sets, locality=Locality.RURAL, name="金水区确认乡村小学")
    for x in (a, b, c):
        recommend(x)
    a, b, c = (to_issuer(x) for x in (a, b, c))
    approve([a])
    # ⌊3 / 1.5⌋ = 2 may be confirmed: a second urban one would leave no place for the rural one.
    with pytest.raises(SelectionError) as exc:
        approve([b])
    assert "各市推荐的学校中至少有一所乡村学校。（规则 rural：郑州市推荐的申报" in exc.value.message
    assert "涉及的单位：金水区确认乙小学" in exc.value.message
    approve([c])
    with pytest.raises(SelectionError) as exc:
        approve([b])
    assert "各市推荐的学校，省里确认不超过三分之二。" in exc.value.message
    assert "共 3 个，至多确认 ⌊3 / 1.5⌋ = 2 个，同意后将确认 3 个" in exc.value.message
    assert ApprovalDecision.objects.filter(is_active=True).count() == 2
    # Rejecting is never held back by a set rule.
    admin = who("410000", Role.PROGRAMME_ADMIN)
    approval.selection_reject(
        application=b, reason="名额已满", scope=admin.scope, actor=admin.actor
    )


TITLES = """[[lists]]
code = "henan_demo_schools"
title = "省级示范校"

[[lists]]
code = "henan_tencent_phase1\""""

TITLE_RULE = """
[[categories.titles]]
list = "henan_demo_schools"
name = "省级示范校"
admit = "outside_quota"
priority = true
"""


def test_a_title_admits_outside_the_quota_ranks_first_and_is_shown(client, seeded):
    from edupilot.programmes.models import ParticipantEntry, ParticipantList
    from tests.review.test_views import login

    henan = load_henan(
        replace={
            school_table(): EACH_AND_RULES + TITLE_RULE,
            '[[lists]]\ncode = "henan_tencent_phase1"': TITLES,
        }
    )
    rural = [school(henan, locality=Locality.RURAL, name=f"金水区乡村第{i}小学") for i in range(5)]
    demo = school(henan, locality=Locality.RURAL, name="金水区示范小学")
    ParticipantEntry.objects.create(
        plist=ParticipantList.objects.get(code="henan_demo_schools"), org=demo.applicant_org
    )
    city = reviewer("郑州市")
    login(client, city)
    html = client.get(reverse("review:detail", args=[demo.pk])).content.decode()
    assert "省级示范校" in html and "直接入选，不占名额，推荐排序优先" in html
    for a in rural[:4]:
        recommend(a)
    with pytest.raises(services.ReviewError, match="已全部占用"):
        recommend(rural[4])
    d = recommend(demo)  # outside the quota, and ahead of the four
    assert d.quota_holder_id is None and d.rank == 1
    ranks = dict(ReviewDecision.objects.filter(active=True).values_list("application_id", "rank"))
    assert sorted(ranks.values()) == [1, 2, 3, 4, 5]
    out = __import__("io").StringIO()
    from django.core.management import call_command

    call_command("programme", "show", henan.code, stdout=out)
    assert (
        "称号：省级示范校（名单 henan_demo_schools）：直接入选，不占名额，推荐排序优先"
        in out.getvalue()
    )


def test_a_quota_over_two_rounds_counts_the_places_used_in_the_first(seeded):
    from edupilot.programmes import loader

    first = load_sets()  # 郑州市: 4 places
    for i in range(3):
        recommend(school(first, locality=Locality.RURAL, name=f"金水区首轮第{i}小学"))
    each = EACH_AND_RULES[: EACH_AND_RULES.index("[[categories.set_rules]]")]
    second_quota = each.replace(
        'policy = "each"\n', 'policy = "each"\nearlier_rounds = ["henan-tencent-2019"]\n'
    )
    code = 'code = "henan-tencent-2019"'
    second = load_henan(replace={code: 'code = "henan-tencent-2020"', school_table(): second_quota})
    assert second.code == "henan-tencent-2020" and first.code == "henan-tencent-2019"
    a, b = (school(second, name=f"金水区次轮第{i}小学") for i in range(2))
    recommend(a)  # 3 used in the first round + this one = 4
    with pytest.raises(services.ReviewError) as exc:
        recommend(b)
    assert "共 4 个，已全部占用" in exc.value.message
    assert (
        "金水区首轮第0小学（" in exc.value.message
        and "金水区次轮第0小学（第 1 名）" in exc.value.message
    )
    # The first round is not held back by the second (its quota does not look forward).
    assert ReviewDecision.objects.filter(programme=first, active=True).count() == 3
    # A round that is not loaded, or this programme itself, is refused at its line.
    source = second.source_text.replace(
        'earlier_rounds = ["henan-tencent-2019"]', 'earlier_rounds = ["henan-tencent-2018"]'
    )
    errors = loader.check_orgs(loader.parse_text(source, "x.toml"))
    assert [e.message for e in errors] == [
        "往轮项目 henan-tencent-2018 尚未载入（请先载入它的项目文件）"
    ]
    assert source.splitlines()[errors[0].line - 1] == 'earlier_rounds = ["henan-tencent-2018"]'
