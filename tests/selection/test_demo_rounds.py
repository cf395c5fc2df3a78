"""The rounds demo (edupilot.selection.demo_rounds): 洛阳's city round under an invented 河南
call, run to its final list through the services, so that today the site shows a title
admitted outside a county's quota, graded results on a published list, the round's units
passed up as 洛阳市's recommendations (its places all spent), a joint review with one
department's opinion in and one due, and a coverage rule that refuses 开封市's next
recommendation."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from edupilot import demo as site_demo
from edupilot.accounts.models import User
from edupilot.applications.models import Application, AppState
from edupilot.audit.services import Actor
from edupilot.orgs.demo import generate_schools
from edupilot.orgs.models import Membership
from edupilot.orgs.scoping import Scope
from edupilot.programmes.models import Programme
from edupilot.review import services as review
from edupilot.review.models import JointOpinion, ReviewDecision
from edupilot.selection import demo_rounds
from edupilot.selection.models import Announcement, AnnouncementEntry, ApprovalDecision
from tests.conftest import org


def acting(username: str) -> tuple[Scope, Actor]:
    m = Membership.objects.select_related("org", "user").get(user__username=username)
    return Scope.for_membership(m), Actor(user=m.user, org=m.org)


@pytest.fixture
def rounds_demo(seeded):
    # Only Henan's tree, at a twentieth of its schools: enough for 新安、宜阳 and 开封.
    generate_schools(["henan"], scale=0.05, seed=2024)
    accounts = site_demo.create_accounts()
    city_round = demo_rounds.load_demo(actor=Actor.system())
    assert city_round is not None
    return city_round, {a.username for a in accounts}


def test_the_round_ran_to_the_province_with_titles_grades_joint_review_and_coverage(
    client, rounds_demo
):
    city_round, accounts = rounds_demo
    # Dates: the round is over (its period and its stages' windows closed); the province's
    # call opened with it and its city level is still open.
    now = timezone.now()
    assert city_round.closes_at < now and city_round.level_deadline("school", "centre") < now
    parent = Programme.objects.get(code=demo_rounds.PARENT)
    assert parent.opens_at <= city_round.opens_at and parent.level_deadline("school", "city") > now
    assert {"luoyang_admin", "xinan", "yiyang", "luoyang_djg", "henan_czt", "kaifeng"} <= accounts
    assert "school_xinan" in accounts
    apps = list(Application.objects.filter(programme=city_round).order_by("pk"))
    assert len(apps) == 4
    # The titled school of 新安县: recommended outside the county's quota, ranked first.
    titled = apps[1]
    county = ReviewDecision.objects.get(application=titled, step=0, active=True)
    assert (county.rank, county.quota_holder_id) == (1, None)
    own = ReviewDecision.objects.get(application=apps[0], step=0, active=True)
    assert own.quota_holder_id == org("新安县").pk
    grades = dict(
        ApprovalDecision.objects.filter(application__programme=city_round).values_list(
            "application_id", "grade_name"
        )
    )
    assert grades == {apps[0].pk: "优秀", apps[1].pk: "良好", apps[2].pk: "合格", apps[3].pk: ""}
    assert Application.objects.get(pk=apps[3].pk).state == AppState.REJECTED
    ann = Announcement.objects.get(programme=city_round)
    # Published and closed before today: the public never reads a final list dated ahead.
    assert ann.published_at < ann.objection_until < ann.final_published_at < now
    listed = set(
        AnnouncementEntry.objects.filter(announcement=ann).values_list("grade_name", flat=True)
    )
    assert listed == {"优秀", "良好", "合格"}
    public = client.get(reverse("selection_public:detail", args=[ann.pk])).content.decode()
    assert "评审等级" in public and "优秀" in public

    # The province's call: 洛阳's three confirmed units wait at the joint review.
    sent = list(
        Application.objects.filter(
            programme=parent, applicant_org__parent__parent=org("洛阳市")
        ).order_by("pk")
    )
    assert len(sent) == 3
    assert all((a.state, a.current_step) == (AppState.SUBMITTED, 1) for a in sent)
    # 洛阳市's three places at the province are all spent.
    (bucket,) = review.quota_buckets(sent[0], 0)
    state = review.quota_state(sent[0], *bucket)
    assert (state.used, state.limit) == (3, 3)
    # The joint review: the province agreed on one; the finance department has not spoken.
    opinions = list(
        JointOpinion.objects.filter(application__in=sent).values_list(
            "application_id", "org__name", "verdict"
        )
    )
    assert (sent[0].pk, "河南省", "agree") in opinions
    assert {v for _, o, v in opinions if o == "河南省财政厅"} == {""}
    assert sum(1 for *_, v in opinions if v == "agree") == 1

    # The finance department's reviewer finds the three in its queue, and a page of one
    # shows the province's opinion given.
    client.force_login(User.objects.get(username="henan_czt"))
    queue = client.get(reverse("review:queue")).content.decode()
    assert all(a.applicant_org.name in queue for a in sent)
    detail = client.get(reverse("review:detail", args=[sent[0].pk]))
    assert detail.status_code == 200 and "符合省级人工智能教育实验校条件" in detail.content.decode()
    client.logout()

    # 开封市: one school recommended for 人工智能课程建设; the second of the same direction
    # would leave no place for 人工智能辅助教学, and is refused; nothing changes.
    kaifeng = list(
        Application.objects.filter(
            programme=parent, applicant_org__path__startswith=org("开封市").path
        ).order_by("pk")
    )
    assert [a.state for a in kaifeng] == [AppState.SUBMITTED, AppState.SUBMITTED]
    assert ReviewDecision.objects.filter(application=kaifeng[0], active=True).exists()
    scope, actor = acting("kaifeng")
    with pytest.raises(review.ReviewError) as refused:
        review.review_recommend(application=kaifeng[1], scope=scope, actor=actor, opinion="同意")
    assert "须覆盖人工智能课程建设、人工智能辅助教学两个方向" in refused.value.message
    assert not ReviewDecision.objects.filter(application=kaifeng[1]).exists()

    # Loading again does not walk through again.
    before = Application.objects.count()
    assert demo_rounds.load_demo(actor=Actor.system()).pk == city_round.pk
    assert Application.objects.count() == before
