"""Writes for certification: one function per transition of ``workflows.py``.

Each takes the scope the user acts through (``None``: the command line or the demo) and
the actor for the audit trail; it locks the row, checks permission with the
``permissions.can_…`` predicate (a refusal is :class:`Denied`, 403), checks the state through
the transition table, changes rows inside one transaction and writes the audit event there.
Other refusals raise :class:`Refused` with a Chinese message that the page shows as is;
nothing is changed.

The sections, one module each: standards, batches (with exempting titles and the roster),
assessment, imports (with data sources), corrections, visits (site verification),
decisions (with filing), the school's self-assessment (selfassess). Callers use this package: ``services.batch_create(...)``.
"""

from .assessment import (
    AssessReport,
    BatchPlan,
    assess_entries,
    batch_assess,
    batch_assess_start,
    plain_values,
)
from .batches import (
    RosterReport,
    batch_adopt_standard,
    batch_create,
    batch_freeze,
    batch_publish,
    batch_sync_roster,
    certifier_for,
    certifiers_under,
    school_in_scope,
    titles_import,
)
from .common import CHUNK, Denied, Refused, bulk_objects, dumps, today
from .corrections import correction_decide, correction_file
from .decisions import BulkOutcome, entries_decide_bulk, entry_decide, filing_return, filing_submit
from .imports import (
    ImportStart,
    build_roster,
    import_execute,
    import_prepare,
    import_submit,
    mapping_sha256,
    source_save,
)
from .selfassess import (
    SelfAssessmentInvalid,
    SelfItem,
    closed_reason,
    self_assessment_save,
    self_items,
)
from .standards import StandardOutcome, resolved_from_db, standard_load
from .visits import data_outcome, finding_record, team_member_q, visit_assign, visit_complete

__all__ = [
    "CHUNK",
    "AssessReport",
    "BatchPlan",
    "Denied",
    "ImportStart",
    "Refused",
    "RosterReport",
    "SelfAssessmentInvalid",
    "SelfItem",
    "StandardOutcome",
    "assess_entries",
    "batch_adopt_standard",
    "batch_assess",
    "batch_assess_start",
    "batch_create",
    "batch_freeze",
    "batch_publish",
    "batch_sync_roster",
    "build_roster",
    "bulk_objects",
    "certifier_for",
    "certifiers_under",
    "closed_reason",
    "correction_decide",
    "correction_file",
    "data_outcome",
    "dumps",
    "BulkOutcome",
    "entries_decide_bulk",
    "entry_decide",
    "filing_return",
    "filing_submit",
    "finding_record",
    "import_execute",
    "import_prepare",
    "import_submit",
    "mapping_sha256",
    "plain_values",
    "resolved_from_db",
    "school_in_scope",
    "self_assessment_save",
    "self_items",
    "source_save",
    "standard_load",
    "team_member_q",
    "titles_import",
    "today",
    "visit_assign",
    "visit_complete",
]
