"""Several issuers and a stage decided jointly (``[[co_issuers]]``, ``kind = "joint_review"``).

The city's education bureau and its finance bureau issue the notice together; after the
county's recommendation both review each application: each records its opinion, the stage
completes when the file's ``complete_when`` says, and ends as not recommended as soon as
agreement is out of reach. Every test tries to break the rule: a second opinion from the
same org, a bulk recommendation, a withdrawal under the orgs' feet, a file that asks for
more agreements than orgs.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from edupilot.applications.models import AppState
from edupilot.orgs.models import Role
from edupilot.programmes import loader
from edupilot.review import queue as review_queue
from edupilot.review import services as review
from edupilot.review.models import JointOpinion, ReviewAction
from edupilot.review.services import ReviewDenied, ReviewError
from tests.applications.conftest import Who
from tests.conftest import make_school, org
from tests.programme_files import EXAMPLE, hengyang_units, load_text
from tests.review.conftest import submit_as

CO_ISSUERS = """
[[co_issuers]]
name = "衡阳市财政局"
org = "430400-czj"

[period]"""

JOINT = """[[categories.flow]]
kind = "joint_review"
key = "joint"
name = "市教育局、市财政局联合审核"
orgs = ["430400", "430400-czj"]
complete_when = {when}
days_after = 10
"""


def programme_text(when: str = '"all"', orgs: str = '["430400", "430400-czj"]') -> str:
    text = EXAMPLE.replace("\n[period]", CO_ISSUERS, 1)
    start = text.index('[[categories.flow]]\nkind = "tier_review"\nkey = "city"')
    end = text.index("[[categories.flow]]", start + 10)
    joint = JOINT.format(when=when).replace('["430400", "430400-czj"]', orgs)
    return text[:start] + joint + "\n" + text[end:]


def load(when: str = '"all"', orgs: str = '["430400", "430400-czj"]'):
    return load_text(programme_text(when, orgs), "joint.toml")


@pytest.fixture
def bureaus(seeded):
    hengyang_units()
    return org("430400"), org("430400-czj"), org("430400-gxj")


def at_joint_step(programme):
    """A school's application recommended by its county: now at the joint step."""
    county = org("衡阳县")
    school = Who(make_school(county, stages=",primary,"))
    app = submit_as(school, programme, "school", classrooms="3")
    county_rev = Who(county, Role.REVIEWER)
    review.review_recommend(
        application=app, scope=county_rev.scope, actor=county_rev.actor, opinion="同意推荐"
    )
    app.refresh_from_db()
    return app, school, county_rev


def say(app, who: Who, action: str, text: str = "同意"):
    if action == "recommend":
        result = review.review_recommend(
            application=app, scope=who.scope, actor=who.actor, opinion=text
        )
    elif action == "not_recommend":
        result = review.review_not_recommend(
            application=app, scope=who.scope, actor=who.actor, reason=text
        )
    else:
        result = review.review_return(
            application=app, scope=who.scope, actor=who.actor, reasons=text
        )
    app.refresh_from_db()
    return result


def test_all_must_agree_each_once_and_the_step_completes_in_the_lead_orgs_name(bureaus):
    city, finance, other = bureaus
    programme = load()
    app, school, county_rev = at_joint_step(programme)
    step = app.chain[1]
    assert (step["kind"], step["org"], step["orgs"], step["needed"]) == (
        "joint_review",
        city.pk,
        [city.pk, finance.pk],
        2,
    )
    assert app.chain[2]["kind"] == "approval", "a joint step never decides by itself"
    city_rev, finance_rev = Who(city, Role.REVIEWER), Who(finance, Role.REVIEWER)
    stranger = Who(other, Role.REVIEWER)

    # Both orgs find it in their queue; an office that is not named does not.
    for who in (city_rev, finance_rev):
        queue = review_queue.review_queue(who.scope, review_queue.QueueFilters())
        assert app.pk in [r["pk"] for r in queue.rows], who.org.name
    with pytest.raises(ReviewDenied):
        say(app, stranger, "recommend")

    # The county cannot pull its recommendation back once an org of the joint step spoke.
    say(app, finance_rev, "recommend", "资金安排可行")
    (county_decision,) = review.level_recommendations(review._level_key(app, 0))
    ok, why = review.can_withdraw_recommendation(county_rev.scope, county_decision)
    assert not ok and "联合审核单位已发表意见" in why

    # One org, one opinion: a second one (agree or disagree) is refused, nothing moves.
    with pytest.raises(ReviewError, match="已对本申报发表意见"):
        say(app, finance_rev, "recommend")
    with pytest.raises(ReviewError, match="已对本申报发表意见"):
        say(app, finance_rev, "not_recommend", "改变主意")
    assert (app.state, app.current_step) == (AppState.SUBMITTED, 1)
    # The finance bureau has spoken: its queue no longer lists it; the city's still does.
    queue = review_queue.review_queue(finance_rev.scope, review_queue.QueueFilters())
    assert app.pk not in [r["pk"] for r in queue.rows]
    passed = review_queue.review_queue(finance_rev.scope, review_queue.QueueFilters(state="passed"))
    assert app.pk in [r["pk"] for r in passed.rows], "本级已推荐 lists what the bureau agreed to"

    decision = say(app, city_rev, "recommend", "符合条件")
    assert (app.state, app.current_step, app.current_org_id) == (
        AppState.RECOMMENDED,
        2,
        city.pk,
    )
    assert decision.org_id == city.pk and decision.action == ReviewAction.RECOMMEND
    # Every org's opinion, in the file's order: the stage's opinion box on the paper form.
    assert decision.opinion == "衡阳市：同意。符合条件；衡阳市财政局：同意。资金安排可行"
    ok, why = review.can_withdraw_recommendation(city_rev.scope, decision)
    assert not ok


def test_one_disagreement_ends_an_all_stage_as_not_recommended(bureaus):
    city, finance, _ = bureaus
    app, *_ = at_joint_step(load())
    say(app, Who(city, Role.REVIEWER), "recommend", "同意")
    decision = say(app, Who(finance, Role.REVIEWER), "not_recommend", "预算不足")
    assert app.state == AppState.NOT_RECOMMENDED
    assert decision.action == ReviewAction.NOT_RECOMMEND and "预算不足" in decision.reasons


def test_any_completes_with_the_first_agreement(bureaus):
    city, finance, _ = bureaus
    app, *_ = at_joint_step(load('"any"'))
    say(app, Who(finance, Role.REVIEWER), "not_recommend", "不同意")
    assert (app.state, app.current_step) == (AppState.SUBMITTED, 1), "one no is not the end"
    say(app, Who(city, Role.REVIEWER), "recommend", "同意")
    assert app.state == AppState.RECOMMENDED


def test_two_of_three_and_bulk_is_refused(bureaus):
    city, finance, it = bureaus
    programme = load("2", '["430400", "430400-czj", "430400-gxj"]')
    app, *_ = at_joint_step(programme)
    city_rev = Who(city, Role.REVIEWER)
    with pytest.raises(ReviewError, match="不能批量推荐"):
        other, *_ = at_joint_step(programme)
        review.review_recommend_bulk(
            applications=[app, other], scope=city_rev.scope, actor=city_rev.actor, opinion="同意"
        )
    say(app, city_rev, "recommend")
    say(app, Who(it, Role.REVIEWER), "not_recommend", "不同意")
    assert app.state == AppState.SUBMITTED
    say(app, Who(finance, Role.REVIEWER), "recommend")
    assert app.state == AppState.RECOMMENDED
    assert JointOpinion.objects.filter(application=app).exclude(verdict="").count() == 3


def test_any_org_may_send_it_back_and_a_resubmission_opens_fresh_opinions(bureaus):
    city, finance, _ = bureaus
    app, school, county_rev = at_joint_step(load())
    say(app, Who(city, Role.REVIEWER), "recommend")
    say(app, Who(finance, Role.REVIEWER), "return", "请补充资金预算表")
    assert app.state == AppState.RETURNED
    assert JointOpinion.objects.get(application=app, org=finance).verdict == "return"


def test_programme_show_and_pages_name_every_issuer_and_the_joint_rule(bureaus, client):
    load()
    out = io.StringIO()
    call_command("programme", "show", "example-smart-classroom", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["issuers"] == ["衡阳市教育局", "衡阳市财政局"]
    joint = next(s for s in data["categories"][0]["stages"] if s["kind"] == "joint_review")
    assert joint["orgs"] == ["衡阳市", "衡阳市财政局"]
    assert joint["completes"] == "2 个单位全部同意后通过"
    assert joint["actor_org"] == "衡阳市、衡阳市财政局"
    out = io.StringIO()
    call_command("programme", "show", "example-smart-classroom", stdout=out)
    text = out.getvalue()
    assert "发文单位：衡阳市教育局、衡阳市财政局" in text
    assert "联合审核：2 个单位全部同意后通过" in text
    page = client.get("/public/calls/example-smart-classroom/")
    assert "衡阳市教育局、衡阳市财政局" in page.content.decode()


# --- what the loader refuses, at its line --------------------------------------------------------


def errors_of(tmp_path, text: str):
    path = tmp_path / "joint.toml"
    path.write_text(text, encoding="utf-8")
    return loader.validate(path)[1]


def the_line(text: str, error) -> str:
    assert error.line is not None, error
    return text.splitlines()[error.line - 1].strip()


@pytest.mark.parametrize(
    "when, orgs, field, message",
    [
        ("3", '["430400", "430400-czj"]', "complete_when", "须在 1 到联合审核单位数（2）之间"),
        ("0", '["430400", "430400-czj"]', "complete_when", "须在 1 到联合审核单位数"),
        ('"most"', '["430400", "430400-czj"]', "complete_when", '须为 "all"（全部同意）'),
        ("true", '["430400", "430400-czj"]', "complete_when", ""),
        ('"all"', '["430400", "430400"]', "orgs", "联合审核单位重复"),
        ('"all"', '["430400"]', "orgs", "至少需要 2 项"),
        ('"all"', '["430400", "衡阳市审计局"]', "orgs", "机构“衡阳市审计局”不存在"),
    ],
)
def test_a_joint_stage_the_engine_cannot_run_is_refused_at_its_line(
    bureaus, tmp_path, when, orgs, field, message
):
    text = programme_text(when, orgs)
    errors = errors_of(tmp_path, text)
    assert len(errors) == 1, [str(e) for e in errors]
    assert errors[0].field.endswith(field) or field in errors[0].field, errors[0]
    assert message in errors[0].message
    assert the_line(text, errors[0]).startswith(field)


def test_co_issuers_are_checked_at_their_line(bureaus, tmp_path):
    text = programme_text().replace('org = "430400-czj"\n', 'org = "430400-cz"\n', 1)
    (error,) = errors_of(tmp_path, text)
    assert error.field == "co_issuers[1].org" and the_line(text, error) == 'org = "430400-cz"'
    text = programme_text().replace('name = "衡阳市财政局"', 'name = "衡阳市教育局"', 1)
    (error,) = errors_of(tmp_path, text)
    assert error.field == "co_issuers[1].name" and "重复" in error.message
    assert the_line(text, error) == 'name = "衡阳市教育局"'


def test_the_detail_page_shows_each_orgs_opinion_and_the_finance_bureau_reaches_it(bureaus, client):
    from django.urls import reverse

    city, finance, other = bureaus
    app, *_ = at_joint_step(load())
    fin = Who(finance, Role.REVIEWER)
    say(app, fin, "recommend", "资金安排可行")
    client.force_login(fin.user)
    page = client.get(reverse("review:detail", args=[app.pk])).content.decode()
    assert "衡阳市财政局：同意（资金安排可行）" in page and "待发表意见" in page
    client.force_login(Who(other, Role.REVIEWER).user)
    assert client.get(reverse("review:detail", args=[app.pk])).status_code == 404


def test_every_org_of_the_joint_step_is_told_when_an_application_arrives(bureaus):
    from edupilot.core.models import Notification

    city, finance, other = bureaus
    fin, stranger = Who(finance, Role.REVIEWER), Who(other, Role.REVIEWER)
    at_joint_step(load())
    assert Notification.objects.filter(recipient=fin.user, event="review.recommended").exists()
    assert not Notification.objects.filter(recipient=stranger.user).exists()


def test_the_announcement_and_its_pdf_name_both_issuers(bureaus, client):
    from edupilot.documents.announcements import announcement_pdf
    from edupilot.selection import announcements, approval
    from tests.documents.test_notice_support import pdf_text, squeeze

    city, finance, _ = bureaus
    programme = load('"any"')
    app, *_ = at_joint_step(programme)
    say(app, Who(finance, Role.REVIEWER), "recommend", "同意")
    admin = Who(city, Role.PROGRAMME_ADMIN)
    approval.selection_approve(
        application=app, opinion="同意", scope=admin.scope, actor=admin.actor
    )
    ann = announcements.announcement_publish(
        programme=programme, scope=admin.scope, actor=admin.actor
    )
    data, _ = announcement_pdf(ann.pk)
    text = squeeze(pdf_text(data))
    assert "衡阳市教育局" in text and "衡阳市财政局" in text
    from django.urls import reverse

    page = client.get(reverse("selection_public:detail", args=[ann.pk])).content.decode()
    assert "衡阳市教育局、衡阳市财政局" in page
