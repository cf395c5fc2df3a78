"""Published documents rendered once and served as files; form PDFs kept by their inputs.

A render is told from a copy by ``pdf.render_count`` (renders done by this process) and by
comparing the served bytes with the stored blob. Background renders run inline in tests
(Huey's immediate mode) once their transaction's commit hooks are run.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from edupilot.applications.files import blob_read
from edupilot.documents import pdf
from edupilot.documents.announcements import announcement_document
from edupilot.documents.forms import access_form_document, stored_form
from edupilot.documents.jobs import render_published_task
from edupilot.documents.models import StoredDocument
from edupilot.documents.stored import RENDER_STALE, claim_render
from edupilot.orgs.models import Role
from edupilot.selection import announcements as ann_services
from edupilot.selection import approval, scoring
from tests.conftest import org
from tests.selection.test_experts_support import henan_school

from .test_notice_support import (
    body,
    load,
    login,
    pdf_text,
    recommend,
    reviewer,
    school_in,
    squeeze,
    submit_as,
)

pytestmark = pytest.mark.django_db


def _approve(henan, issuer, *names):
    apps = [henan_school(henan, parent=parent, name=name) for parent, name in names]
    approval.selection_decide(
        applications=apps, outcome="approve", opinion="同意立项", scope=issuer.scope,
        actor=issuer.actor,
    )  # fmt: skip
    return apps


@pytest.fixture
def henan(seeded):
    return load("henan-tencent-smart-campus-2019.toml")


@pytest.fixture
def issuer(seeded):
    return reviewer("410000", Role.PROGRAMME_ADMIN)


def _url(ann):
    return reverse("documents:announcement", args=[ann.pk])


def test_a_published_list_is_rendered_once_and_then_served_from_storage(
    client, henan, issuer, django_capture_on_commit_callbacks
):
    _approve(henan, issuer, ("金水区", "郑州市金水区存储一小"))
    before = pdf.render_count
    with django_capture_on_commit_callbacks(execute=True):
        ann = ann_services.announcement_publish(
            programme=henan, scope=issuer.scope, actor=issuer.actor
        )
    assert pdf.render_count == before + 1  # rendered in the background when published
    row = StoredDocument.objects.get(kind="announcement", object_id=str(ann.pk))
    stored = blob_read(row.blob)

    for _ in range(3):
        response = client.get(_url(ann))  # anonymous
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert body(response) == stored
    assert pdf.render_count == before + 1  # three downloads, no render
    assert "郑州市金水区存储一小" in squeeze(pdf_text(stored))

    # The final list is another document: rendered when published, the first one kept.
    with django_capture_on_commit_callbacks(execute=True):
        ann_services.announcement_close(
            announcement=ann, actor=issuer.actor, now=ann.objection_until + dt.timedelta(minutes=1)
        )
    assert pdf.render_count == before + 2
    final = body(client.get(_url(ann)))
    assert final != stored and "最终名单" in squeeze(pdf_text(final))
    assert StoredDocument.objects.filter(kind="announcement", object_id=str(ann.pk)).count() == 2


def test_a_first_reader_sees_a_page_that_waits_and_readers_join_one_render(
    client, henan, issuer, django_capture_on_commit_callbacks
):
    _approve(henan, issuer, ("金水区", "郑州市金水区等待一小"))
    # Published without running its commit hooks: nothing is stored or started yet.
    ann = ann_services.announcement_publish(programme=henan, scope=issuer.scope, actor=issuer.actor)
    before = pdf.render_count
    with django_capture_on_commit_callbacks() as started:
        first = client.get(_url(ann))
    assert first.status_code == 202
    page = first.content.decode()
    assert "正在生成，请稍候" in page and 'http-equiv="refresh"' in page
    assert "<script>" not in page  # no inline script (the CSP forbids it)
    assert len(started) == 1  # the render, to start on commit

    with django_capture_on_commit_callbacks() as joined:
        again = client.get(_url(ann))
    assert again.status_code == 202 and joined == []  # joins the render under way
    assert StoredDocument.objects.filter(object_id=str(ann.pk), blob__isnull=True).count() == 1
    assert pdf.render_count == before

    started[0]()  # the background render
    assert pdf.render_count == before + 1
    done = client.get(_url(ann))
    assert done.status_code == 200 and "郑州市金水区等待一小" in squeeze(pdf_text(body(done)))


def test_a_render_gone_silent_is_started_again(henan, issuer):
    _approve(henan, issuer, ("金水区", "郑州市金水区重试一小"))
    ann = ann_services.announcement_publish(programme=henan, scope=issuer.scope, actor=issuer.actor)
    doc = announcement_document(ann.pk)
    now = timezone.now()
    assert claim_render(doc, now=now)
    assert not claim_render(doc, now=now + RENDER_STALE - dt.timedelta(seconds=1))
    assert claim_render(doc, now=now + RENDER_STALE + dt.timedelta(seconds=1))


def test_a_changed_list_is_a_new_document(henan, issuer):
    a1, a2 = _approve(
        henan, issuer, ("金水区", "郑州市金水区变更一小"), ("二七区", "郑州市二七区变更二小")
    )
    ann = ann_services.announcement_publish(programme=henan, scope=issuer.scope, actor=issuer.actor)
    before = announcement_document(ann.pk).key
    objection = ann_services.objection_record(
        announcement=ann, entry=ann.entries.get(application=a2), text="不符", contact="",
        scope=issuer.scope, actor=issuer.actor,
    )  # fmt: skip
    ann_services.objection_resolve(
        objection=objection, upheld=True, resolution="成立", scope=issuer.scope,
        actor=issuer.actor,
    )  # fmt: skip
    assert announcement_document(ann.pk).key != before
    render_published_task("announcement", str(ann.pk))
    text = squeeze(pdf_text(blob_read(StoredDocument.objects.get(
        key=announcement_document(ann.pk).key).blob)))  # fmt: skip
    assert "郑州市金水区变更一小" in text and "郑州市二七区变更二小" not in text


def test_a_form_is_rendered_once_until_an_input_changes(client):
    quanzhou = load("quanzhou-smart-campus-2018.toml")
    school = school_in(org("晋江市"), name="晋江市存储实验小学")
    app = submit_as(school, quanzhou, "school", school_name="晋江市存储实验小学")
    recommend(app, reviewer("晋江市"), opinion="晋江市教育局同意推荐。")
    city = reviewer("泉州市", Role.PROGRAMME_ADMIN)
    url = reverse("documents:application_form", args=[app.pk])
    login(client, city)

    before = pdf.render_count
    first = body(client.get(url))
    second = body(client.get(url))
    assert second == first and pdf.render_count == before + 1  # the second click: a copy
    key = stored_form(access_form_document(city.scope, app.pk)).key

    # A new opinion is a new input: a new key, and the form is rendered again.
    scoring.expert_group_opinion_record(
        application=app, text="专家组认为该校方案可行。", signed_by="专家甲", scope=city.scope,
        actor=city.actor,
    )  # fmt: skip
    assert stored_form(access_form_document(city.scope, app.pk)).key != key
    third = body(client.get(url))
    assert pdf.render_count == before + 2
    assert "专家组认为该校方案可行。" in squeeze(pdf_text(third))
    assert "专家组认为该校方案可行。" not in squeeze(pdf_text(first))
