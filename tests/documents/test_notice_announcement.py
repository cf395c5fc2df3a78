"""The announcement list (公示名单) as PDF: public, unit names only, listed entries only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from edupilot.orgs.models import Role
from edupilot.selection import announcements as ann_services
from edupilot.selection import approval
from tests.selection.test_experts_support import henan_school

from .test_notice_support import body, dark_pixels, load, login, pdf_text, reviewer, squeeze

pytestmark = pytest.mark.django_db

# What the applicants typed about people (tests/applications/conftest.SCHOOL_FORM) and the
# notice's own contacts: none of it may reach the list.
PERSONAL = ["王校长", "李老师", "13800138000", "li@example.com", "许恒娟", "0371-66329808"]


@pytest.fixture
def published(seeded):
    henan = load("henan-tencent-smart-campus-2019.toml")
    issuer = reviewer("410000", Role.PROGRAMME_ADMIN)
    a1 = henan_school(henan, parent="金水区", name="郑州市金水区公示一小")
    a2 = henan_school(henan, parent="龙亭区", name="开封市龙亭区公示二小")
    a3 = henan_school(henan, parent="二七区", name="郑州市二七区异议小学")
    approval.selection_decide(
        applications=[a1, a2, a3],
        outcome="approve",
        opinion="同意立项",
        scope=issuer.scope,
        actor=issuer.actor,
    )
    ann = ann_services.announcement_publish(programme=henan, scope=issuer.scope, actor=issuer.actor)
    # An upheld objection takes 异议小学 off the list.
    entry = ann.entries.get(application=a3)
    objection = ann_services.objection_record(
        announcement=ann,
        entry=entry,
        text="该校网络条件与申报不符",
        contact="13912345678",
        scope=issuer.scope,
        actor=issuer.actor,
    )
    ann_services.objection_resolve(
        objection=objection,
        upheld=True,
        resolution="经核实异议成立",
        scope=issuer.scope,
        actor=issuer.actor,
    )
    ann.refresh_from_db()
    return ann, issuer


def get_pdf(client, url, capture):
    """The PDF at ``url``; a first reader starts its render and is told to wait: run it."""
    with capture(execute=True):
        response = client.get(url)
    return client.get(url) if response.status_code == 202 else response


def test_public_list_pdf_without_personal_data(
    client, published, django_capture_on_commit_callbacks
):
    ann, _issuer = published
    url = reverse("documents:announcement", args=[ann.pk])
    response = get_pdf(client, url, django_capture_on_commit_callbacks)  # no login
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    data = body(response)
    text = squeeze(pdf_text(data))
    assert squeeze(ann.title) in text
    assert "郑州市金水区公示一小" in text and "开封市龙亭区公示二小" in text
    assert "郑州市二七区异议小学" not in text  # removed after the upheld objection
    assert "（共2个）" in text and "河南省电化教育馆" in text
    for item in PERSONAL + ["13912345678", "该校网络条件与申报不符"]:
        assert item not in text
    assert dark_pixels(data) > 300


def test_final_list_after_the_period(client, published, django_capture_on_commit_callbacks):
    ann, _issuer = published
    with django_capture_on_commit_callbacks(execute=True):  # rendered when published
        closed = ann_services.announcement_close(
            announcement=ann,
            actor=_issuer.actor,
            now=ann.objection_until + dt.timedelta(minutes=1),
        )
    assert closed.state == "closed"
    response = client.get(reverse("documents:announcement", args=[ann.pk]))
    assert response.status_code == 200
    text = squeeze(pdf_text(body(response)))
    assert "最终名单" in text and "郑州市金水区公示一小" in text


def test_the_public_page_links_the_pdf(client, published):
    ann, _issuer = published
    page = client.get(reverse("selection_public:detail", args=[ann.pk])).content.decode()
    assert reverse("documents:announcement", args=[ann.pk]) in page


def test_unknown_announcement_is_404(client, seeded):
    assert client.get(reverse("documents:announcement", args=[999999])).status_code == 404


def test_the_documents_page_lists_it_for_the_issuer(client, published):
    ann, issuer = published
    page = login(client, issuer).get(reverse("documents:index")).content.decode()
    assert reverse("documents:announcement", args=[ann.pk]) in page
