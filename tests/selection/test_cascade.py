"""A city round under a provincial call (``parent = "<code>"``), end to end.

The province's call gives 衡阳市 two places at its city level. The city runs its own round
(its own stages and deadlines, the province's form and rules): schools apply, the county
recommends, the city approves and publishes its 公示; when the final list is published the
confirmed units appear in the province's queue as the city's recommendations, counted
against the city's two places. Units the city did not confirm do not appear; a list longer
than the places refuses the whole publication; the city's reviewers cannot then send a
third unit to the province directly. The loader refuses a round it cannot run, at its line.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from edupilot.applications.models import Application, AppState
from edupilot.orgs.models import Role
from edupilot.programmes import loader
from edupilot.review import queue as review_queue
from edupilot.review import services as review
from edupilot.selection import announcements, approval
from edupilot.selection.errors import SelectionError
from tests.applications.conftest import Who
from tests.conftest import make_school, org
from tests.programme_files import EXAMPLE, load_text
from tests.review.conftest import submit_as

PROVINCE_FLOW = """[[categories.flow]]
kind = "tier_review"
key = "county"
name = "县（市、区）教育局推荐"
tier = "county"
deadline = 2030-04-10

[[categories.flow]]
kind = "tier_review"
key = "city"
name = "市州教育局推荐"
tier = "city"
deadline = 2030-05-31

[[categories.flow]]
kind = "tier_review"
key = "province"
name = "省教育厅审核"
tier = "province"
deadline = 2030-06-30

[[categories.flow]]
kind = "approval"
key = "approval"
name = "省教育厅审定"

[[categories.flow]]
kind = "announcement"
key = "publicity"
name = "公示"

[[categories.quotas]]
policy = "table"
level = "city"
entries = [{ org = "衡阳市", quota = 2 }]

[pilot]"""

ROUND = """schema_version = 1
code = "example-city-round"
parent = "example-province-call"
title = "衡阳市智慧课堂试点市级评选"
issuer = "430400"
issuer_name = "衡阳市教育局"

[period]
opens = 2030-03-01
closes = 2030-03-31

[[categories]]
code = "school"
{cap}
[[categories.flow]]
kind = "tier_review"
key = "county"
name = "县（市、区）教育局推荐"
tier = "county"
deadline = 2030-04-10

[[categories.flow]]
kind = "approval"
key = "approval"
name = "市教育局确定推荐名单"

[[categories.flow]]
kind = "announcement"
key = "publicity"
name = "市级公示"
"""


def province_text() -> str:
    text = EXAMPLE.replace('code = "example-smart-classroom"', 'code = "example-province-call"')
    text = text.replace('issuer = "430400"', 'issuer = "430000"').replace(
        'issuer_name = "衡阳市教育局"', 'issuer_name = "湖南省教育厅"'
    )
    start = text.index("[[categories.flow]]")
    end = text.index("[pilot]")
    return text[:start] + PROVINCE_FLOW + text[end + len("[pilot]") :]


def city_round_through_its_publicity(city_round, schools: int, approve: int):
    """``schools`` schools apply to the city round, the county recommends them all, the city
    approves the first ``approve`` and rejects the rest, and publishes its 公示."""
    county = org("衡阳县")
    county_rev, city_admin = Who(county, Role.REVIEWER), Who(org("430400"), Role.PROGRAMME_ADMIN)
    apps = []
    for i in range(schools):
        school = Who(make_school(county, f"衡阳县市级评选第{i + 1}小学", stages=",primary,"))
        app = submit_as(school, city_round, "school", classrooms="3")
        review.review_recommend(
            application=app, scope=county_rev.scope, actor=county_rev.actor, opinion="同意"
        )
        apps.append(app)
    for i, app in enumerate(apps):
        who = {"scope": city_admin.scope, "actor": city_admin.actor}
        if i < approve:
            approval.selection_approve(application=app, opinion="同意推荐", **who)
        else:
            approval.selection_reject(application=app, reason="未入选市级推荐名单", **who)
    ann = announcements.announcement_publish(
        programme=city_round, scope=city_admin.scope, actor=city_admin.actor
    )
    return apps, ann, city_admin


def test_the_round_inherits_the_provinces_form_and_runs_its_own_stages(city_round, province):
    spec = city_round.parsed
    assert spec.forms["school"].title == province.parsed.forms["school"].title
    (category,) = spec.categories
    assert [r.id for r in category.rules] == ["not_earlier_pilot", "enough_classrooms"]
    assert [s.key for s in category.pipeline] == ["county", "approval", "publicity"]
    # The province's own opinion boxes stay with the province's form.
    assert [b.by for b in spec.forms["school"].opinions] == ["applicant", "county"]


def test_confirmed_units_become_the_citys_recommendations_at_the_province(city_round, province):
    apps, ann, city_admin = city_round_through_its_publicity(city_round, schools=3, approve=2)
    assert not Application.objects.filter(programme=province).exists(), "not before the list"
    announcements.announcement_close(
        announcement=ann,
        actor=city_admin.actor,
        scope=city_admin.scope,
        now=ann.objection_until + dt.timedelta(minutes=1),
    )
    sent = list(Application.objects.filter(programme=province).order_by("pk"))
    assert [a.applicant_org_id for a in sent] == [a.applicant_org_id for a in apps[:2]]
    province_org = org("430000")
    for a in sent:
        # The province reviews last for its own call: the unit awaits its decision there.
        assert (a.state, a.current_org_id) == (AppState.RECOMMENDED, province_org.pk)
        assert [s["org_name"] for s in a.chain] == ["衡阳市", "湖南省"]
        assert a.data == apps[0].data or a.data == apps[1].data
        assert a.versions.count() == 1
    # In the province's queue, as the city's recommendations, within the city's 2 places.
    province_rev = Who(province_org, Role.REVIEWER)
    queue = review_queue.review_queue(province_rev.scope, review_queue.QueueFilters())
    assert {r["pk"] for r in queue.rows} == {a.pk for a in sent}
    (state,) = [q for q in review.quota_buckets(sent[0], 0)]
    quota = review.quota_state(sent[0], *state)
    assert (quota.used, quota.limit) == (2, 2)

    # The city cannot send a third unit to the province by the direct route: no place left.
    school = Who(make_school(org("衡阳县"), "衡阳县直报小学", stages=",primary,"))
    direct = submit_as(school, province, "school", classrooms="3")
    county_rev = Who(org("衡阳县"), Role.REVIEWER)
    review.review_recommend(
        application=direct, scope=county_rev.scope, actor=county_rev.actor, opinion="同意"
    )
    city_rev = Who(org("430400"), Role.REVIEWER)
    with pytest.raises(review.ReviewError, match="名额"):
        review.review_recommend(
            application=direct, scope=city_rev.scope, actor=city_rev.actor, opinion="同意"
        )


def test_a_final_list_longer_than_the_citys_places_is_refused_whole(city_round, province):
    apps, ann, city_admin = city_round_through_its_publicity(city_round, schools=3, approve=3)
    with pytest.raises(SelectionError, match="名额"):
        announcements.announcement_close(
            announcement=ann,
            actor=city_admin.actor,
            scope=city_admin.scope,
            now=ann.objection_until + dt.timedelta(minutes=1),
        )
    # The periodic close (the system acting for the city) is held up the same way.
    assert (
        announcements.announcements_close_due(now=ann.objection_until + dt.timedelta(hours=1)) == []
    )
    ann.refresh_from_db()
    assert ann.state == "published"
    assert not Application.objects.filter(programme=province).exists()
    assert {a.state for a in Application.objects.filter(pk__in=[a.pk for a in apps])} == {
        AppState.APPROVED
    }


def test_a_unit_that_applied_to_the_province_itself_is_not_sent_twice(city_round, province):
    apps, ann, city_admin = city_round_through_its_publicity(city_round, schools=1, approve=1)
    school = Who(apps[0].applicant_org, Role.APPLICANT)
    submit_as(school, province, "school", classrooms="3")
    with pytest.raises(SelectionError, match="已在上级项目.*有本类别的申报"):
        announcements.announcement_close(
            announcement=ann,
            actor=city_admin.actor,
            scope=city_admin.scope,
            now=ann.objection_until + dt.timedelta(minutes=1),
        )


def test_programme_show_says_where_the_round_sends_its_list(city_round, client):
    out = io.StringIO()
    call_command("programme", "show", "example-city-round", "--format", "json", stdout=out)
    parent = json.loads(out.getvalue())["parent"]
    assert parent["code"] == "example-province-call"
    assert (
        parent["categories"][0]["places"] == 2
        and parent["categories"][0]["stage"] == "市州教育局推荐"
    )
    out = io.StringIO()
    call_command("programme", "show", "example-city-round", stdout=out)
    assert "上级项目：example-province-call" in out.getvalue()
    assert "确认名单作为衡阳市的推荐报送" in out.getvalue() and "名额 2 个" in out.getvalue()
    admin = Who(org("430400"), Role.PROGRAMME_ADMIN)
    client.force_login(admin.user)
    page = client.get(reverse("programmes:detail", args=[city_round.code])).content.decode()
    assert "example-province-call" in page
    out = io.StringIO()
    call_command("programme", "show", "example-province-call", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["rounds"] == [
        {"code": "example-city-round", "title": "衡阳市智慧课堂试点市级评选", "issuer": "衡阳市"}
    ]


# --- what the loader refuses, at its line ------------------------------------------------------


def errors_of(tmp_path, text: str):
    path = tmp_path / "round.toml"
    path.write_text(text, encoding="utf-8")
    return loader.validate(path)[1]


def the_line(text: str, error) -> str:
    assert error.line is not None, error
    return text.splitlines()[error.line - 1].strip()


@pytest.mark.parametrize(
    "old, new, field, message",
    [
        ('parent = "example-province-call"', 'parent = "no-such-call"', "parent", "尚未载入"),
        ('issuer = "430400"', 'issuer = "350500"', "issuer", "管辖范围内"),
        ('issuer = "430400"', 'issuer = "430000"', "issuer", "管辖范围内"),
        ('code = "school"\n', 'code = "region"\n', "categories[1].code", "没有类别 region"),
        ('code = "school"\n', 'code = "school"\ncap = 3\n', "categories[1].cap", "超过衡阳市"),
    ],
)
def test_a_round_that_cannot_run_is_refused_at_its_line(
    province, tmp_path, old, new, field, message
):
    text = ROUND.format(cap="")
    assert text.count(old) == 1
    text = text.replace(old, new)
    errors = errors_of(tmp_path, text)
    assert len(errors) == 1, [str(e) for e in errors]
    assert errors[0].field == field and message in errors[0].message, errors[0]
    assert the_line(text, errors[0]).startswith(field.split(".")[-1])


def test_a_parent_without_a_review_at_the_rounds_tier_is_refused(seeded, tmp_path):
    county_stage = PROVINCE_FLOW[: PROVINCE_FLOW.index("[[categories.flow]]", 10)]
    text = province_text().replace(county_stage, "", 1)
    box = '[[forms.school.opinions]]\nkey = "county"\ntitle = "县（市、区）教育局意见"\nby = "county"\n'
    assert text.count(box) == 1
    text = text.replace(box, "")
    load_text(text.replace("example-province-call", "example-province-cities"), "p2.toml")
    text = ROUND.format(cap="").replace('issuer = "430400"', 'issuer = "衡阳县"')
    text = text.replace("example-province-call", "example-province-cities")
    (error,) = errors_of(tmp_path, text)
    assert error.field == "categories[1].code" and "没有县级审核" in error.message, error
    assert the_line(text, error) == 'code = "school"'
