"""Reads for certification, always through the request's scope.

``reads``: scoped querysets and fetch-by-id (404 outside the scope); ``school``: one
school's assessment for display; ``pages``: what each page shows and its buttons, from the
transition tables.
"""

from .pages import (
    batch_page,
    create_action,
    entry_page,
    filing_page,
    import_action,
    team_candidates,
)
from .reads import (
    DistrictRow,
    access_batch,
    access_correction,
    access_entry,
    access_import,
    access_source,
    access_visit,
    batch_overview,
    batches_for,
    entries_for,
    entries_of_school,
    filter_entries,
    imports_for,
    public_list,
    published_batches,
    queue_for,
    sources_for,
    standards,
    title_lists,
    visits_for_user,
)
from .school import EntryView, IndicatorRow, StandardSection, entry_view, source_labels

__all__ = [
    "DistrictRow",
    "EntryView",
    "IndicatorRow",
    "StandardSection",
    "access_batch",
    "access_correction",
    "access_entry",
    "access_import",
    "access_source",
    "access_visit",
    "batch_overview",
    "batch_page",
    "batches_for",
    "create_action",
    "entries_for",
    "entries_of_school",
    "entry_page",
    "entry_view",
    "filing_page",
    "filter_entries",
    "import_action",
    "imports_for",
    "public_list",
    "published_batches",
    "queue_for",
    "source_labels",
    "sources_for",
    "standards",
    "team_candidates",
    "title_lists",
    "visits_for_user",
]
