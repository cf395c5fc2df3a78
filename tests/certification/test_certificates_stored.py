"""Certificates are stored PDFs: rendered once (at publication or on the first click)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from edupilot.certification import services
from edupilot.certification.certificates import final_certified, render_certificates_task
from edupilot.documents import pdf
from edupilot.documents.models import StoredDocument

from .conftest import GOOD, acting, export_rows

pytestmark = pytest.mark.django_db


def test_a_certificate_is_rendered_once_and_again_when_what_it_prints_changes(hz, client):
    hz.import_file(export_rows([("HZCD001", "", GOOD)]))
    client.force_login(hz.city_reviewer)
    direct = hz.entry(hz.cd_senior)
    services.entry_decide(
        entry=direct, decision="certified", opinion="达标", **acting(hz.city_reviewer, hz.city)
    )
    url = reverse("certification:certificate", args=[direct.pk])
    before = pdf.render_count
    first = client.get(url).content
    assert client.get(url).content == first and pdf.render_count == before + 1

    hz.cd_senior.name = "杭州市第一中学（更名）"
    hz.cd_senior.save(update_fields=["name"])
    renamed = client.get(url).content
    assert renamed != first and pdf.render_count == before + 2


def test_publication_renders_every_final_certificate_in_the_background(hz):
    hz.import_file(export_rows([("HZCD001", "", GOOD)]))
    direct = hz.entry(hz.cd_senior)
    services.entry_decide(
        entry=direct, decision="certified", opinion="达标", **acting(hz.city_reviewer, hz.city)
    )
    batch = direct.batch
    entries = list(final_certified(batch))
    assert direct in entries and all(e.is_final for e in entries)
    before = pdf.render_count
    assert render_certificates_task.call_local(batch.pk) == len(entries)
    assert pdf.render_count == before + len(entries)
    stored = StoredDocument.objects.filter(kind="certificate", blob__isnull=False)
    assert stored.count() == len(entries)
    assert render_certificates_task.call_local(batch.pk) == len(entries)
    assert pdf.render_count == before + len(entries)  # the second run finds them stored
