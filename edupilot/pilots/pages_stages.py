"""The pilot page's sections for inspections, acceptance, titles and awards."""

from __future__ import annotations


def stage_sections(scope, pilot) -> list[dict]:
    return []
