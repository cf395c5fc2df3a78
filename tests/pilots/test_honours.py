import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from edupilot.core.errors import Refused
from edupilot.pilots import honours as hon
from edupilot.pilots import pages_stages
from edupilot.pilots.models import Award, AwardBudget, HonourState, PilotState

from .conftest import issuer_admin, make_pilot

pytestmark = pytest.mark.django_db


def accepted(programme, grade_key, **kw):
    pilot, unit = make_pilot(programme, **kw)
    g = pilot.spec.stage_of("acceptance").grade(grade_key)
    pilot.state, pilot.grade, pilot.grade_name = PilotState.ACCEPTED, g.key, g.name
    pilot.save()
    return pilot, unit


def test_titles_propose_announce_withdraw_finalize(henan, client):
    boss = issuer_admin(henan)
    good, _ = accepted(henan, "excellent")
    other, _ = accepted(henan, "excellent")
    plain, _ = accepted(henan, "pass")
    h = hon.honour_propose(pilot=good, stage="titles", title="demo_school", scope=boss.scope,
                           actor=boss.actor)  # fmt: skip
    h2 = hon.honour_propose(pilot=other, stage="titles", title="demo_school", scope=boss.scope,
                            actor=boss.actor)  # fmt: skip
    with pytest.raises(Refused, match="须验收等级为优秀"):
        hon.honour_propose(pilot=plain, stage="titles", title="demo_school", scope=boss.scope,
                           actor=boss.actor)  # fmt: skip
    with pytest.raises(Refused, match="已有"):
        hon.honour_propose(pilot=good, stage="titles", title="demo_school", scope=boss.scope,
                           actor=boss.actor)  # fmt: skip
    now = timezone.now()
    assert hon.honours_announce(programme=henan, stage="titles", scope=boss.scope,
                                actor=boss.actor, now=now) == 2  # fmt: skip
    h.refresh_from_db()
    assert h.state == HonourState.ANNOUNCED and h.objection_until > now + dt.timedelta(days=4)
    with pytest.raises(Refused, match="期满后"):
        hon.honours_finalize(programme=henan, stage="titles", scope=boss.scope, actor=boss.actor,
                             now=now)  # fmt: skip
    hon.honour_withdraw(honour=h2, reason="异议成立：材料不实", scope=boss.scope, actor=boss.actor)
    assert hon.honours_finalize(now=now + dt.timedelta(days=10)) == 1  # the periodic task
    h.refresh_from_db()
    assert h.state == HonourState.FINAL
    page = client.get("/public/pilots/")
    text = page.content.decode()
    assert page.status_code == 200 and good.unit.name in text and other.unit.name not in text


def test_awards_by_grade_within_budget(quanzhou):
    boss = issuer_admin(quanzhou)
    AwardBudget.objects.create(programme=quanzhou, stage="awards", budget=Decimal("250000"))
    pilots = [accepted(quanzhou, "excellent")[0] for _ in range(3)]
    plain, _ = accepted(quanzhou, "pass")
    with pytest.raises(Refused, match="没有以奖代补"):
        hon.award_grant(pilot=plain, stage="awards", scope=boss.scope, actor=boss.actor)
    for p in pilots[:2]:
        hon.award_grant(pilot=p, stage="awards", scope=boss.scope, actor=boss.actor)
    with pytest.raises(Refused, match="已获"):
        hon.award_grant(pilot=pilots[0], stage="awards", scope=boss.scope, actor=boss.actor)
    with pytest.raises(Refused, match="预算余额 50,000.00 元"):
        hon.award_grant(pilot=pilots[2], stage="awards", scope=boss.scope, actor=boss.actor)
    assert AwardBudget.objects.get().granted == Decimal("200000")
    assert Award.objects.count() == 2
    page = pages_stages.awards_page(boss.scope, quanzhou)
    assert page["stages"][0]["remaining"] == Decimal("50000")


def test_only_accepted_pilots_and_the_issuer(quanzhou):
    boss = issuer_admin(quanzhou)
    pilot, unit = make_pilot(quanzhou)
    with pytest.raises(Refused, match="通过验收"):
        hon.award_grant(pilot=pilot, stage="awards", scope=boss.scope, actor=boss.actor)
    good, _ = accepted(quanzhou, "excellent")
    with pytest.raises(Refused, match="发文单位"):
        hon.award_grant(pilot=good, stage="awards", scope=unit.scope, actor=unit.actor)


def test_pages_render(quanzhou, client):
    boss = issuer_admin(quanzhou)
    good, _ = accepted(quanzhou, "excellent")
    hon.award_grant(pilot=good, stage="awards", scope=boss.scope, actor=boss.actor)
    client.force_login(boss.user)
    r = client.get(f"/pilots/{good.pk}/")
    assert r.status_code == 200 and "以奖代补" in r.content.decode()
    r = client.get(f"/pilots/programmes/{quanzhou.pk}/honours/")
    assert r.status_code == 200 and good.unit.name in r.content.decode()
    r = client.get(f"/pilots/programmes/{quanzhou.pk}/awards.xlsx")
    assert r.status_code == 200 and b"".join(r.streaming_content)[:2] == b"PK"
    active, _ = make_pilot(quanzhou)
    r = client.get(f"/pilots/{active.pk}/inspections/new/")
    assert r.status_code == 200
    r = client.post(f"/pilots/{active.pk}/inspections/new/", {"mode": "site", "team": "张三"})
    assert r.status_code == 400 and "请填写检查日期" in r.content.decode()
    assert "张三" in r.content.decode()


def test_accepted_cases_are_public_and_drafts_are_not(zhejiang, client):
    from edupilot.pilots.models import Submission, SubmissionState

    published, _ = make_pilot(zhejiang, "k12", unit_type="school")
    draft, _ = make_pilot(zhejiang, "k12", unit_type="school")
    stage = published.spec.stage_of("cases")
    texts = {
        f.key: "以数据驱动课堂改进的做法" for f in stage.fields if f.type in ("text", "longtext")
    }
    for pilot, state in ((published, SubmissionState.ACCEPTED), (draft, SubmissionState.SUBMITTED)):
        Submission.objects.create(pilot=pilot, stage=stage.key, kind="cases", state=state,
                                  data={**texts, "summary": "以数据驱动课堂改进的做法"})  # fmt: skip
    text = client.get("/public/pilots/").content.decode()
    assert published.unit.name in text and "以数据驱动课堂改进的做法" in text
    assert draft.unit.name not in text
    # The portal's search finds the accepted case by its unit and by its programme.
    for q in (published.unit.name, published.programme.title):
        text = client.get("/public/", {"q": q}).content.decode()
        assert f"{published.unit.name}：典型案例" in text
        assert draft.unit.name not in text


def test_the_issuer_sees_the_title_form_and_the_unit_does_not(henan, client):
    boss = issuer_admin(henan)
    good, unit = accepted(henan, "excellent")
    client.force_login(boss.user)
    text = client.get(f"/pilots/{good.pk}/").content.decode()
    assert "示范学校" in text and f"/pilots/programmes/{henan.pk}/honours/" in text
    client.force_login(unit.user)
    text = client.get(f"/pilots/{good.pk}/").content.decode()
    assert f"/pilots/programmes/{henan.pk}/honours/" not in text


def test_award_decision_pdf_lists_the_awards_for_the_issuer_only(quanzhou, client):
    from tests.documents.test_notice_support import pdf_text, squeeze

    boss = issuer_admin(quanzhou)
    good, _ = accepted(quanzhou, "excellent")
    hon.award_grant(pilot=good, stage="awards", scope=boss.scope, actor=boss.actor)
    url = f"/documents/pilots/programmes/{quanzhou.pk}/awards/awards.pdf"
    client.force_login(boss.user)
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    text = squeeze(pdf_text(b"".join(r.streaming_content) if r.streaming else r.content))
    assert squeeze(good.unit.name) in text and "以奖代补" in text and "100000.00" in text
    assert "智慧校园建设专项资金" in text  # the file's fund
    assert client.get(url.replace("/awards.pdf", "/nope.pdf")).status_code == 404
    _, unit = make_pilot(quanzhou)
    client.force_login(unit.user)  # not the issuer's admin
    assert client.get(url).status_code == 404


def test_objections_hold_a_title_until_resolved_and_an_upheld_one_withdraws_it(henan, client):
    from edupilot.pilots import honour_objections as obj
    from edupilot.pilots.models import HonourObjection, HonourObjectionState

    boss = issuer_admin(henan)
    good, unit = accepted(henan, "excellent")
    other, _ = accepted(henan, "excellent")
    h = hon.honour_propose(pilot=good, stage="titles", title="demo_school", scope=boss.scope,
                           actor=boss.actor)  # fmt: skip
    h2 = hon.honour_propose(pilot=other, stage="titles", title="demo_school", scope=boss.scope,
                            actor=boss.actor)  # fmt: skip
    with pytest.raises(Refused, match="公示中"):  # not on 公示 yet
        obj.honour_objection_record(honour=h, text="x", scope=boss.scope, actor=boss.actor)
    now = timezone.now()
    hon.honours_announce(programme=henan, stage="titles", scope=boss.scope, actor=boss.actor,
                         now=now)  # fmt: skip
    h.refresh_from_db()
    with pytest.raises(Refused, match="发文单位"):  # only the issuer records them
        obj.honour_objection_record(honour=h, text="x", scope=unit.scope, actor=unit.actor)
    with pytest.raises(Refused, match="异议内容"):
        obj.honour_objection_record(honour=h, text="  ", scope=boss.scope, actor=boss.actor)
    o1 = obj.honour_objection_record(honour=h, text="反映该校平台使用率不实。",
                                     contact="13800138000", scope=boss.scope, actor=boss.actor)  # fmt: skip
    h2.refresh_from_db()
    o2 = obj.honour_objection_record(honour=h2, text="材料造假。", scope=boss.scope,
                                     actor=boss.actor)  # fmt: skip
    later = now + dt.timedelta(days=10)
    # While an objection is open the title waits: the issuer is told, the task skips it.
    with pytest.raises(Refused, match="还有异议未处理"):
        hon.honours_finalize(programme=henan, stage="titles", scope=boss.scope, actor=boss.actor,
                             now=later)  # fmt: skip
    assert hon.honours_finalize(now=later) == 0
    with pytest.raises(Refused, match="处理意见"):
        obj.honour_objection_resolve(objection=o1, upheld=False, resolution="", scope=boss.scope,
                                     actor=boss.actor)  # fmt: skip
    obj.honour_objection_resolve(objection=o1, upheld=False, resolution="经核实，反映不实。",
                                 scope=boss.scope, actor=boss.actor)  # fmt: skip
    obj.honour_objection_resolve(objection=o2, upheld=True, resolution="经核实，材料不实。",
                                 scope=boss.scope, actor=boss.actor)  # fmt: skip
    with pytest.raises(Refused, match="已处理"):
        obj.honour_objection_resolve(objection=o2, upheld=False, resolution="再议",
                                     scope=boss.scope, actor=boss.actor)  # fmt: skip
    h2.refresh_from_db()
    assert h2.state == HonourState.WITHDRAWN
    assert hon.honours_finalize(now=later) == 1
    h.refresh_from_db()
    assert h.state == HonourState.FINAL
    states = dict(HonourObjection.objects.values_list("pk", "state"))
    assert states == {o1.pk: HonourObjectionState.DISMISSED, o2.pk: HonourObjectionState.UPHELD}
    # The issuer's page lists them; the public page never shows an objection or its contact.
    client.force_login(boss.user)
    page = client.get(f"/pilots/programmes/{henan.pk}/honours/").content.decode()
    assert "经核实，反映不实。" in page and "异议成立" in page
    public = client.get("/public/pilots/").content.decode()
    assert "13800138000" not in public and "反映该校" not in public


@pytest.mark.parametrize(
    "state, kind, allowed",
    [
        ("accepted", "cases", True),  # the case of a pilot that passed: what it is a case of
        ("failed", "cases", False),
        ("accepted", "plan", False),  # nothing else once closed
    ],
)
def test_a_passed_pilot_still_hands_in_its_typical_case(zhejiang, state, kind, allowed):
    from edupilot.core.errors import Refused
    from edupilot.pilots import services
    from edupilot.pilots.models import Submission

    pilot, unit = make_pilot(zhejiang, "k12", unit_type="school")
    pilot.state = state
    pilot.save(update_fields=["state"])
    stage = next(s for s in zhejiang.parsed.pilot.stages if s.kind == kind)
    post = {
        f"f-{f.key}": "以数据驱动课堂改进的做法" for f in services.stage_form(stage).all_fields()
    }
    period = ""
    if allowed:
        sub, _ = services.submission_save(
            pilot=pilot, stage_key=stage.key, period=period, post=post, scope=unit.scope,
            actor=unit.actor,
        )  # fmt: skip
        services.submission_submit(submission=sub, scope=unit.scope, actor=unit.actor)
        assert Submission.objects.get(pk=sub.pk).state == "submitted"
    else:
        with pytest.raises(Refused, match="试点已结束"):
            services.submission_save(
                pilot=pilot, stage_key=stage.key, period=period, post=post, scope=unit.scope,
                actor=unit.actor,
            )  # fmt: skip
        assert not Submission.objects.filter(pilot=pilot).exists()
