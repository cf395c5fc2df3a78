"""What every section of the certification services shares: refusals, links, evidence."""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Callable
from contextlib import contextmanager

from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record
from edupilot.core.errors import Denied, Refused, check

from .. import files
from ..models import Batch, Entry, EntryState, Evidence

__all__ = ["CHUNK", "Denied", "Progress", "Refused", "bulk_objects", "check", "today"]

CHUNK = 2000

Progress = Callable[..., None] | None


@contextmanager
def bulk_objects():
    """Pause the cyclic garbage collector while millions of small values are built.

    Imports and assessments create a few objects per value and free them together; with
    the collector on, its full passes over the growing heap cost more than the work itself.
    Nothing built here is cyclic, so reference counting frees it all.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def today() -> dt.date:
    return timezone.localdate()


def open_entry(entry: Entry) -> None:
    """Refuse, saying why, when a school's result can no longer change."""
    if entry.state == EntryState.EXEMPT:
        raise Refused(_("该校持有免于认定的称号，已自动认定"))
    if entry.state == EntryState.FILED:
        raise Refused(_("该校认定结果已报备，不能再更改"))


def advance_audited(
    obj,
    workflow,
    transition: str,
    *,
    actor: Actor,
    action: str,
    after: dict | None = None,
    **fields,
) -> None:
    """Take ``transition`` on the locked ``obj``, set and save ``fields`` with its state, and
    audit ``action`` from the old state to the new one (plus ``after``)."""
    before = getattr(obj, workflow.field)
    moved = workflow.advance(obj, transition)
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save(update_fields=[*moved, *fields])
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        before={"state": before},
        after={"state": getattr(obj, workflow.field), **(after or {})},
    )


def store_evidence(uploads, actor: Actor, **target) -> None:
    for filename, content in uploads:
        try:
            ctype = files.evidence_type(content, filename)
        except files.FileRefused as exc:
            raise Refused(str(exc)) from exc
        stored = files.store_file(content, ctype)
        Evidence.objects.create(
            file=stored, filename=filename[:255], uploaded_by=actor.user, **target
        )


def filing_link(batch: Batch) -> str:
    return reverse("certification:filing", args=[batch.pk])


def entry_link(entry: Entry) -> str:
    return reverse("certification:entry_detail", args=[entry.pk])


def visits_link() -> str:
    return reverse("certification:my_visits")


def dumps(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
