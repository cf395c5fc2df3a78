"""The blob store survives crashes: a writer killed anywhere never leaves a corrupt file served.

``test_writer_killed_at_many_steps`` posts the edit page (changed text and a PDF) in a real
process and kills it with SIGKILL at one line after another along the blob store's write path in turn; after
each kill the draft's new text is there, and every stored blob is served whole or not at all.
"""

from __future__ import annotations

import hashlib
import io
import os

import pikepdf
import pytest
from django.core.files.storage import default_storage

from edupilot.applications import files
from edupilot.applications.models import Application, Attachment, Blob
from edupilot.programmes.models import Programme
from tests.conftest import make_school, org
from tests.crash import CrashChild

from .conftest import SCHOOL_FORM, Who, upload
from .test_flow import attach, start

WRITE_PATH = ["blob_store", "_blob_put", "_stored_intact", "_write_atomically"]


def _big_pdf(n: int) -> bytes:
    """A PDF several write chunks long, different for each ``n``."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    lines = (f"% {n} {hashlib.sha256(f'{n}-{i}'.encode()).hexdigest()}\n" for i in range(3000))
    pdf.pages[0].Contents = pdf.make_stream("".join(lines).encode())
    buf = io.BytesIO()
    pdf.save(buf, compress_streams=False, deterministic_id=True)
    return buf.getvalue()


def _served(client, attachment: Attachment):
    r = client.get(f"/applications/{attachment.application_id}/files/{attachment.pk}/")
    body = b"".join(r.streaming_content) if r.streaming else r.content
    return r.status_code, body


def _no_corrupt_blob_served(client, app: Application) -> None:
    for attachment in Attachment.objects.filter(application=app).select_related("blob"):
        status, body = _served(client, attachment)
        assert status == 200, body[:200]
        assert hashlib.sha256(body).hexdigest() == attachment.blob.sha256
        assert len(body) == attachment.blob.size
    # No file under a hash name holds other content than that hash.
    for blob in Blob.objects.all():
        assert files._stored_intact(blob.storage_name, blob.sha256, blob.size)


@pytest.mark.django_db(transaction=True)
def test_writer_killed_at_many_steps(transactional_seeded, tmp_path, client):
    from django.core.management import call_command

    call_command("programme", "load", "--all", "--open-now", verbosity=0)
    henan = Programme.objects.get(code="henan-tencent-2019")
    school = Who(make_school(org("金水区"), name="郑州市金水区崩溃测试小学"), username="crash1")
    app = start(school, henan)
    client.force_login(school.user)

    child = CrashChild()
    try:

        def post(n: int, kill_at: int | None) -> dict:
            pdf = tmp_path / f"{n}.pdf"
            pdf.write_bytes(_big_pdf(n))
            return child.run(
                {
                    "op": "upload",
                    "application": app.pk,
                    "user": school.user.pk,
                    "pdf": str(pdf),
                    "file_field": "a-form_scan",
                    "form": {**SCHOOL_FORM, "f-principal": f"第{n}任校长"},
                    "kill_at": kill_at,
                    "module": "applications/files.py",
                    "functions": WRITE_PATH,
                    "entry": "edupilot.applications.services:blob_store",
                }
            )

        whole = post(0, None)
        assert not whole["killed"] and whole["exit"] == 0, whole["output"]
        points = whole["events"]
        assert points and points > 20  # the write path has many steps to stop at
        app.refresh_from_db()
        assert app.data["principal"] == "第0任校长"
        _no_corrupt_blob_served(client, app)

        # Every third step (the steps differ little more finely; each try forks a request).
        for n in range(1, points + 1, 3):
            result = post(n, n)
            assert result["killed"], f"not killed at step {n}: {result['output']}"
            app.refresh_from_db()
            # The text was saved before the file was written; a crash in the write keeps it.
            assert app.data["principal"] == f"第{n}任校长"
            _no_corrupt_blob_served(client, app)

        # After all those crashes the next upload of any of the files goes through whole.
        again = post(points // 2, None)
        assert not again["killed"] and again["exit"] == 0, again["output"]
        current = Attachment.objects.get(application=app, is_current=True)
        sent = (tmp_path / f"{points // 2}.pdf").read_bytes()
        assert current.blob.sha256 == hashlib.sha256(sent).hexdigest()
        _no_corrupt_blob_served(client, app)
    finally:
        child.close()


@pytest.fixture
def draft(school, henan):
    return start(school, henan)


def _plant(name: str, content: bytes) -> None:
    path = default_storage.path(name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(content)


def test_a_partial_file_planted_under_the_hash_name_is_replaced(school, draft, client):
    content = _big_pdf(7001)
    sha = hashlib.sha256(content).hexdigest()
    name = files.blob_name(sha, "application/pdf")
    _plant(name, content[: len(content) // 2])  # a write cut short, or a file planted there

    a = attach(school, draft, f=upload(content=content))
    assert a.blob.sha256 == sha
    with default_storage.open(name, "rb") as fh:
        assert fh.read() == content
    client.force_login(school.user)
    status, body = _served(client, a)
    assert status == 200 and body == content


def test_a_damaged_stored_file_is_never_served_and_a_new_upload_repairs_it(school, draft, client):
    content = _big_pdf(7002)
    a = attach(school, draft, f=upload(content=content))
    _plant(a.blob.storage_name, content[:1000] + b"x" * (len(content) - 1000))  # same size

    client.force_login(school.user)
    status, body = _served(client, a)
    assert status == 500
    assert "已损坏或丢失" in body.decode()

    default_storage.delete(a.blob.storage_name)
    status, body = _served(client, a)
    assert status == 500

    again = attach(school, draft, f=upload(content=content))
    assert again.blob_id == a.blob_id
    status, body = _served(client, a)
    assert status == 200 and body == content
