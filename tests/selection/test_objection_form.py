"""The issuer's objection form (issue 11 §6): after a refusal it comes back with the unit, the
text and the contact as chosen and typed, and it never picks a unit by itself, so an
objection retyped after an error is not recorded against the first unit of the list."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from edupilot.orgs.models import Role
from edupilot.selection import announcements as ann
from edupilot.selection import approval

from .test_experts_support import henan_school, load_henan, who

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(client, programmes):
    henan = load_henan()
    issuer = who("410000", Role.PROGRAMME_ADMIN)
    apps = [
        henan_school(henan, parent="二七区", name="郑州市二七区异议第一小学"),
        henan_school(henan, parent="金水区", name="郑州市金水区异议第二小学"),
    ]
    approval.selection_decide(
        applications=apps, outcome="approve", opinion="", scope=issuer.scope, actor=issuer.actor
    )
    a = ann.announcement_publish(programme=henan, scope=issuer.scope, actor=issuer.actor)
    client.force_login(issuer.user)
    return client, a


def selected(html: str) -> list[str]:
    return re.findall(r'<option value="(\d*)" selected>', html)


def test_a_refused_objection_keeps_the_unit_text_and_contact(page):
    client, a = page
    first, second = a.entries.order_by("position")
    url = reverse("selection:objection_record", args=[a.pk])
    html = client.get(reverse("selection:announcement", args=[a.pk])).content.decode()
    assert '<option value="">请选择单位</option>' in html and selected(html) == []

    # The contact is too long: refused, and the form still holds the second unit and the text.
    posted = {"entry": second.pk, "text": "该校网络条件与申报不符", "contact": "电" * 201}
    resp = client.post(url, posted)
    assert resp.status_code == 400
    html = resp.content.decode()
    assert selected(html) == [str(second.pk)]
    assert "该校网络条件与申报不符</textarea>" in html and "最多 200 字" in html
    assert 'value="' + "电" * 201 + '"' in html
    assert not a.objections.exists()

    # A bad received time: the same.
    resp = client.post(url, {**posted, "contact": "张先生", "received_at": "昨天"})
    assert resp.status_code == 400 and selected(resp.content.decode()) == [str(second.pk)]
    assert 'value="张先生"' in resp.content.decode() and "收到时间格式不对" in resp.content.decode()

    # Submitting what came back records it against the unit chosen, not the first one.
    resp = client.post(url, {**posted, "contact": "张先生"})
    assert resp.status_code == 302
    (o,) = a.objections.all()
    assert (o.entry_id, o.text, o.contact) == (second.pk, "该校网络条件与申报不符", "张先生")
    assert not first.objections.exists()


def test_no_unit_chosen_is_refused_at_the_field(page):
    client, a = page
    url = reverse("selection:objection_record", args=[a.pk])
    resp = client.post(url, {"entry": "", "text": "异议内容", "contact": ""})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "请选择公示名单中的单位" in html and "异议内容</textarea>" in html
    assert not a.objections.exists()
