"""The pilot period: what happens to an approved application after the final list.

- :class:`Pilot` — one approved unit in one programme and category, from the final list to
  its closing (accepted with a grade, or failed);
- :class:`Submission` — what the unit hands in at a stage of ``[[pilot.stages]]``: the
  implementation plan, a periodic report for one period, the acceptance summary and
  materials, a case; one lifecycle (draft → submitted → accepted / returned), every
  submission frozen as a :class:`SubmissionVersion`;
- :class:`Inspection` — a site visit or document check, its findings and rectification;
- :class:`AcceptanceReview` / :class:`AcceptanceScore` — the acceptance panel's experts;
- :class:`Honour` — a title or an achievement listing proposed, announced (公示) and final;
- :class:`Award` — 以奖代补 amounts, within the stage's budget (:class:`AwardBudget`).
"""

from .acceptance import AcceptanceReview, AcceptanceScore
from .honours import (
    Award,
    AwardBudget,
    Honour,
    HonourObjection,
    HonourObjectionState,
    HonourState,
)
from .inspections import Inspection, InspectionEvidence, InspectionState
from .pilot import Pilot, PilotState
from .submissions import Submission, SubmissionAttachment, SubmissionState, SubmissionVersion

__all__ = [
    "AcceptanceReview",
    "AcceptanceScore",
    "Award",
    "AwardBudget",
    "Honour",
    "HonourObjection",
    "HonourObjectionState",
    "HonourState",
    "Inspection",
    "InspectionEvidence",
    "InspectionState",
    "Pilot",
    "PilotState",
    "Submission",
    "SubmissionAttachment",
    "SubmissionState",
    "SubmissionVersion",
]
