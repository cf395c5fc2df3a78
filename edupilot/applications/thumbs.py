"""Thumbnails of uploaded photos for reviewers: made once in the bounded child, then kept.

A thumbnail is a small JPEG decoded and re-encoded by Pillow in ``evidencecheck``'s child
process (the same limits as the upload check), from the stored image after its sha256 was
verified. It is kept beside the blobs under the source's sha256 (``thumbs/ab/cd/<sha>.jpg``),
so each image is decoded once however many reviewers open the page.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpResponse

from .bounded import Refused
from .evidencecheck import THUMB_PX, make_thumbnail
from .files import WRITE_CHUNK, BlobDamaged, _write_atomically, blob_open
from .models import Blob

log = logging.getLogger(__name__)


def thumb_name(blob: Blob) -> str:
    sha = blob.sha256
    return f"thumbs/{sha[:2]}/{sha[2:4]}/{sha}-{THUMB_PX}.jpg"


def thumbnail_bytes(blob: Blob) -> bytes | None:
    """The JPEG thumbnail of a stored image (made and kept on first use); None when the blob
    is not an image or cannot be read."""
    if not blob.content_type.startswith("image/"):
        return None
    name = thumb_name(blob)
    try:
        with default_storage.open(name, "rb") as fh:
            return fh.read()
    except (FileNotFoundError, OSError):
        pass
    with tempfile.TemporaryDirectory() as tmp:
        source, out = os.path.join(tmp, "source"), os.path.join(tmp, "thumb.jpg")
        try:
            with blob_open(blob) as fh, open(source, "wb") as dst:
                for chunk in iter(lambda: fh.read(WRITE_CHUNK), b""):
                    dst.write(chunk)
            make_thumbnail(source, out, max_pixels=settings.EDUPILOT_IMAGE_MAX_PIXELS)
            with open(out, "rb") as fh:
                data = fh.read()
        except (BlobDamaged, Refused, OSError) as exc:
            log.error("no thumbnail for blob %s: %r", blob.sha256, exc)
            return None
    _write_atomically(io.BytesIO(data), name, hashlib.sha256(data).hexdigest(), len(data))
    return data


def thumbnail_response(attachment) -> HttpResponse:
    """The thumbnail of an uploaded photo (the caller checked access); 404 for other files."""
    data = thumbnail_bytes(attachment.blob)
    if data is None:
        return HttpResponse(status=404)
    response = HttpResponse(data, content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=86400"
    return response
