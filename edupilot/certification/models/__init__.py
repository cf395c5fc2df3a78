"""Smart-campus certification: standards, batches, data from other systems, assessment,
site verification, decisions and filing.

The shape follows the Hangzhou notice (杭教办发展〔2023〕146号): a city runs a batch with a
data cut-off date; schools (primary, secondary, secondary vocational; never kindergartens)
are certified by their district bureau, which files its results with the city, while the
city certifies its city-direct schools itself; holders of four titles are certified
automatically. Data comes from other systems' exports; the standard's rule gives a
provisional result; site verification may confirm or overturn indicators; the bureau decides.

``standards``: standards and indicators; ``batches``: batches, entries (a school in a
batch), decisions and filings; ``data``: sources and imports; ``checks``: corrections, site
visits, findings and evidence; ``selfassess``: a school's self-assessment with its
application (a batch of a programme with ``self_assessment = true``). The lifecycles of these rows are in ``workflows.py``.
"""

from .batches import (
    DEFAULT_BATCH_STAGES,
    Batch,
    BatchStandard,
    BatchState,
    Decision,
    Entry,
    EntryState,
    Filing,
    Provisional,
)
from .checks import (
    Correction,
    CorrectionState,
    Evidence,
    Finding,
    SiteVisit,
    Verdict,
    VisitState,
)
from .data import DataSource, ImportIssue, ImportRun, ImportState, SourceSystem
from .selfassess import SelfAssessment
from .standards import Indicator, Standard, StandardRole, Verification

__all__ = [
    "DEFAULT_BATCH_STAGES",
    "Batch",
    "BatchStandard",
    "BatchState",
    "Correction",
    "CorrectionState",
    "DataSource",
    "Decision",
    "Entry",
    "EntryState",
    "Evidence",
    "Filing",
    "Finding",
    "ImportIssue",
    "ImportRun",
    "ImportState",
    "Indicator",
    "Provisional",
    "SelfAssessment",
    "SiteVisit",
    "SourceSystem",
    "Standard",
    "StandardRole",
    "Verdict",
    "Verification",
    "VisitState",
]
