"""Evidence files of a rectification (整改佐证材料): PDFs the unit hands in with its answer to an
inspection's demands, stored through the application blob store (checked by content)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from edupilot.applications.files import UploadRejected, blob_store
from edupilot.audit.services import Actor, audit_record
from edupilot.core.errors import check
from edupilot.orgs.scoping import Scope, get_or_404

from .inspections import InspectionError, _lock, inspection_respond
from .models import Inspection, InspectionEvidence
from .permissions import can_respond_inspection
from .selectors import pilots_for

MAX_FILES = 10
MAX_MB = 20


@transaction.atomic
def inspection_evidence_add(
    *, inspection: Inspection, uploads: list, scope: Scope, actor: Actor
) -> list[InspectionEvidence]:
    """Store each upload for the unit's answer; a rejected file stores none of them."""
    ins = _lock(inspection)
    check(can_respond_inspection(scope, ins), InspectionError)
    if ins.evidence.count() + len(uploads) > MAX_FILES:
        raise InspectionError(
            _("佐证材料最多 %(max)s 个文件。") % {"max": MAX_FILES},
            {"evidence": [_("最多 %(max)s 个文件") % {"max": MAX_FILES}]},
        )
    stored = []
    for upload in uploads:
        try:
            blob = blob_store(upload, accept=["pdf"], max_mb=MAX_MB)
        except UploadRejected as exc:
            raise InspectionError(str(exc), {"evidence": [str(exc)]}) from exc
        stored.append(
            InspectionEvidence.objects.create(
                inspection=ins,
                blob=blob,
                filename=(getattr(upload, "name", "") or "file.pdf")[:255],
                uploaded_by=actor.user,
            )
        )
    for e in stored:
        audit_record(
            actor=actor,
            action="pilot.inspection.evidence",
            obj=ins,
            after={"filename": e.filename, "sha256": e.blob.sha256},
        )
    return stored


def access_evidence(scope: Scope, pk) -> InspectionEvidence:
    """One evidence file of an inspection of a pilot the scope sees (else 404)."""
    qs = InspectionEvidence.objects.select_related("blob", "inspection").filter(
        inspection__pilot__in=pilots_for(scope)
    )
    return get_or_404(qs, pk=pk)


@transaction.atomic
def inspection_answer(
    *, inspection: Inspection, response: str, uploads: list, scope: Scope, actor: Actor
) -> Inspection:
    """The unit's answer with its evidence, in one transaction: a refused answer (no text, a
    bad file) stores nothing."""
    if uploads:
        inspection_evidence_add(inspection=inspection, uploads=uploads, scope=scope, actor=actor)
    return inspection_respond(inspection=inspection, response=response, scope=scope, actor=actor)
