"""What the pilot page shows: the pilot, its period and each stage's section."""

from __future__ import annotations

from edupilot.programmes.pilot_schema import due_rule

from .pages_stages import stage_sections
from .pages_submissions import submission_sections


def pilot_page(scope, pilot) -> dict:
    spec = pilot.spec
    stages = spec.pipeline if spec else []
    return {
        "pilot": pilot,
        "stages": [
            {"key": s.key, "name": s.name, "kind": s.kind_label, "rule": due_rule(s)}
            for s in stages
        ],
        "sections": submission_sections(scope, pilot) + stage_sections(scope, pilot),
    }
