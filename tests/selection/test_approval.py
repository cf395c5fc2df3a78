"""The issuer's approval: caps per category, decisions pending until publication, scope."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from edupilot.applications.models import AppState
from edupilot.orgs.models import OrgKind, Role
from edupilot.programmes.models import Programme
from edupilot.review.models import ReviewAction, ReviewDecision
from edupilot.selection import approval, board
from edupilot.selection.errors import SelectionError
from edupilot.selection.models import ApprovalDecision, ApprovalOutcome
from tests.conftest import make_school, org

from .test_experts_support import henan_school, load_henan, recommended, unit, who

pytestmark = pytest.mark.django_db


@pytest.fixture
def zhejiang(programmes):
    return Programme.objects.get(code__startswith="zhejiang")


@pytest.fixture
def zj_admin(zhejiang):
    return who("330000", Role.PROGRAMME_ADMIN)


def universities(programme, n, prefix="大学"):
    return [
        recommended(programme, "higher_ed", unit("330000", f"浙江{prefix}{i}", OrgKind.UNIVERSITY))
        for i in range(n)
    ]


def approve(admin, apps, opinion="同意", now=None):
    return approval.selection_decide(
        applications=apps,
        outcome=ApprovalOutcome.APPROVE,
        opinion=opinion,
        scope=admin.scope,
        actor=admin.actor,
        now=now,
    )


def test_zhejiang_caps_20_20_60_are_enforced_and_named(zhejiang, zj_admin):
    caps = {c.code: c.cap for c in zhejiang.parsed.categories}
    assert caps == {"region": 20, "higher_ed": 20, "k12": 60}
    apps = universities(zhejiang, 22)
    approve(zj_admin, apps[:19])
    # Two more do not fit in the one place left: all or nothing.
    with pytest.raises(SelectionError) as exc:
        approve(zj_admin, apps[19:21])
    assert "“高校试点”的立项上限为 20 个" in exc.value.message
    assert "还剩 1 个" in exc.value.message
    assert ApprovalDecision.objects.filter(is_active=True).count() == 19
    approve(zj_admin, [apps[19]])
    with pytest.raises(SelectionError, match="立项上限为 20 个"):
        approve(zj_admin, [apps[20]])
    use = board.cap_use(zhejiang)["higher_ed"]
    assert (use.cap, use.pending, use.left) == (20, 20, 0)
    # Revoking a pending approval frees its place.
    d = ApprovalDecision.objects.get(application=apps[0], is_active=True)
    approval.selection_revoke(decision=d, scope=zj_admin.scope, actor=zj_admin.actor)
    approve(zj_admin, [apps[20]])
    # Approved and piloted applications count too, not only pending decisions.
    ApprovalDecision.objects.filter(application=apps[1]).update(is_active=False)
    type(apps[1]).objects.filter(pk=apps[1].pk).update(state=AppState.PILOT)
    with pytest.raises(SelectionError, match="已立项 1 个"):
        approve(zj_admin, [apps[21]])
    # Other categories have their own caps: K-12 is unaffected.
    school = make_school(org("西湖区"), stages=",primary,")
    k12 = recommended(zhejiang, "k12", school)
    approve(zj_admin, [k12])


def test_decisions_check_state_reason_and_duplicates(zhejiang, zj_admin):
    a, b = universities(zhejiang, 2)
    with pytest.raises(SelectionError, match="理由"):
        approval.selection_reject(
            application=a, reason=" ", scope=zj_admin.scope, actor=zj_admin.actor
        )
    approval.selection_reject(
        application=a, reason="方案不具体", scope=zj_admin.scope, actor=zj_admin.actor
    )
    with pytest.raises(SelectionError, match="已有审定决定"):
        approve(zj_admin, [a])
    type(b).objects.filter(pk=b.pk).update(state=AppState.SUBMITTED)
    with pytest.raises(SelectionError, match="不在待审定状态"):
        approve(zj_admin, [b])
    # The states only change when an announcement is published.
    a.refresh_from_db()
    assert a.state == AppState.RECOMMENDED


def test_decisions_after_the_issuers_deadline_are_refused_with_it(zhejiang, zj_admin):
    (a,) = universities(zhejiang, 1)
    deadline = zhejiang.level_deadline("higher_ed", "province")
    with pytest.raises(SelectionError) as exc:
        approve(zj_admin, [a], now=deadline + dt.timedelta(minutes=1))
    assert timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M") in exc.value.message
    assert not ApprovalDecision.objects.exists()


def test_only_the_issuers_programme_admin_decides(zhejiang, zj_admin):
    (a,) = universities(zhejiang, 1)
    for w in (
        who("杭州市", Role.PROGRAMME_ADMIN),
        who("330000", Role.REVIEWER),
        who("410000", Role.PROGRAMME_ADMIN),
    ):
        with pytest.raises(SelectionError, match="发文单位"):
            approve(w, [a])


def test_board_and_pages_are_out_of_reach_outside_the_issuer(
    client, zhejiang, zj_admin, programmes
):
    henan = load_henan()
    henan_app = henan_school(henan)
    (zj_app,) = universities(zhejiang, 1)
    henan_admin = who("410000", Role.PROGRAMME_ADMIN)
    city_admin = who("郑州市", Role.PROGRAMME_ADMIN)
    school = who(henan_app.applicant_org)
    urls = [
        reverse("selection:selection", args=[henan.pk]),
        reverse("selection:expert_pool", args=[henan.pk]),
        reverse("selection:announcements", args=[henan.pk]),
        reverse("selection:selection_application", args=[henan_app.pk]),
    ]
    for url in urls:
        client.logout()
        assert client.get(url).status_code == 302  # to the login page
        client.force_login(henan_admin.user)
        assert client.get(url).status_code == 200
        for outsider in (zj_admin, city_admin, school):
            client.force_login(outsider.user)
            assert client.get(url).status_code == 404, (url, outsider.org.name)
    # Another province's application through this issuer's own programme URL: 404.
    client.force_login(henan_admin.user)
    assert (
        client.get(reverse("selection:selection_application", args=[zj_app.pk])).status_code == 404
    )
    resp = client.post(
        reverse("selection:selection_decide", args=[henan.pk]),
        {"application": [zj_app.pk], "outcome": "approve"},
    )
    assert resp.status_code == 404
    assert not ApprovalDecision.objects.exists()
    # Nav: the issuer's admin lands on the selection entry.
    page = client.get(reverse("selection:selection", args=[henan.pk])).content.decode()
    assert "遴选与公示" in page


def test_board_shows_ranking_cap_and_quota_use_in_constant_queries(
    client, django_assert_max_num_queries, programmes
):
    henan = load_henan()
    admin = who("410000", Role.PROGRAMME_ADMIN)
    client.force_login(admin.user)
    url = reverse("selection:selection", args=[henan.pk])

    def add(n):
        for _ in range(n):
            app = henan_school(henan)
            ReviewDecision.objects.create(
                application=app,
                programme=henan,
                category="school",
                version=app.version,
                step=0,
                level="city",
                tier="city",
                org=org("郑州市"),
                action=ReviewAction.RECOMMEND,
                rank=ReviewDecision.objects.filter(org=org("郑州市")).count() + 1,
                quota_level="city",
                quota_holder=org("郑州市"),
                decided_at=timezone.now(),
            )

    add(2)
    with CaptureQueriesContext(connection) as small:
        page = client.get(url)
    assert page.status_code == 200
    add(6)
    with CaptureQueriesContext(connection) as large:
        page = client.get(url)
    assert len(large) == len(small)
    body = page.content.decode()
    assert "郑州市" in body and "推荐名次 8" in body
    # Zhengzhou's school quota is 15 (attachment 1); eight are used.
    use = {
        ln.holder.name: ln
        for q in board.quota_use(henan, henan.parsed.category("school"))
        for ln in q.lines
    }
    assert (use["郑州市"].limit, use["郑州市"].recommended, use["郑州市"].approved) == (15, 8, 0)


def test_approving_from_the_board_page(client, programmes):
    henan = load_henan()
    admin = who("410000", Role.PROGRAMME_ADMIN)
    apps = [henan_school(henan) for _ in range(2)]
    client.force_login(admin.user)
    url = reverse("selection:selection_decide", args=[henan.pk])
    resp = client.post(
        url, {"application": [a.pk for a in apps], "outcome": "approve", "opinion": "同意"}
    )
    assert resp.status_code == 302
    assert ApprovalDecision.objects.filter(outcome="approve", is_active=True).count() == 2
    board = client.get(reverse("selection:selection", args=[henan.pk])).content.decode()
    assert "拟同意" in board and "2 个审定决定待公示" in board
    # A rejection without a reason is refused with the message, nothing changes.
    resp = client.post(url, {"application": [apps[0].pk], "outcome": "reject"}, follow=True)
    assert "请填写不予立项的理由" in resp.content.decode()
    assert ApprovalDecision.objects.filter(is_active=True).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_never_pass_the_cap(transactional_seeded):
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL")
    from django.core.management import call_command

    call_command("programme", "load", "--all", "--open-now", verbosity=0)
    zhejiang = Programme.objects.get(code__startswith="zhejiang")
    admin = who("330000", Role.PROGRAMME_ADMIN)
    apps = universities(zhejiang, 24, prefix="并发")
    approve(admin, apps[:18])
    contenders = apps[18:]  # six admins' clicks at once for the last two places
    barrier = threading.Barrier(len(contenders))
    outcomes = []

    def click(app):
        from django.db import connections

        try:
            barrier.wait()
            approve(admin, [app])
            outcomes.append("ok")
        except SelectionError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click, args=(a,)) for a in contenders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 2 and outcomes.count("refused") == 4
    assert board.cap_use(zhejiang)["higher_ed"].used == 20


def test_a_city_admin_finds_the_selection_entry_explained_not_broken(client, programmes):
    city_admin = who("郑州市", Role.PROGRAMME_ADMIN)
    client.force_login(city_admin.user)
    page = client.get(reverse("selection:selection_home"))
    assert page.status_code == 200 and "发文单位负责" in page.content.decode()
    client.force_login(who("郑州市", Role.REVIEWER).user)
    assert client.get(reverse("selection:selection_home")).status_code == 404
