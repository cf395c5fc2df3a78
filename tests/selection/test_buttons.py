"""The selection pages' buttons come from the transition tables and the predicates: they follow
the state, and say why not (greyed out, the reason as tooltip and screen-reader text)."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

import pytest
from django.urls import reverse

from edupilot.applications.models import AppState
from edupilot.applications.workflows import APPLICATION
from edupilot.orgs.models import Role
from edupilot.selection import announcements as ann_services
from edupilot.selection import approval, pages, permissions
from edupilot.selection.models import Announcement, ApprovalOutcome, ObjectionState
from edupilot.selection.workflows import ANNOUNCEMENT, OBJECTION

from .test_experts_support import henan_school, load_henan, who

pytestmark = pytest.mark.django_db


def _names(actions):
    return [(a.name, a.allowed) for a in actions]


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(import_module(module), name)


@pytest.fixture
def henan(programmes):
    return load_henan()


@pytest.fixture
def issuer(henan):
    return who("410000", Role.PROGRAMME_ADMIN)


@pytest.fixture
def outsider(henan):
    """Another province's programme admin: not the issuer of Henan's programme."""
    return who("330000", Role.PROGRAMME_ADMIN)


def _publish(henan, issuer):
    school = henan_school(henan, parent="金水区", name="郑州市金水区按钮小学")
    approval.selection_approve(application=school, scope=issuer.scope, actor=issuer.actor)
    a = ann_services.announcement_publish(programme=henan, scope=issuer.scope, actor=issuer.actor)
    return a, school


def _end_period(a: Announcement) -> Announcement:
    """The objection period is over (the row's end moved into the past)."""
    Announcement.objects.filter(pk=a.pk).update(
        objection_until=a.published_at - dt.timedelta(minutes=1)
    )
    return Announcement.objects.select_related("programme__issuer").get(pk=a.pk)


# --- the tables ---------------------------------------------------------------------------------


def test_the_selection_rows_name_their_predicates_and_page_urls():
    rows = [*ANNOUNCEMENT.transitions, *OBJECTION.transitions]
    rows += [APPLICATION[name] for name in pages.DECIDE]
    for t in rows:
        if t.who == "系统":
            assert t.permission is None and t.url is None, t.name
            continue
        predicate = _resolve(t.permission)
        assert predicate.__module__ == permissions.__name__, t.permission
        assert predicate.__name__.startswith("can_"), t.permission
        if t.url is not None:
            assert reverse(t.url, args=[1])
    # The decision's outcomes are the transitions' names: the buttons post them as such.
    assert set(pages.DECIDE) == set(ApprovalOutcome.values)


# --- one announcement ---------------------------------------------------------------------------


def test_announcement_buttons_follow_the_period_and_the_objections(client, henan, issuer):
    a, school = _publish(henan, issuer)
    page = pages.announcement_page(issuer.scope, a)
    # Within the period: closing is greyed with when it may be done; objections may be recorded.
    assert _names(page["close_actions"]) == [("close", False)]
    assert "期满后才能公布最终名单" in page["close_actions"][0].reason
    assert page["record_action"].allowed

    entry = a.entries.get()
    o = ann_services.objection_record(
        announcement=a, entry=entry, text="材料不实", scope=issuer.scope, actor=issuer.actor
    )
    a = _end_period(a)
    page = pages.announcement_page(issuer.scope, a)
    assert _names(page["objections"][0].actions) == [("resolve", True)]
    # After the period, the open objection holds the final list up, and says so.
    (close,) = page["close_actions"]
    assert not close.allowed and "1 条异议未处理（郑州市金水区按钮小学）" in close.reason
    client.force_login(issuer.user)
    html = client.get(reverse("selection:announcement", args=[a.pk])).content.decode()
    assert f'aria-describedby="why-close-{a.pk}"' in html and close.reason in html
    assert reverse("selection:objection_resolve", args=[o.pk]) in html

    ann_services.objection_resolve(
        objection=o, upheld=False, resolution="不成立", scope=issuer.scope, actor=issuer.actor
    )
    page = pages.announcement_page(issuer.scope, a)
    # A resolved objection has no resolve button; the list may now be published.
    assert page["objections"][0].state == ObjectionState.DISMISSED
    assert page["objections"][0].actions == []
    assert _names(page["close_actions"]) == [("close", True)]
    html = client.get(reverse("selection:announcement", args=[a.pk])).content.decode()
    assert reverse("selection:objection_resolve", args=[o.pk]) not in html
    assert f'action="{reverse("selection:announcement_close", args=[a.pk])}"' in html

    resp = client.post(reverse("selection:announcement_close", args=[a.pk]))
    assert resp.status_code == 302
    a.refresh_from_db()
    school.refresh_from_db()
    assert school.state == AppState.PILOT
    page = pages.announcement_page(issuer.scope, a)
    # Closed: nothing leaves the state; recording an objection is greyed with why.
    assert page["close_actions"] == []
    assert not page["record_action"].allowed and "公示已结束" in page["record_action"].reason
    html = client.get(reverse("selection:announcement", args=[a.pk])).content.decode()
    assert reverse("selection:announcement_close", args=[a.pk]) not in html
    assert 'name="text"' not in html and "公示已结束，最终名单已公布" in html


def test_a_non_issuer_sees_every_button_greyed_with_who_may(henan, issuer, outsider):
    a, school = _publish(henan, issuer)
    ann_services.objection_record(
        announcement=a, entry=a.entries.get(), text="异议", scope=issuer.scope, actor=issuer.actor
    )
    page = pages.announcement_page(outsider.scope, _end_period(a))
    actions = [*page["close_actions"], page["record_action"], *page["objections"][0].actions]
    assert _names(actions) == [("close", False), ("record", False), ("resolve", False)]
    assert all("只有发文单位（河南省" in x.reason for x in actions)
    other = henan_school(henan, parent="二七区")
    app_page = pages.application_page(outsider.scope, other)
    assert _names(app_page["decide_actions"]) == [("approve", False), ("reject", False)]
    assert not app_page["decide_open"] and not app_page["assign_action"].allowed
    assert "只有发文单位" in app_page["decide_actions"][0].reason
    assert not pages.announcements_page(outsider.scope, henan)["publish_action"].allowed


# --- one application and the board --------------------------------------------------------------


def test_application_buttons_decide_then_revoke_then_published(client, henan, issuer):
    app = henan_school(henan, parent="金水区", name="郑州市金水区审定小学")
    page = pages.application_page(issuer.scope, app)
    assert _names(page["decide_actions"]) == [("approve", True), ("reject", True)]
    assert page["decide_open"] and page["revoke_action"] is None
    assert [a.label for a in page["decide_actions"]] == ["同意立项", "不予立项"]
    assert page["assign_action"].allowed and page["group_opinion_action"].allowed
    client.force_login(issuer.user)
    url = reverse("selection:selection_application", args=[app.pk])
    html = client.get(url).content.decode()
    assert 'name="outcome" value="approve"' in html and 'value="reject" class="danger"' in html

    decision = approval.selection_approve(application=app, scope=issuer.scope, actor=issuer.actor)
    page = pages.application_page(issuer.scope, app)
    assert page["decide_actions"] == [] and page["revoke_action"].allowed
    html = client.get(url).content.decode()
    assert reverse("selection:selection_revoke", args=[decision.pk]) in html
    assert 'name="outcome"' not in html
    # The decide predicates say why once decided (a page without the decision at hand).
    assert permissions.can_approve_application(issuer.scope, app) == (
        False,
        "“郑州市金水区审定小学”已有审定决定，如需改变请先撤销",
    )

    ann_services.announcement_publish(programme=henan, scope=issuer.scope, actor=issuer.actor)
    app.refresh_from_db()
    page = pages.application_page(issuer.scope, app)
    # Approved: nothing to decide, the published decision's revoke greyed with why.
    assert app.state == AppState.APPROVED and page["decide_actions"] == []
    assert not page["revoke_action"].allowed and "已随公示发布" in page["revoke_action"].reason
    assert not page["assign_action"].allowed
    html = client.get(url).content.decode()
    assert reverse("selection:selection_revoke", args=[decision.pk]) not in html
    assert "已随公示发布，不能撤销" in html and "disabled" in html


def test_after_the_issuers_deadline_the_decision_buttons_say_so(henan, issuer, monkeypatch):
    app = henan_school(henan)
    deadline = permissions.decision_deadline(app)
    assert deadline is not None
    monkeypatch.setattr(permissions.timezone, "now", lambda: deadline + dt.timedelta(minutes=1))
    page = pages.application_page(issuer.scope, app)
    assert _names(page["decide_actions"]) == [("approve", False), ("reject", False)]
    assert not page["decide_open"] and "审定截止时间" in page["decide_actions"][0].reason


def test_board_rows_are_picked_only_while_undecided(client, henan, issuer):
    first = henan_school(henan, parent="金水区", name="郑州市金水区看板一小")
    second = henan_school(henan, parent="二七区", name="郑州市二七区看板二小")
    approval.selection_approve(application=first, scope=issuer.scope, actor=issuer.actor)
    page = pages.board_page(issuer.scope, henan, None)
    (school_board,) = [b for b in page["boards"] if b.category.code == "school"]
    rows = {r.application.pk: r for r in school_board.rows}
    assert not rows[first.pk].pick.allowed and "已有审定决定" in rows[first.pk].pick.reason
    assert rows[second.pk].pick.allowed
    assert _names(school_board.actions) == [("approve", True), ("reject", True)]
    assert school_board.actions[0].label == "同意立项（所选）"
    client.force_login(issuer.user)
    html = client.get(reverse("selection:selection", args=[henan.pk])).content.decode()
    assert f'value="{second.pk}" id="pick-{second.pk}"' in html
    assert f'id="pick-{first.pk}" aria-label' in html and f'value="{first.pk}"' not in html

    approval.selection_approve(application=second, scope=issuer.scope, actor=issuer.actor)
    page = pages.board_page(issuer.scope, henan, "school")
    (school_board,) = page["boards"]
    # Nothing left to pick: the board's buttons are greyed with the rows' reason.
    assert _names(school_board.actions) == [("approve", False), ("reject", False)]
    assert "已有审定决定" in school_board.actions[0].reason


# --- the announcements page ---------------------------------------------------------------------


def test_publish_is_offered_while_approvals_are_pending(client, henan, issuer):
    page = pages.announcements_page(issuer.scope, henan)
    assert not page["publish_action"].allowed
    assert "没有待公示的同意立项决定" in page["publish_action"].reason
    rejected = henan_school(henan)
    approval.selection_reject(
        application=rejected, reason="条件不足", scope=issuer.scope, actor=issuer.actor
    )
    # A rejection alone is not an announcement.
    assert not pages.announcements_page(issuer.scope, henan)["publish_action"].allowed
    approval.selection_approve(
        application=henan_school(henan, parent="二七区"), scope=issuer.scope, actor=issuer.actor
    )
    publish = pages.announcements_page(issuer.scope, henan)["publish_action"]
    assert publish.allowed and publish.label == "发布公示"
    client.force_login(issuer.user)
    html = client.get(reverse("selection:announcements", args=[henan.pk])).content.decode()
    assert 'name="title"' in html and ">发布公示</button>" in html
