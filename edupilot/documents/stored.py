"""Documents rendered once and served as files: published lists, certificates, forms.

A document is described by a :class:`Stored`: its kind, its object, the sha256 of every input
it prints (:func:`document_key`), its file name and how to render it. Then:

- :func:`serve_or_start` (published documents, anonymous readers): the stored file when there
  is one; otherwise the render is started in the background, or joined if it is running, and
  the caller shows a "please wait" page that refreshes itself;
- :func:`serve_or_render` (forms: one reader, rendered on demand): the stored file, or render
  now, store, and serve;
- :func:`ensure_stored` (the background task): render and store unless already stored.

:func:`from_inputs` describes a document by the inputs it prints (forms, announcements);
:func:`from_template` by the HTML its template prints (certificates).

Files go to the blob store (``applications.files``: content-addressed, written once); the
``StoredDocument`` row maps a key to its blob. Nothing here checks access: callers fetch the
object through their scope or the public selector first, and everything a reader's scope
changes in the document (an opinion only the issuer sees) is an input, so it is in the key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

import edupilot
from edupilot.applications.files import blob_read, blob_store_bytes
from edupilot.applications.models import Blob

from .models import StoredDocument
from .pdf import PDF_CONTENT_TYPE, pdf_response, render_pdf

logger = logging.getLogger(__name__)

# A render silent this long is taken to have died (worker restart); the next reader restarts it.
RENDER_STALE = dt.timedelta(minutes=5)
# Bump when a template changes what it prints, so stored files of the old layout are not
# served again (a release does this too: the version is part of every key).
LAYOUT_VERSION = 1


@dataclass
class Stored:
    kind: str
    object_id: str
    key: str
    filename: str
    render: Callable[[], bytes]
    inline: bool = False


def document_key(kind: str, object_id, inputs) -> str:
    """sha256 of a document's kind, object and inputs (JSON; dates and the like as text)."""
    payload = json.dumps(
        [edupilot.__version__, LAYOUT_VERSION, kind, str(object_id), inputs],
        default=str,
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def from_inputs(
    kind: str, object_id, inputs, filename: str, render: Callable[[], bytes], *, inline=False
) -> Stored:
    """A document keyed by ``inputs``: everything it prints but its generation time."""
    return Stored(
        kind=kind,
        object_id=str(object_id),
        key=document_key(kind, object_id, inputs),
        filename=filename,
        render=render,
        inline=inline,
    )


def from_template(
    kind: str,
    object_id,
    template: str,
    context: dict,
    filename: str,
    *,
    stamp: dict,
    inline: bool = False,
) -> Stored:
    """A document keyed by the HTML its template prints: whatever it prints is in the key.

    ``stamp`` holds what only says when the file was made (``{"today": date}``): it is left
    out of the key's HTML and given to the render, so the stored file tells its own date.
    Rendering the template costs milliseconds; laying it out as PDF, a second.
    """
    blank = render_to_string(template, {**context, **dict.fromkeys(stamp)})
    return from_inputs(
        kind,
        object_id,
        hashlib.sha256(blank.encode()).hexdigest(),
        filename,
        lambda: render_pdf(template, {**context, **stamp}),
        inline=inline,
    )


def stored_blob(key: str) -> Blob | None:
    row = StoredDocument.objects.filter(key=key, blob__isnull=False).select_related("blob").first()
    return row.blob if row is not None else None


def file_response(blob: Blob, filename: str, *, inline: bool = False) -> HttpResponse:
    """The stored PDF as a response (read whole: a few hundred KB, like a fresh render)."""
    response = pdf_response(blob_read(blob), filename, inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _keep(doc: Stored, content: bytes) -> Blob:
    blob = blob_store_bytes(content, PDF_CONTENT_TYPE)
    fields = {"kind": doc.kind, "object_id": doc.object_id, "blob": blob}
    try:
        with transaction.atomic():
            StoredDocument.objects.update_or_create(key=doc.key, defaults=fields)
    except IntegrityError:
        # Two first clicks rendered at once and the other one stored first: keep ours too.
        StoredDocument.objects.filter(key=doc.key).update(**fields)
    return blob


def ensure_stored(doc: Stored) -> Blob:
    """Render ``doc`` and store it, unless it is stored already (the background task)."""
    blob = stored_blob(doc.key)
    if blob is None:
        blob = _keep(doc, doc.render())
    return blob


def stored_content(doc: Stored) -> bytes:
    """The stored file's bytes, or render now and keep them (a batch of forms in a ZIP)."""
    blob = stored_blob(doc.key)
    if blob is not None:
        return blob_read(blob)
    content = doc.render()
    _keep(doc, content)
    return content


def serve_or_render(doc: Stored) -> HttpResponse:
    """The stored file, or render it now, keep it and serve it (documents one reader asks for)."""
    blob = stored_blob(doc.key) or _keep(doc, doc.render())
    return file_response(blob, doc.filename, inline=doc.inline)


def claim_render(doc: Stored, *, now: dt.datetime | None = None) -> bool:
    """Mark ``doc`` as being rendered; False if a render is already under way (join it)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            StoredDocument.objects.create(
                key=doc.key, kind=doc.kind, object_id=doc.object_id, render_started_at=now
            )
        return True
    except IntegrityError:
        # Someone claimed it: restart only a render that has gone silent (its worker died).
        return bool(
            StoredDocument.objects.filter(key=doc.key, blob__isnull=True)
            .filter(render_started_at__lt=now - RENDER_STALE)
            .update(render_started_at=now)
        )


def serve_or_start(doc: Stored, start: Callable[[], None]) -> HttpResponse | None:
    """The stored file, or None after starting (``start``, on commit) or joining its render."""
    blob = stored_blob(doc.key)
    if blob is not None:
        return file_response(blob, doc.filename, inline=doc.inline)
    if claim_render(doc):
        transaction.on_commit(start)
    return None
