"""Announcements (公示): publication, the public page without personal data, objections,
the end of the period, and the notifications each decision sends (over real SMTP)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from edupilot.applications.models import Application, AppState
from edupilot.audit.services import audit_verify
from edupilot.core.models import Notification
from edupilot.orgs.models import Role
from edupilot.selection import announcements as ann
from edupilot.selection import approval, board, selectors
from edupilot.selection.errors import SelectionError
from edupilot.selection.models import (
    AnnouncementState,
    ApprovalDecision,
    EntryOutcome,
    ObjectionState,
)

from .test_experts_support import henan_school, load_henan, smtp_capture, wait_for, who

pytestmark = pytest.mark.django_db

# What the applicants typed about people (tests/applications/conftest.SCHOOL_FORM) and the
# notice's own contacts: none of it may reach the public page.
PERSONAL = [
    "王校长",
    "李老师",
    "13800138000",
    "li@example.com",
    "许恒娟",
    "0371-66329808",
    "hndjxtb@163.com",
    "狄鑫",
    "13283711239",
]


@pytest.fixture
def smtp_server(settings):
    with smtp_capture(settings) as handler:
        yield handler


@pytest.fixture
def henan(programmes):
    return load_henan()


@pytest.fixture
def issuer(henan):
    w = who("410000", Role.PROGRAMME_ADMIN)
    w.user.email = "centre@example.com"
    w.user.save(update_fields=["email"])
    return w


@pytest.fixture
def decided(henan, issuer):
    """Three Henan schools awaiting the issuer: two approved, one rejected (pending)."""
    a1 = henan_school(henan, parent="金水区", name="郑州市金水区公示第一小学")
    a2 = henan_school(henan, parent="二七区", name="郑州市二七区公示小学")
    a3 = henan_school(henan, parent="中原区", name="郑州市中原区未立项小学")
    approval.selection_decide(
        applications=[a1, a2],
        outcome="approve",
        opinion="同意立项",
        scope=issuer.scope,
        actor=issuer.actor,
    )
    approval.selection_reject(
        application=a3, reason="网络条件不足", scope=issuer.scope, actor=issuer.actor
    )
    return a1, a2, a3


def publish(issuer, programme, now=None):
    return ann.announcement_publish(
        programme=programme, scope=issuer.scope, actor=issuer.actor, now=now
    )


def people_of(app: Application, role=Role.APPLICANT, email=None):
    w = who(app.applicant_org, role)
    if email:
        w.user.email = email
        w.user.save(update_fields=["email"])
    return w


def test_publish_applies_decisions_and_notifies_by_smtp(
    henan, issuer, decided, smtp_server, django_capture_on_commit_callbacks
):
    a1, a2, a3 = decided
    applicant = people_of(a1, email="school1@example.com")
    rejected = people_of(a3, email="school3@example.com")
    city = who("郑州市", Role.REVIEWER)
    city.user.email = "zz@example.com"
    city.user.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        a = publish(issuer, henan)
    for app in decided:
        app.refresh_from_db()
    assert (a1.state, a2.state, a3.state) == (
        AppState.APPROVED,
        AppState.APPROVED,
        AppState.REJECTED,
    )
    assert a.state == AnnouncementState.PUBLISHED
    # No expert scores here: the list follows the org tree (二七区 410103 before 金水区 410105).
    assert [e.unit_name for e in a.entries.order_by("position")] == [
        "郑州市二七区公示小学",
        "郑州市金水区公示第一小学",
    ]
    entry = a.entries.get(application=a1)
    assert (entry.category_name, entry.region_name) == ("学校试点", "郑州市金水区")
    # Five days of objections, ending at the end of the last day, Beijing time.
    until = timezone.localtime(a.objection_until)
    assert (until.date() - timezone.localtime(a.published_at).date()).days == 5
    assert (until.hour, until.minute) == (23, 59)
    assert ApprovalDecision.objects.filter(announcement=a).count() == 3
    # In-app and e-mail: the applicants, and the city that recommended them.
    assert Notification.objects.filter(
        recipient=applicant.user, event="selection.approved"
    ).exists()
    assert Notification.objects.filter(recipient=rejected.user, event="selection.rejected").exists()
    assert Notification.objects.filter(recipient=city.user, event="selection.approved").count() == 2
    assert wait_for(lambda: len(smtp_server.messages) >= 4)
    by_to = {}
    for m in smtp_server.messages:
        for rcpt in m["to"]:
            by_to.setdefault(rcpt, []).append(m["msg"])
    assert "已列入拟立项名单" in by_to["school1@example.com"][0]["Subject"]
    body3 = by_to["school3@example.com"][0].get_body().get_content()
    assert "网络条件不足" in body3
    assert len(by_to["zz@example.com"]) == 3  # two listed, one not
    assert "centre@example.com" not in by_to  # the actor is not told of its own act
    assert audit_verify().ok


def test_publish_needs_an_approval_and_drops_decisions_overtaken(henan, issuer):
    with pytest.raises(SelectionError, match="没有待公示"):
        publish(issuer, henan)
    a1 = henan_school(henan)
    a2 = henan_school(henan)
    approval.selection_decide(
        applications=[a1, a2], outcome="approve", opinion="", scope=issuer.scope, actor=issuer.actor
    )
    # a2 went back for revision meanwhile: its decision no longer applies.
    Application.objects.filter(pk=a2.pk).update(state=AppState.RETURNED)
    a = publish(issuer, henan)
    assert list(a.entries.values_list("application_id", flat=True)) == [a1.pk]
    assert not ApprovalDecision.objects.get(application=a2).is_active
    city_admin = who("郑州市", Role.PROGRAMME_ADMIN)
    with pytest.raises(SelectionError, match="发文单位"):
        ann.announcement_publish(programme=henan, scope=city_admin.scope, actor=city_admin.actor)


def test_public_page_lists_units_and_no_personal_data(
    client, henan, issuer, decided, django_assert_max_num_queries
):
    a = publish(issuer, henan)
    ann.objection_record(
        announcement=a,
        entry=a.entries.first(),
        text="该校网络条件不实",
        contact="举报人张三 13912345678",
        scope=issuer.scope,
        actor=issuer.actor,
    )
    client.logout()
    with django_assert_max_num_queries(4):  # the announcement, its listed entries, members
        client.get(reverse("selection_public:detail", args=[a.pk]))
    listing = client.get(reverse("selection_public:list"))
    assert listing.status_code == 200 and a.title in listing.content.decode()
    page = client.get(reverse("selection_public:detail", args=[a.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "郑州市金水区公示第一小学" in body and "郑州市二七区公示小学" in body
    assert "学校试点" in body and "郑州市金水区" in body
    assert "郑州市中原区未立项小学" not in body  # rejected: not listed
    leaked = [p for p in PERSONAL if p in body]
    assert leaked == []
    assert "张三" not in body and "13912345678" not in body and "该校网络条件不实" not in body
    assert issuer.user.username not in body
    # Every user who ever touched these applications stays off the page too.
    for app in decided:
        for v in app.versions.select_related("submitted_by"):
            assert v.submitted_by.username not in body
    # The issuer's own page does show the private contact; the public one never.
    client.force_login(issuer.user)
    admin_page = client.get(reverse("selection:announcement", args=[a.pk])).content.decode()
    assert "13912345678" in admin_page


def test_objections_are_checked_resolved_and_an_upheld_one_removes_the_entry(
    client, henan, issuer, decided
):
    a1, a2, _ = decided
    a = publish(issuer, henan)
    e1 = a.entries.get(application=a1)
    e2 = a.entries.get(application=a2)
    with pytest.raises(SelectionError) as exc:
        ann.objection_record(
            announcement=a,
            entry=e1,
            text="",
            received_at=a.objection_until + dt.timedelta(hours=1),
            scope=issuer.scope,
            actor=issuer.actor,
            now=a.objection_until + dt.timedelta(days=1),
        )
    assert set(exc.value.errors) == {"text", "received_at"}
    assert "公示期内" in exc.value.errors["received_at"][0]
    o1 = ann.objection_record(
        announcement=a, entry=e1, text="材料不实", scope=issuer.scope, actor=issuer.actor
    )
    o1b = ann.objection_record(
        announcement=a, entry=e1, text="同上", scope=issuer.scope, actor=issuer.actor
    )
    o2 = ann.objection_record(
        announcement=a, entry=e2, text="不符合条件", scope=issuer.scope, actor=issuer.actor
    )
    after = a.objection_until + dt.timedelta(minutes=1)
    with pytest.raises(SelectionError, match="3 条异议未处理"):
        ann.announcement_close(announcement=a, scope=issuer.scope, actor=issuer.actor, now=after)
    with pytest.raises(SelectionError, match="处理意见"):
        ann.objection_resolve(
            objection=o2, upheld=False, resolution="", scope=issuer.scope, actor=issuer.actor
        )
    ann.objection_resolve(
        objection=o2,
        upheld=False,
        resolution="经核实符合条件",
        scope=issuer.scope,
        actor=issuer.actor,
    )
    ann.objection_resolve(
        objection=o1,
        upheld=True,
        resolution="经核实材料不实",
        scope=issuer.scope,
        actor=issuer.actor,
    )
    o1b.refresh_from_db()
    assert o1b.state == ObjectionState.UPHELD  # settled with the first
    a1.refresh_from_db()
    a2.refresh_from_db()
    e1.refresh_from_db()
    assert (a1.state, a2.state, e1.outcome) == (
        AppState.REJECTED,
        AppState.APPROVED,
        EntryOutcome.REMOVED,
    )
    body = client.get(reverse("selection_public:detail", args=[a.pk])).content.decode()
    assert "郑州市金水区公示第一小学" not in body and "郑州市二七区公示小学" in body
    with pytest.raises(SelectionError, match="已从名单中撤销"):
        ann.objection_record(
            announcement=a, entry=e1, text="x", scope=issuer.scope, actor=issuer.actor
        )


def test_close_waits_for_the_period_then_pilots_the_final_list(client, henan, issuer, decided):
    a1, a2, a3 = decided
    a = publish(issuer, henan)
    with pytest.raises(SelectionError, match="期满后才能公布"):
        ann.announcement_close(announcement=a, scope=issuer.scope, actor=issuer.actor)
    # The periodic task: nothing due yet.
    assert ann.announcements_close_due() == []
    closed = ann.announcements_close_due(now=a.objection_until + dt.timedelta(minutes=5))
    assert [c.pk for c in closed] == [a.pk]
    a.refresh_from_db()
    for app in decided:
        app.refresh_from_db()
    assert a.state == AnnouncementState.CLOSED and a.final_published_at is not None
    assert (a1.state, a2.state, a3.state) == (AppState.PILOT, AppState.PILOT, AppState.REJECTED)
    body = client.get(reverse("selection_public:detail", args=[a.pk])).content.decode()
    assert "最终名单" in body and "郑州市金水区公示第一小学" in body
    with pytest.raises(SelectionError, match="已经公布"):
        ann.announcement_close(
            announcement=a,
            scope=issuer.scope,
            actor=issuer.actor,
            now=a.objection_until + dt.timedelta(days=1),
        )
    # Pilots count against caps like approvals do.
    use = board.cap_use(henan)["school"]
    assert (use.approved, use.pending) == (2, 0)


def test_an_announcement_held_up_by_objections_is_reported_once(henan, issuer, decided):
    a = publish(issuer, henan)
    ann.objection_record(
        announcement=a, entry=a.entries.first(), text="异议", scope=issuer.scope, actor=issuer.actor
    )
    later = a.objection_until + dt.timedelta(hours=1)
    assert ann.announcements_close_due(now=later) == []
    assert ann.announcements_close_due(now=later + dt.timedelta(hours=1)) == []
    held = Notification.objects.filter(recipient=issuer.user, event="announcement.held_up")
    assert held.count() == 1 and "异议未处理" in held.get().body


def test_issuer_pages_publish_record_resolve_and_close(client, henan, issuer, decided):
    a1, _a2, _ = decided
    client.force_login(issuer.user)
    url = reverse("selection:announcements", args=[henan.pk])
    page = client.get(url).content.decode()
    assert "郑州市中原区未立项小学" in page and "发布公示" in page
    fields = {"title": "河南省第二期腾讯智慧校园试点拟立项名单公示", "intro": ""}
    resp = client.post(url, fields)  # asked first: nothing is published yet
    assert resp.status_code == 200 and not selectors.announcements_for(issuer.scope).exists()
    confirm = resp.content.decode()
    assert "确认发布" in confirm and "发布后不能撤回" in confirm
    assert "公示期 5 天" in confirm and 'name="confirm" value="yes"' in confirm
    assert 'value="河南省第二期腾讯智慧校园试点拟立项名单公示"' in confirm
    resp = client.post(url, {**fields, "confirm": "yes"})
    assert resp.status_code == 302
    a = selectors.announcements_for(issuer.scope).get()
    entry = a.entries.get(application=a1)
    detail = reverse("selection:announcement", args=[a.pk])
    resp = client.post(
        reverse("selection:objection_record", args=[a.pk]),
        {
            "entry": entry.pk,
            "text": "异议内容",
            "contact": "13700000000",
            "received_at": "not a date",
        },
        follow=True,
    )
    assert "收到时间格式不对" in resp.content.decode()
    client.post(
        reverse("selection:objection_record", args=[a.pk]),
        {"entry": entry.pk, "text": "异议内容", "contact": "13700000000"},
    )
    o = a.objections.get()
    client.post(
        reverse("selection:objection_resolve", args=[o.pk]),
        {"verdict": "dismissed", "resolution": "不成立"},
    )
    o.refresh_from_db()
    assert o.state == ObjectionState.DISMISSED
    resp = client.post(reverse("selection:announcement_close", args=[a.pk]), follow=True)
    assert "期满后才能公布" in resp.content.decode()
    assert client.get(detail).status_code == 200
    # Another province's admin does not reach this announcement's management page.
    client.force_login(who("330000", Role.PROGRAMME_ADMIN).user)
    assert client.get(detail).status_code == 404
    assert (
        client.post(
            reverse("selection:objection_resolve", args=[o.pk]), {"verdict": "upheld"}
        ).status_code
        == 404
    )


def test_zhejiang_public_list_shows_topics_and_regions(client, programmes):
    from edupilot.orgs.models import OrgKind
    from edupilot.programmes.models import Programme
    from tests.conftest import make_school, org

    from .test_experts_support import recommended, unit

    zhejiang = Programme.objects.get(code__startswith="zhejiang")
    admin = who("330000", Role.PROGRAMME_ADMIN)
    uni = recommended(
        zhejiang,
        "higher_ed",
        unit("330000", "浙江示范大学", OrgKind.UNIVERSITY),
        topic="governance",
    )
    school = recommended(
        zhejiang,
        "k12",
        make_school(org("西湖区"), name="杭州市西湖区示范小学"),
        topic="internet_teaching",
    )
    approval.selection_decide(
        applications=[uni, school],
        outcome="approve",
        opinion="",
        scope=admin.scope,
        actor=admin.actor,
    )
    a = publish(admin, zhejiang)
    body = client.get(reverse("selection_public:detail", args=[a.pk])).content.decode()
    assert "智慧教育治理机制的创新探索与实践" in body
    assert "杭州市西湖区" in body
    assert "浙江省教育厅办公室" in body  # the notice's issuing body, not the tree's node
    rows = [(e.unit_name, e.category_name, e.region_name) for e in a.entries.order_by("position")]
    # Categories in the programme file's order: region, higher_ed, k12.
    assert rows == [
        ("浙江示范大学", "高校试点", "浙江省"),
        ("杭州市西湖区示范小学", "中小学校（含中职）试点", "杭州市西湖区"),
    ]


def test_quanzhou_city_direct_school_with_the_expert_groups_opinion(programmes):
    from edupilot.programmes.models import Programme
    from edupilot.selection import scoring
    from tests.conftest import make_school, org

    from .test_experts_support import expert_panel, recommended, score_by

    quanzhou = Programme.objects.get(code__startswith="quanzhou")
    city = org("350500")
    admin = who(city, Role.PROGRAMME_ADMIN)
    city_reviewer = who(city, Role.REVIEWER)
    direct = make_school(city, name="泉州市直属实验小学", stages=",primary,")
    app = recommended(quanzhou, "school", direct)
    # The city stands in for the county, then decides: a chain of two steps, both the city.
    assert [s["org"] for s in app.chain] == [city.pk, city.pk]
    box = next(
        b
        for b in quanzhou.parsed.form_for(quanzhou.parsed.category("school")).opinions
        if b.by == "experts"
    )
    assert box.title == "专家组意见"
    scoring.expert_group_opinion_record(
        application=app,
        text="同意列为试点学校。",
        signed_by="专家组",
        scope=admin.scope,
        actor=admin.actor,
    )
    score_by(app, expert_panel(quanzhou, admin, 5), admin)  # the seed's panel: five scores
    approval.selection_approve(application=app, scope=admin.scope, actor=admin.actor)
    applicant = who(direct)
    a = publish(admin, quanzhou)
    assert a.entries.get().region_name == "泉州市"
    assert Notification.objects.filter(
        recipient=applicant.user, event="selection.approved"
    ).exists()
    # The issuer is not told about its own decision as if it were a lower level.
    assert not Notification.objects.filter(recipient=city_reviewer.user).exists()
    assert selectors.current_group_opinion(app).text == "同意列为试点学校。"
