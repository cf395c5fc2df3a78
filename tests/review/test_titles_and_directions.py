"""What reviewers and applicants see of ``[[categories.titles]]`` and of topics in two levels.

Queue rows (page and API) carry the unit's title badge ("省级示范校 · 不占名额 · 优先") and its
topic after its direction ("管理应用 / 综合素质评价"), read in the page's own query (the count
of queries does not grow with the rows); the ranks a priority title gives are the order the
queue lists by; the applicant's topic picker is a two-level select (``<optgroup>``, no
script) and the application API names the direction and the titles.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from edupilot.applications.models import Application
from edupilot.orgs.models import Locality
from edupilot.programmes.models import ParticipantEntry, ParticipantList
from edupilot.review import services
from tests.conftest import org
from tests.programmes.test_file_errors import DOC, replace_once
from tests.programmes.test_set_rules_file import TWO_LEVELS, with_sets
from tests.selection.test_experts_support import load_henan

from .conftest import reviewer, school_in, submit_as
from .test_query_counts import _copies, _queries
from .test_set_rules import EACH_AND_RULES, TITLE_RULE, TITLES, school, school_table

pytestmark = pytest.mark.django_db

BADGE = "省级示范校 · 不占名额 · 优先"


def load_titled():
    return load_henan(
        replace={
            school_table(): EACH_AND_RULES + TITLE_RULE,
            '[[lists]]\ncode = "henan_tencent_phase1"': TITLES,
        }
    )


def hold_title(app):
    ParticipantEntry.objects.create(
        plist=ParticipantList.objects.get(code="henan_demo_schools"), org=app.applicant_org
    )


def recommend(app, by="郑州市"):
    r = reviewer(by)
    return services.review_recommend(
        application=app, scope=r.scope, actor=r.actor, opinion="同意推荐。"
    )


def names(response) -> list[str]:
    return [r["name"] for r in response.context["q"].rows]


def test_queue_rows_show_the_title_and_list_priority_first(client, seeded):
    henan = load_titled()
    plain = [school(henan, locality=Locality.RURAL, name=f"金水区普通第{i}小学") for i in (1, 2)]
    demo = school(henan, locality=Locality.RURAL, name="金水区示范小学")
    hold_title(demo)
    city = reviewer("郑州市")
    client.force_login(city.user)

    response = client.get(reverse("review:queue"))
    rows = {r["name"]: r for r in response.context["q"].rows}
    assert rows["金水区示范小学"]["badge"] == BADGE
    assert rows["金水区普通第1小学"]["badge"] == ""
    html = response.content.decode()
    assert f'金水区示范小学</a> <span class="badge ok">{BADGE}</span>' in html
    assert html.count(BADGE) == 1
    api = client.get("/api/v1/review/queue").json()["items"]
    assert {i["applicant"]: i["titles"] for i in api} == {
        "金水区普通第1小学": "",
        "金水区普通第2小学": "",
        "金水区示范小学": BADGE,
    }

    # The title holder, recommended last, takes the first rank: the city's ranking lists it
    # first, and so does the province's queue ordered by the city's ranks.
    for a in (*plain, demo):
        recommend(a)
    passed = client.get(reverse("review:queue"), {"state": "passed", "sort": "rank"})
    assert names(passed) == ["金水区示范小学", "金水区普通第1小学", "金水区普通第2小学"]
    assert [r["my_rank"] for r in passed.context["q"].rows] == [1, 2, 3]
    province = reviewer("河南省")
    client.force_login(province.user)
    lower = client.get(reverse("review:queue"), {"sort": "lower"})
    assert names(lower) == ["金水区示范小学", "金水区普通第1小学", "金水区普通第2小学"]
    assert lower.context["q"].rows[0]["lower"] == "郑州市 第 1 名"
    assert lower.context["q"].rows[0]["badge"] == BADGE


def test_title_badges_cost_no_query_per_row(client, seeded):
    """5 rows and 50 rows, a third of them holding the title: the same queries."""
    henan = load_titled()
    apps = [school(henan, name=f"金水区计数第{i}小学") for i in range(5)]
    hold_title(apps[0])
    client.force_login(reviewer("郑州市").user)
    queue = reverse("review:queue")
    pages = [(queue, {}), ("/api/v1/review/queue", {})]
    for url, params in pages:
        client.get(url, params)  # warm the process's caches
    few = [_queries(client, url, params) for url, params in pages]
    _copies(apps[-1], 45)
    for a in Application.objects.filter(programme=henan).order_by("pk")[5::3]:
        hold_title(a)
    many = [_queries(client, url, params) for url, params in pages]
    rows = client.get(queue).context["q"].rows
    assert len(rows) == 50 and sum(1 for r in rows if r["badge"] == BADGE) == 1 + 15
    assert many == few


# --- topics in two levels -------------------------------------------------------------------


def load_two_levels():
    from edupilot.audit.services import Actor
    from edupilot.programmes import loader
    from edupilot.programmes.services import programme_load

    example = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)[-1]
    text = with_sets(example, rules="")
    text = replace_once(
        text, '[[topics]]\ncode = "classroom"\nname = "智慧课堂教学应用"\n', TWO_LEVELS
    )
    text = replace_once(text, 'topics = ["classroom"]', 'topics = ["classroom", "evaluation"]')
    parsed = loader.parse_text(text, "two-levels.toml")
    shift = (dt.date.today() - dt.date(2030, 3, 15)).days
    return programme_load(parsed=parsed, actor=Actor.system(), time_shift_days=shift).programme


def test_queue_and_api_show_the_direction_of_a_sub_direction(client, seeded):
    programme = load_two_levels()
    who = school_in(org("衡阳县"), locality=Locality.RURAL)
    app = submit_as(who, programme, "school", topic="evaluation")
    county = reviewer("衡阳县")
    client.force_login(county.user)
    response = client.get(reverse("review:queue"), {"programme": programme.pk})
    assert response.context["q"].rows[0]["topic"] == "管理应用 / 综合素质评价"
    assert "<td>管理应用 / 综合素质评价</td>" in response.content.decode()
    # The topic filter names the direction too.
    assert ("evaluation", "管理应用 / 综合素质评价") in response.context["q"].topics
    item = client.get("/api/v1/review/queue").json()["items"][0]
    assert item["topic"] == "管理应用 / 综合素质评价" and item["titles"] == ""

    client.force_login(who.user)
    detail = client.get(f"/api/v1/applications/{app.pk}").json()
    assert detail["topic"] == "evaluation" and detail["direction"] == "management"
    assert detail["topic_label"] == "管理应用 / 综合素质评价" and detail["titles"] == []
    listed = client.get("/api/v1/applications/").json()["items"]
    assert [(i["topic"], i["direction"]) for i in listed] == [("evaluation", "management")]


def test_the_topic_picker_offers_directions_then_sub_directions(client, seeded):
    from edupilot.applications import services as app_services

    programme = load_two_levels()
    who = school_in(org("衡阳县"), locality=Locality.RURAL)
    app = app_services.application_start(
        programme=programme, category_code="school", scope=who.scope, actor=who.actor
    )
    client.force_login(who.user)
    html = client.get(reverse("applications:edit", args=[app.pk])).content.decode()
    select = re.search(r'<select name="f-topic"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert re.findall(r'<optgroup label="([^"]+)">|<option value="(\w+)"', select) == [
        ("教学应用", ""),
        ("", "classroom"),
        ("管理应用", ""),
        ("", "evaluation"),
    ]
    # A plain form post of the sub-direction (no script) is saved, and shown with its direction.
    from .conftest import valid_post

    post = valid_post(programme, "school", topic="evaluation")
    client.post(reverse("applications:edit", args=[app.pk]), post)
    app.refresh_from_db()
    assert app.topic == "evaluation"
    page = client.get(reverse("applications:detail", args=[app.pk])).content.decode()
    assert "管理应用 / 综合素质评价" in page


def test_the_application_api_names_the_titles_the_applicant_holds(client, seeded):
    henan = load_titled()
    demo = school(henan, locality=Locality.RURAL, name="金水区接口示范小学")
    hold_title(demo)
    client.force_login(reviewer("郑州市").user)
    detail = client.get(f"/api/v1/applications/{demo.pk}").json()
    assert detail["titles"] == ["省级示范校（直接入选，不占名额，推荐排序优先）"]
    assert detail["direction"] == "" and detail["topic_label"] == ""
