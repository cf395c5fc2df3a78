"""Experts: pool, conflict of interest, balanced assignment, scoring, privacy, aggregation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from edupilot.applications.models import Application, AppState
from edupilot.orgs.models import Locality, Role
from edupilot.programmes import schema
from edupilot.selection import experts, scoring, selectors
from edupilot.selection.errors import SelectionError
from edupilot.selection.models import ExpertAssignment, ExpertGroupOpinion, ExpertScore
from tests.conftest import make_school, org

from .test_experts_support import (
    henan_school,
    load_henan,
    recommended,
    submit_school,
    to_issuer,
    unit,
    who,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def henan(programmes):
    return load_henan()


@pytest.fixture
def issuer(henan):
    return who("410000", Role.PROGRAMME_ADMIN)


def pool_add(issuer, programme, w):
    membership = w.user.memberships.get(role=Role.EXPERT)
    return experts.expert_pool_add(
        programme=programme, membership=membership, scope=issuer.scope, actor=issuer.actor
    )


def score(w, assignment, values, comment="方案可行，保障有力。", submit=True):
    return scoring.expert_scores_save(
        assignment=assignment,
        scores={k: str(v) for k, v in values.items()},
        comment=comment,
        submit=submit,
        scope=w.scope,
        actor=w.actor,
    )


# --- pool ------------------------------------------------------------------------------------


def test_only_expert_memberships_join_the_pool_and_only_the_issuer_builds_it(henan, issuer):
    reviewer = who("郑州市", Role.REVIEWER)
    with pytest.raises(SelectionError, match="评审专家"):
        experts.expert_pool_add(
            programme=henan,
            membership=reviewer.membership,
            scope=issuer.scope,
            actor=issuer.actor,
        )
    e = who(unit("410000", "河南大学"), Role.EXPERT)
    city_admin = who("郑州市", Role.PROGRAMME_ADMIN)
    with pytest.raises(SelectionError, match="发文单位"):
        experts.expert_pool_add(
            programme=henan, membership=e.membership, scope=city_admin.scope, actor=city_admin.actor
        )
    member = pool_add(issuer, henan, e)
    assert member.org == e.org and member.is_active
    with pytest.raises(SelectionError, match="已在专家库中"):
        pool_add(issuer, henan, e)
    # Candidates: expert memberships in the issuer's subtree, not the pool's own.
    other = who(unit("410000", "郑州大学"), Role.EXPERT)
    zhejiang_expert = who(unit("330000", "浙江大学"), Role.EXPERT)
    candidates = set(selectors.expert_candidates(issuer.scope, henan))
    assert other.membership in candidates
    assert e.membership not in candidates
    assert zhejiang_expert.membership not in candidates  # outside: added by user name only
    assert (
        selectors.find_expert_membership(zhejiang_expert.user.username)
        == zhejiang_expert.membership
    )


# --- conflict of interest --------------------------------------------------------------------


def test_conflict_of_interest_from_the_org_tree(henan, issuer):
    app = henan_school(henan, parent="金水区")
    school = app.applicant_org
    own_school = who(school, Role.EXPERT)  # the applicant itself
    county = who("金水区", Role.EXPERT)  # an ancestor
    city = who("郑州市", Role.EXPERT)  # an ancestor
    neighbour = who("二七区", Role.EXPERT)  # a sibling county: no conflict
    outside = who(unit("410000", "河南师范大学"), Role.EXPERT)
    members = {
        w: pool_add(issuer, henan, w) for w in (own_school, county, city, neighbour, outside)
    }
    for w in (own_school, county, city):
        with pytest.raises(SelectionError, match="须回避"):
            experts.expert_assign(
                application=app, member=members[w], scope=issuer.scope, actor=issuer.actor
            )
    for w in (neighbour, outside):
        experts.expert_assign(
            application=app, member=members[w], scope=issuer.scope, actor=issuer.actor
        )
    assert set(app.expert_assignments.values_list("expert_id", flat=True)) == {
        neighbour.user.pk,
        outside.user.pk,
    }


def test_a_user_belonging_to_the_applicant_under_another_role_is_in_conflict(henan, issuer):
    app = henan_school(henan)
    e = who(unit("410000", "河南理工大学"), Role.EXPERT)
    # The same person also holds an applicant account at the school: still its own subtree.
    from edupilot.orgs.models import Membership

    Membership.objects.create(user=e.user, org=app.applicant_org, role=Role.APPLICANT)
    member = pool_add(issuer, henan, e)
    with pytest.raises(SelectionError, match="须回避"):
        experts.expert_assign(
            application=app, member=member, scope=issuer.scope, actor=issuer.actor
        )


def test_region_bid_member_school_expert_is_in_conflict(henan, issuer):
    county = org("中牟县")
    region_app = recommended(henan, "region", county)
    school = make_school(county, locality=Locality.RURAL)
    inside = who(school, Role.EXPERT)  # in the applicant's subtree
    member = pool_add(issuer, henan, inside)
    assert "下属单位" in experts.conflict_reason(inside.user.pk, county)
    with pytest.raises(SelectionError, match="下属单位"):
        experts.expert_assign(
            application=region_app, member=member, scope=issuer.scope, actor=issuer.actor
        )


# --- automatic assignment --------------------------------------------------------------------


def test_auto_assign_is_balanced_conflict_free_and_deterministic(henan, issuer):
    apps = [henan_school(henan, parent=p) for p in ("金水区", "二七区", "金水区", "中原区")]
    apps.append(recommended(henan, "school", make_school(org("洛阳市"), stages=",primary,")))
    pool = [who(unit("410000", f"大学{i}"), Role.EXPERT) for i in range(4)]
    pool.append(who("金水区", Role.EXPERT))  # conflicts with the two 金水区 schools
    for w in pool:
        pool_add(issuer, henan, w)
    result = experts.experts_auto_assign(programme=henan, scope=issuer.scope, actor=issuer.actor)
    assert not result.short
    assert len(result.created) == 5 * 3
    loads = {}
    for a in ExpertAssignment.objects.filter(is_active=True).select_related(
        "application__applicant_org"
    ):
        loads[a.expert_id] = loads.get(a.expert_id, 0) + 1
        # Never an expert from the applicant's tree.
        paths = experts.conflict_paths([a.expert_id])[a.expert_id]
        assert experts.paths_conflict(paths, a.application.applicant_org.path) is None
    assert max(loads.values()) - min(loads.values()) <= 1
    for app in apps:
        assert app.expert_assignments.filter(is_active=True).count() == 3
    # Running again changes nothing: every application already has its three.
    again = experts.experts_auto_assign(programme=henan, scope=issuer.scope, actor=issuer.actor)
    assert again.created == [] and again.short == []


def test_auto_assign_reports_applications_short_of_eligible_experts(henan, issuer):
    app = henan_school(henan, parent="金水区")
    pool_add(issuer, henan, who(unit("410000", "唯一大学"), Role.EXPERT))
    pool_add(issuer, henan, who("郑州市", Role.EXPERT))  # conflicts
    result = experts.experts_auto_assign(programme=henan, scope=issuer.scope, actor=issuer.actor)
    assert [(a.pk, have, want) for a, have, want in result.short] == [(app.pk, 1, 3)]


def test_plan_is_deterministic_and_stable():
    apps = [experts.PlanApp(i, f"41/4101/{i}/", frozenset(), 0) for i in range(1, 7)]
    pool = [experts.PlanExpert(i, 100 + i, (f"41/U{i}/",)) for i in range(1, 5)]
    a = experts.plan_assignments(apps, pool, 2, {})
    b = experts.plan_assignments(list(reversed(apps)), list(reversed(pool)), 2, {})
    assert a.picks == b.picks
    assert a.picks[1] == [1, 2] and a.picks[2] == [3, 4]


@settings(max_examples=60, deadline=None)
@given(
    n_apps=st.integers(1, 12),
    n_experts=st.integers(1, 8),
    per_app=st.integers(1, 4),
    conflicts=st.sets(st.tuples(st.integers(0, 11), st.integers(0, 7)), max_size=20),
)
def test_plan_never_conflicts_and_balances(n_apps, n_experts, per_app, conflicts):
    # Expert e conflicts with app a when (a, e) is drawn: give e a path that is a's ancestor.
    apps = [experts.PlanApp(a, f"41/C{a}/S{a}/", frozenset(), 0) for a in range(n_apps)]
    pool = [
        experts.PlanExpert(
            e,
            1000 + e,
            tuple(f"41/C{a}/" for a in range(n_apps) if (a, e) in conflicts) or (f"99/E{e}/",),
        )
        for e in range(n_experts)
    ]
    plan = experts.plan_assignments(apps, pool, per_app, {})
    by_id = {e.id: e for e in pool}
    load = dict.fromkeys(by_id, 0)
    for app in apps:
        picks = plan.picks.get(app.id, [])
        assert len(picks) == len(set(picks)) <= per_app
        eligible = [e for e in pool if experts.paths_conflict(e.paths, app.applicant_path) is None]
        assert len(picks) == min(per_app, len(eligible))
        for e in picks:
            assert experts.paths_conflict(by_id[e].paths, app.applicant_path) is None
            load[e] += 1
        assert (app.id in plan.short) == (len(eligible) < per_app)
    if not conflicts:
        assert max(load.values()) - min(load.values()) <= 1


# --- scoring and privacy ----------------------------------------------------------------------


@pytest.fixture
def scored_setup(henan, issuer):
    app = henan_school(henan)
    panel = [who(unit("410000", f"评审大学{i}"), Role.EXPERT) for i in range(3)]
    for w in panel:
        member = pool_add(issuer, henan, w)
        experts.expert_assign(
            application=app, member=member, scope=issuer.scope, actor=issuer.actor
        )
    assignments = {
        w: ExpertAssignment.objects.get(application=app, expert=w.user, is_active=True)
        for w in panel
    }
    return app, panel, assignments


def test_scores_are_validated_per_criterion_and_bad_input_changes_nothing(scored_setup):
    app, panel, assignments = scored_setup
    w = panel[0]
    a = assignments[w]
    with pytest.raises(SelectionError) as exc:
        score(w, a, {"basis": "31", "plan": "abc", "guarantee": "12.25"})
    assert "“工作基础”的分数应在 0 到 30 之间" in exc.value.errors["basis"][0]
    assert "数字" in exc.value.errors["plan"][0]
    assert "一位小数" in exc.value.errors["guarantee"][0]
    assert not ExpertScore.objects.filter(assignment=a).exists()
    with pytest.raises(SelectionError) as exc:
        score(w, a, {"basis": "20", "plan": "30"}, comment="")
    assert set(exc.value.errors) == {"guarantee", "comment"}
    # A draft may be partial; submitting needs every criterion and a comment.
    score(w, a, {"basis": "20"}, comment="", submit=False)
    a.refresh_from_db()
    assert a.submitted_at is None and a.total is None
    score(w, a, {"basis": "24", "plan": "32", "guarantee": "25.5"})
    a.refresh_from_db()
    assert a.total == Decimal("81.50") and a.submitted_at is not None
    with pytest.raises(SelectionError, match="不能再修改"):
        score(w, a, {"basis": "1", "plan": "1", "guarantee": "1"})
    # Another expert cannot score someone else's assignment.
    with pytest.raises(SelectionError, match="本人"):
        score(panel[1], a, {"basis": "1", "plan": "1", "guarantee": "1"})


def test_expert_sees_only_its_assignments_and_peers_only_after_submitting(client, scored_setup):
    app, panel, assignments = scored_setup
    first, second, _third = panel
    score(first, assignments[first], {"basis": 28, "plan": 38, "guarantee": 27}, comment="优秀示范")
    client.force_login(second.user)
    page = client.get(reverse("selection:expert_task", args=[assignments[second].pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert app.applicant_org.name in body
    assert "优秀示范" not in body and "93.00" not in body  # first's comment and total
    # Not someone else's assignment, nor the application by the applicants' or reviewers' URLs.
    assert (
        client.get(reverse("selection:expert_task", args=[assignments[first].pk])).status_code
        == 404
    )
    assert client.get(reverse("applications:detail", args=[app.pk])).status_code == 404
    assert client.get(reverse("selection:selection_application", args=[app.pk])).status_code == 404
    # The stamped scan of the assigned version opens through the assignment.
    version = app.versions.get(number=app.version)
    file_id = version.attachments[0]["id"]
    assert (
        client.get(
            reverse("selection:expert_file", args=[assignments[second].pk, file_id])
        ).status_code
        == 200
    )
    assert (
        client.get(
            reverse("selection:expert_file", args=[assignments[first].pk, file_id])
        ).status_code
        == 404
    )
    # Submitting by the page reveals the others' scores (anonymously).
    resp = client.post(
        reverse("selection:expert_task", args=[assignments[second].pk]),
        {
            "c-basis": "20",
            "c-plan": "30",
            "c-guarantee": "20",
            "comment": "可以",
            "action": "submit",
        },
    )
    assert resp.status_code == 302
    body = client.get(
        reverse("selection:expert_task", args=[assignments[second].pk])
    ).content.decode()
    assert "93.00" in body and "专家 A" in body
    assert first.user.username not in body
    # The task list shows own assignments only.
    tasks = client.get(reverse("selection:expert_tasks")).content.decode()
    assert app.applicant_org.name in tasks


def test_a_page_post_with_bad_scores_keeps_what_was_typed(client, scored_setup):
    _app, panel, assignments = scored_setup
    w = panel[0]
    client.force_login(w.user)
    url = reverse("selection:expert_task", args=[assignments[w].pk])
    resp = client.post(
        url,
        {
            "c-basis": "99",
            "c-plan": "30",
            "c-guarantee": "",
            "comment": "草稿意见",
            "action": "submit",
        },
    )
    assert resp.status_code == 200
    body = resp.content.decode()
    assert 'value="99"' in body and "草稿意见" in body and "之间" in body
    assert not ExpertScore.objects.filter(assignment=assignments[w]).exists()


def test_aggregation_mean_and_trimmed_mean_and_disagreement(programmes):
    crit = [schema.Criterion(key="a", name="A", max=Decimal(100))]
    mean = schema.Rubric(criteria=crit, aggregate="mean")
    trimmed = schema.Rubric(criteria=crit, aggregate="trimmed_mean", trim=1)
    totals = [Decimal(60), Decimal(80), Decimal(82), Decimal(95)]
    assert scoring.aggregate(mean, totals) == Decimal("79.25")
    assert scoring.aggregate(trimmed, totals) == Decimal("81.00")  # drops 60 and 95
    assert scoring.aggregate(trimmed, totals[:2]) == Decimal("70.00")  # too few: plain mean
    weighted = schema.Rubric(
        criteria=[
            schema.Criterion(key="x", name="X", max=Decimal(10), weight=Decimal(3)),
            schema.Criterion(key="y", name="Y", max=Decimal(20), weight=Decimal(1)),
        ]
    )
    # (3×5 + 1×20) / (3×10 + 1×20) × 100 = 70
    assert scoring.expert_total(weighted, {"x": Decimal(5), "y": Decimal(20)}) == Decimal("70.00")
    assert scoring.expert_total(weighted, {"x": Decimal(5)}) is None


def test_ranking_shows_ties_spread_and_wide_disagreement(henan, issuer):
    apps = [henan_school(henan, parent=p) for p in ("金水区", "二七区", "中原区", "管城回族区")]
    panel = [who(unit("410000", f"排名大学{i}"), Role.EXPERT) for i in range(3)]
    for w in panel:
        pool_add(issuer, henan, w)
    experts.experts_auto_assign(programme=henan, scope=issuer.scope, actor=issuer.actor)
    plans = {
        apps[0]: [(27, 36, 27), (27, 36, 27), (27, 36, 27)],  # 90, 90, 90
        apps[1]: [(27, 36, 27), (27, 36, 27), (27, 36, 27)],  # tied with apps[0]
        apps[2]: [(30, 40, 30), (15, 20, 15), (24, 32, 24)],  # 100, 50, 80: wide
    }
    for app, rows in plans.items():
        for w, (b, p, g) in zip(panel, rows, strict=True):
            a = ExpertAssignment.objects.get(application=app, expert=w.user)
            score(w, a, {"basis": b, "plan": p, "guarantee": g})
    ranked = scoring.ranking(
        Application.objects.filter(pk__in=[a.pk for a in apps])
        .select_related("applicant_org")
        .prefetch_related(scoring.current_assignments_prefetch()),
        henan.parsed.rubric,
    )
    by_app = {line.application.pk: line for line in ranked}
    top = [by_app[apps[0].pk], by_app[apps[1].pk]]
    assert [ln.rank for ln in top] == [1, 1] and all(ln.tied for ln in top)
    wide = by_app[apps[2].pk]
    assert wide.rank == 3 and not wide.tied
    assert wide.score == Decimal("80.00")  # trimmed mean of 50, 80, 100
    assert wide.spread == Decimal("50.00") and wide.disagreement
    assert not top[0].disagreement and top[0].spread == 0
    unscored = by_app[apps[3].pk]
    assert unscored.rank is None and ranked[-1] is unscored


def test_group_opinion_is_recorded_by_the_issuer_and_superseded(henan, issuer):
    app = henan_school(henan)
    with pytest.raises(SelectionError, match="请填写"):
        scoring.expert_group_opinion_record(
            application=app, text="  ", scope=issuer.scope, actor=issuer.actor
        )
    scoring.expert_group_opinion_record(
        application=app,
        text="同意推荐。",
        signed_by="专家组",
        scope=issuer.scope,
        actor=issuer.actor,
    )
    scoring.expert_group_opinion_record(
        application=app, text="同意推荐，建议加强师资培训。", scope=issuer.scope, actor=issuer.actor
    )
    assert selectors.current_group_opinion(app).text == "同意推荐，建议加强师资培训。"
    assert ExpertGroupOpinion.objects.filter(application=app).count() == 2
    reviewer = who("郑州市", Role.REVIEWER)
    with pytest.raises(SelectionError, match="发文单位"):
        scoring.expert_group_opinion_record(
            application=app, text="x", scope=reviewer.scope, actor=reviewer.actor
        )


def test_only_applications_awaiting_the_issuer_get_experts(henan, issuer):
    s = make_school(org("金水区"), stages=",primary,")
    app = submit_school(henan, who(s))  # still at the city
    assert app.state == AppState.SUBMITTED
    member = pool_add(issuer, henan, who(unit("410000", "状态大学"), Role.EXPERT))
    with pytest.raises(SelectionError, match="待审定"):
        experts.expert_assign(
            application=app, member=member, scope=issuer.scope, actor=issuer.actor
        )
    to_issuer(app)
    experts.expert_assign(application=app, member=member, scope=issuer.scope, actor=issuer.actor)


def test_unassign_only_before_submission_and_pool_removal_waits(henan, issuer):
    app = henan_school(henan)
    w = who(unit("410000", "撤回大学"), Role.EXPERT)
    member = pool_add(issuer, henan, w)
    a = experts.expert_assign(
        application=app, member=member, scope=issuer.scope, actor=issuer.actor
    )
    with pytest.raises(SelectionError, match="未完成的评审任务"):
        experts.expert_pool_remove(member=member, scope=issuer.scope, actor=issuer.actor)
    score(w, a, {"basis": 20, "plan": 30, "guarantee": 20})
    with pytest.raises(SelectionError, match="不能撤回"):
        experts.expert_unassign(assignment=a, scope=issuer.scope, actor=issuer.actor)
    experts.expert_pool_remove(member=member, scope=issuer.scope, actor=issuer.actor)
    member.refresh_from_db()
    assert not member.is_active


def test_expert_pages_through_the_browser_flow_for_the_issuer(client, henan, issuer):
    app = henan_school(henan)
    w = who(unit("410000", "页面大学"), Role.EXPERT)
    client.force_login(issuer.user)
    pool_url = reverse("selection:expert_pool", args=[henan.pk])
    assert client.get(pool_url).status_code == 200
    resp = client.post(pool_url, {"membership": [w.membership.pk], "note": "教育技术"})
    assert resp.status_code == 302
    assert client.post(reverse("selection:experts_auto_assign", args=[henan.pk])).status_code == 302
    assert ExpertAssignment.objects.filter(application=app, expert=w.user).exists()
    page = client.get(reverse("selection:selection_application", args=[app.pk]))
    assert page.status_code == 200 and w.user.display_name in page.content.decode()


def test_assignment_notifies_the_expert_in_app(henan, issuer):
    from edupilot.core.models import Notification

    app = henan_school(henan)
    w = who(unit("410000", "通知大学"), Role.EXPERT)
    a = experts.expert_assign(
        application=app, member=pool_add(issuer, henan, w), scope=issuer.scope, actor=issuer.actor
    )
    n = Notification.objects.get(recipient=w.user, event="review.expert_assigned")
    assert app.applicant_org.name in n.title
    assert n.link == reverse("selection:expert_task", args=[a.pk])


def test_a_resubmission_ends_open_tasks_and_pending_decisions(henan, issuer):
    from edupilot.applications import services as app_services
    from edupilot.review import services as review_services
    from edupilot.selection import approval
    from edupilot.selection.models import ApprovalDecision

    app = henan_school(henan)
    applicant = who(app.applicant_org)
    done, open_ = (who(unit("410000", f"重报大学{i}"), Role.EXPERT) for i in range(2))
    tasks = {
        w: experts.expert_assign(
            application=app,
            member=pool_add(issuer, henan, w),
            scope=issuer.scope,
            actor=issuer.actor,
        )
        for w in (done, open_)
    }
    score(done, tasks[done], {"basis": 20, "plan": 30, "guarantee": 20})
    decision = approval.selection_approve(application=app, scope=issuer.scope, actor=issuer.actor)
    # The issuer's level sends it back (its pending decision revoked first); the school
    # revises and resubmits.
    with pytest.raises(review_services.ReviewError, match="撤销"):
        review_services.review_return(
            application=app, reasons="请补充", scope=issuer.scope, actor=issuer.actor
        )
    approval.selection_revoke(decision=decision, scope=issuer.scope, actor=issuer.actor)
    review_services.review_return(
        application=app, reasons="请补充无线网络覆盖情况", scope=issuer.scope, actor=issuer.actor
    )
    app.refresh_from_db()
    assert app.state == AppState.RETURNED
    app_services.application_submit(application=app, scope=applicant.scope, actor=applicant.actor)
    app.refresh_from_db()
    assert app.version == 2
    tasks[open_].refresh_from_db()
    tasks[done].refresh_from_db()
    assert not tasks[open_].is_active and not tasks[done].is_active
    assert tasks[done].scores.count() == 3  # the old version's scores stay on record
    assert not ApprovalDecision.objects.filter(application=app, is_active=True).exists()
    to_issuer(app)
    # The old version's scores no longer count; the same expert may score the new one.
    assert scoring.score_line(app, henan.parsed.rubric).totals == []
    member = tasks[done].pool_member
    again = experts.expert_assign(
        application=app, member=member, scope=issuer.scope, actor=issuer.actor
    )
    assert again.version == 2
    score(done, again, {"basis": 25, "plan": 35, "guarantee": 25})
    assert scoring.score_line(app, henan.parsed.rubric).totals == [Decimal("85.00")]
    approval.selection_approve(application=app, scope=issuer.scope, actor=issuer.actor)


def test_without_a_rubric_experts_comment_only(programmes):
    henan = load_henan(rubric=False)  # a notice that publishes no criteria
    assert henan.parsed.rubric is None
    issuer = who("410000", Role.PROGRAMME_ADMIN)
    app = henan_school(henan)
    w = who(unit("410000", "意见大学"), Role.EXPERT)
    pool_add(issuer, henan, w)
    with pytest.raises(SelectionError, match="专家人数"):
        experts.experts_auto_assign(programme=henan, scope=issuer.scope, actor=issuer.actor)
    result = experts.experts_auto_assign(
        programme=henan, per_app=1, scope=issuer.scope, actor=issuer.actor
    )
    (a,) = result.created
    with pytest.raises(SelectionError) as exc:
        score(w, a, {}, comment="")
    assert set(exc.value.errors) == {"comment"}
    score(w, a, {}, comment="基础较好，建议立项。")
    a.refresh_from_db()
    assert a.submitted_at is not None and a.total is None
    line = scoring.score_line(app, None)
    assert line.score is None and line.assigned == 1
