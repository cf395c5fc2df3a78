"""Pages for certification. Thin: fetch through selectors (scoped), act through services.

An object outside the user's scope is a 404; an action the user may not take on an object
it can see (a city reviewer deciding a district's school) is a 403 naming who may. A page
action is :func:`edupilot.core.actions.run_action` around one service call; the buttons a
page shows come from the transition tables (``workflows.py``) through the selectors.

One module per section: batches (with filing), imports (with data sources), standards,
entries (one school: corrections, site visits, decision, documents), public.
"""

from .batches import (
    batch_adopt,
    batch_assess,
    batch_create,
    batch_detail,
    batch_export,
    batch_freeze,
    batch_publish,
    batch_sync,
    entries_decide,
    entry_list,
    filing,
    home,
    titles_import,
)
from .entries import (
    certificate_pdf,
    correction_decide,
    correction_file,
    entry_decide,
    entry_detail,
    evidence_download,
    finding_record,
    my_visits,
    school_report,
    self_assessment,
    visit_assign,
    visit_complete,
)
from .imports import import_detail, import_list, source_edit, source_list
from .public import public_batch, public_index
from .standards import standard_detail, standard_list

__all__ = [
    "batch_adopt",
    "batch_assess",
    "batch_create",
    "batch_detail",
    "batch_export",
    "batch_freeze",
    "batch_publish",
    "batch_sync",
    "certificate_pdf",
    "correction_decide",
    "correction_file",
    "entries_decide",
    "entry_decide",
    "entry_detail",
    "entry_list",
    "evidence_download",
    "filing",
    "finding_record",
    "home",
    "import_detail",
    "import_list",
    "my_visits",
    "public_batch",
    "public_index",
    "school_report",
    "self_assessment",
    "source_edit",
    "source_list",
    "standard_detail",
    "standard_list",
    "titles_import",
    "visit_assign",
    "visit_complete",
]
