"""Withdrawing an application asks first (issue 11 §6): the button leads to a page that says
what withdrawing does, with an ordinary form (no inline JS: the CSP forbids it) whose
``confirm=yes`` button withdraws, and a link back; a POST that was not confirmed changes
nothing."""

import pytest

from edupilot.applications.models import AppState

pytestmark = pytest.mark.django_db


def test_withdraw_asks_first_then_withdraws(client, school, submitted):
    client.force_login(school.user)
    url = f"/applications/{submitted.pk}/withdraw/"
    detail = client.get(f"/applications/{submitted.pk}/").content.decode()
    assert f'action="{url}"' in detail
    page = client.post(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "确定要撤回" in html and "确认撤回" in html and "重新提交" in html
    assert f'<form method="post" action="{url}">' in html
    assert '<input type="hidden" name="confirm" value="yes">' in html
    assert f'href="/applications/{submitted.pk}/"' in html  # back, nothing done
    assert "<script" not in html.split("<main", 1)[1]  # nothing inline in the page's body
    submitted.refresh_from_db()
    assert submitted.state == AppState.SUBMITTED
    r = client.post(url, {"confirm": "yes"})
    assert r.status_code == 302 and r["Location"] == f"/applications/{submitted.pk}/"
    submitted.refresh_from_db()
    assert submitted.state == AppState.WITHDRAWN


def test_confirming_what_is_no_longer_allowed_is_refused_with_the_reason(client, school, submitted):
    client.force_login(school.user)
    url = f"/applications/{submitted.pk}/withdraw/"
    assert client.post(url, {"confirm": "yes"}).status_code == 302
    r = client.post(url, {"confirm": "yes"}, follow=True)
    submitted.refresh_from_db()
    assert submitted.state == AppState.WITHDRAWN
    assert "msg-error" in r.content.decode()
