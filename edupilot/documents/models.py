"""Rendered documents kept once, so that a click serves a file instead of rendering again."""

from __future__ import annotations

from django.db import models


class StoredDocument(models.Model):
    """One rendering of a document with given inputs, or the claim of a render under way.

    ``key`` is the sha256 of the document's kind, its object and everything it prints (see
    :func:`edupilot.documents.stored.document_key`): a change of any input is a new key, so a
    stored file is never stale. ``blob`` is empty while the first render runs in the
    background; ``render_started_at`` lets a later request join that render instead of
    starting another, and start it again when it has been silent too long.
    """

    key = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    blob = models.ForeignKey(
        "applications.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    render_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "object_id"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}:{self.key[:12]}"
