from decimal import Decimal

import pytest
from django.urls import reverse

from edupilot.core.errors import Denied, Refused
from edupilot.orgs.models import Org, OrgKind, Role
from edupilot.pilots import acceptance as acc
from edupilot.pilots.models import PilotState, SubmissionState
from edupilot.selection import experts
from tests.review.conftest import reviewer

from .conftest import in_acceptance, issuer_admin, make_pilot

pytestmark = pytest.mark.django_db


def _pool(programme, boss, org_):
    who = reviewer(org_, Role.EXPERT)
    member = experts.expert_pool_add(
        programme=programme, membership=who.membership, scope=boss.scope, actor=boss.actor
    )
    return who, member


def _other_county(pilot):
    return (
        Org.objects.filter(kind=OrgKind.COUNTY, path__startswith=pilot.programme.issuer.path)
        .exclude(pk=pilot.unit.parent_id)
        .first()
    )


def _panel(programme, pilot, boss, n=2):
    out = []
    for _ in range(n):
        who, member = _pool(programme, boss, _other_county(pilot))
        sub = pilot.submissions.get(kind="acceptance")
        review = acc.acceptance_assign(submission=sub, member=member, scope=boss.scope,
                                       actor=boss.actor)  # fmt: skip
        out.append((who, review))
    return out


def _score(who, review, use, effect, management, submit=True):
    return acc.acceptance_score(
        review=review, scores={"use": use, "effect": effect, "management": management},
        comment="意见", submit=submit, scope=who.scope, actor=who.actor,
    )  # fmt: skip


def test_panel_scores_mean_and_pass_grade(quanzhou):
    pilot, unit = make_pilot(quanzhou)
    sub = in_acceptance(pilot)
    boss = issuer_admin(quanzhou)
    (e1, r1), (e2, r2) = _panel(quanzhou, pilot, boss)
    _score(e1, r1, "38", "36", "18")  # 92
    with pytest.raises(Refused, match="至少 2 位专家"):
        acc.acceptance_decide(submission=sub, grade="excellent", scope=boss.scope, actor=boss.actor)
    with pytest.raises(Refused, match="本次未保存") as err:
        _score(e2, r2, "41", "36", "18")
    assert "0 到 40" in err.value.errors["use"][0]
    with pytest.raises(Refused, match="本人"):
        _score(e1, r2, "30", "30", "10")
    _score(e2, r2, "30", "30", "10")  # 70
    s = acc.acceptance_summary(sub)
    assert s.mean == Decimal("81.00") and s.suggested.key == "pass"
    with pytest.raises(Refused, match="已提交"):
        _score(e1, r1, "1", "1", "1")
    pilot = acc.acceptance_decide(
        submission=sub,
        grade="excellent",
        opinion="综合评定优秀",
        scope=boss.scope,
        actor=boss.actor,
    )
    assert pilot.state == PilotState.ACCEPTED and pilot.grade_name == "优秀" and pilot.closed_at
    sub.refresh_from_db()
    assert sub.state == SubmissionState.ACCEPTED
    with pytest.raises(Refused):
        acc.acceptance_decide(submission=sub, grade="pass", scope=boss.scope, actor=boss.actor)


def test_conflict_of_interest_and_only_issuer(quanzhou):
    pilot, unit = make_pilot(quanzhou)
    sub = in_acceptance(pilot)
    boss = issuer_admin(quanzhou)
    _who, member = _pool(quanzhou, boss, pilot.unit.parent)  # the unit's own county
    with pytest.raises(Refused, match="回避"):
        acc.acceptance_assign(submission=sub, member=member, scope=boss.scope, actor=boss.actor)
    county = reviewer(pilot.unit.parent)
    _who, member = _pool(quanzhou, boss, _other_county(pilot))
    with pytest.raises(Denied, match="发文单位"):
        acc.acceptance_assign(submission=sub, member=member, scope=county.scope,
                              actor=county.actor)  # fmt: skip
    assert not sub.reviews.exists()


def test_another_role_is_answered_403_with_the_reason(quanzhou, client):
    """Issue 11: a refusal about who acts is a 403 page saying why, not a redirect; a refusal
    about the moment (no scores yet) goes back to the pilot page with its message."""
    pilot, _unit = make_pilot(quanzhou)
    sub = in_acceptance(pilot)
    county = reviewer(pilot.unit.parent)
    client.force_login(county.user)
    decide = reverse("pilots:acceptance_decide", args=[sub.pk])
    r = client.post(decide, {"grade": "pass"})
    assert r.status_code == 403 and "项目管理员可以办理" in r.content.decode()
    boss = issuer_admin(quanzhou)
    client.force_login(boss.user)
    r = client.post(decide, {"grade": "pass"}, follow=True)
    assert r.redirect_chain and "位专家提交评分后才能评定" in r.content.decode()
    sub.refresh_from_db()
    assert sub.state == SubmissionState.SUBMITTED


def test_fail_closes_visibly(quanzhou):
    pilot, _unit = make_pilot(quanzhou)
    sub = in_acceptance(pilot)
    boss = issuer_admin(quanzhou)
    for who, review in _panel(quanzhou, pilot, boss):
        _score(who, review, "10", "10", "5")
    with pytest.raises(Refused, match="验收等级"):
        acc.acceptance_decide(submission=sub, grade="nope", scope=boss.scope, actor=boss.actor)
    pilot = acc.acceptance_decide(submission=sub, grade="fail", scope=boss.scope, actor=boss.actor)
    assert pilot.state == PilotState.FAILED and pilot.closed_at and pilot.is_closed


def test_rectify_returns_the_submission(zhejiang):
    pilot, _unit = make_pilot(zhejiang, "k12", unit_type="school")
    stage = pilot.spec.stage_of("acceptance")
    rectify = next(g for g in stage.grades if g.result == "rectify")
    sub = in_acceptance(pilot)
    boss = issuer_admin(zhejiang)
    for who, review in _panel(zhejiang, pilot, boss, n=stage.min_scores):
        acc.acceptance_score(
            review=review, scores={c.key: str(c.max / 2) for c in stage.criteria},
            comment="需整改", submit=True, scope=who.scope, actor=who.actor,
        )  # fmt: skip
    pilot = acc.acceptance_decide(
        submission=sub, grade=rectify.key, scope=boss.scope, actor=boss.actor
    )
    assert pilot.state == PilotState.RECTIFYING and pilot.closed_at is None
    sub.refresh_from_db()
    assert sub.state == SubmissionState.RETURNED and sub.due_at
    assert not sub.reviews.filter(is_active=True).exists()  # the next round is scored anew


def test_a_trimmed_mean_drops_the_highest_and_lowest_when_the_file_says_so(quanzhou):
    from edupilot.pilots.acceptance import acceptance_summary
    from edupilot.selection.scoring import aggregate

    pilot, unit = make_pilot(quanzhou)
    sub = in_acceptance(pilot)
    boss = issuer_admin(quanzhou)
    panel = _panel(quanzhou, pilot, boss, n=3)
    for (who, review), s in zip(panel, (("40", "40", "20"), ("30", "30", "10"), ("10", "10", "5")),
                                strict=True):  # fmt: skip
        _score(who, review, *s)  # totals 100, 70, 25
    assert acceptance_summary(sub).mean == Decimal("65.00")  # the file's default: the mean
    stage = pilot.spec.stage_of("acceptance")
    trimmed = stage.model_copy(update={"aggregate": "trimmed_mean", "trim": 1})
    assert aggregate(trimmed, [Decimal(100), Decimal(70), Decimal(25)]) == Decimal("70.00")
    assert aggregate(trimmed, [Decimal(100), Decimal(25)]) == Decimal("62.50")  # too few: mean
