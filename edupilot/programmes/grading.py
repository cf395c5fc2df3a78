"""Graded outcomes, one construct for every place a notice grades a unit: the expert review
of a selection (``[[rubric.grades]]``), a certification standard (``[[rule.grades]]`` in a
standard file) and a pilot's acceptance (``grades`` of an acceptance stage).

A grade is reached by a score band (``min_percent`` of the total), by its gate
(``all_mandatory``: every mandatory item met) or both; a grade with neither is a named level
reached by anything that reaches the grades' place at all (合格 under 示范). Grades are listed
from the highest down and the first one whose conditions hold is the unit's::

    grades = [
      { key = "five", name = "五星", min_percent = 90, all_mandatory = true },
      { key = "four", name = "四星", min_percent = 80, all_mandatory = true },
      { key = "three", name = "三星", min_percent = 70 },
    ]
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from pydantic import Field

from edupilot.core.numbers import plain

from .schema_base import Key, LocatedValueError, Strict

RESULT_LABELS = {"pass": "通过", "rectify": "整改", "fail": "不通过"}


class GradeSpec(Strict):
    """One grade. ``result``: ``pass``, ``rectify`` (rectification, then a new assessment; an
    acceptance only) or ``fail``."""

    key: Key
    name: str = Field(min_length=1, max_length=30)
    min_percent: Decimal | None = Field(default=None, ge=0, le=100)
    # The gate: every mandatory (veto) item must be met for this grade.
    all_mandatory: bool = False
    result: Literal["pass", "rectify", "fail"] = "pass"
    description: str = Field(default="", max_length=300)

    def describe(self) -> str:
        """The grade's conditions in words, for ``programme show`` and the pages."""
        parts = []
        if self.min_percent is not None:
            parts.append(f"得分率 ≥ {plain(self.min_percent)}%")
        if self.all_mandatory:
            parts.append("必达项全部达标")
        return "，".join(parts) or "（命名等级，无分数线）"


def check_grades(
    grades: Sequence[GradeSpec],
    loc: tuple,
    *,
    scored: bool,
    has_mandatory: bool,
    what: str = "等级",
) -> None:
    """Raise LocatedValueError at the offending grade: duplicate keys, bands not from the
    highest down, a band without a score to take a share of, a gate with nothing mandatory."""
    seen: set[str] = set()
    previous: Decimal | None = None
    for i, g in enumerate(grades):
        if g.key in seen:
            raise LocatedValueError(f"{what} {g.key} 重复", (*loc, i, "key"))
        seen.add(g.key)
        if g.min_percent is not None:
            if not scored:
                raise LocatedValueError(
                    f"{what} {g.key} 按得分划分（min_percent），但这里没有可计分的评分项或指标",
                    (*loc, i, "min_percent"),
                )
            if previous is not None and g.min_percent >= previous:
                raise LocatedValueError(
                    f"{what}须从高到低排列：{g.key} 的 min_percent（{plain(g.min_percent)}）"
                    f"应低于上一等级（{plain(previous)}）",
                    (*loc, i, "min_percent"),
                )
            previous = g.min_percent
        if g.all_mandatory and not has_mandatory:
            raise LocatedValueError(
                f"{what} {g.key} 要求必达项全部达标（all_mandatory），但没有任何必达项",
                (*loc, i, "all_mandatory"),
            )


def check_mandatory_mins(criteria, what: str) -> None:
    """Raise LocatedValueError at a criterion whose 必达分 (``mandatory_min``) exceeds its
    points; ``what`` names the criteria (评分项, 验收评分项)."""
    for i, c in enumerate(criteria):
        if c.mandatory_min is not None and c.mandatory_min > c.max:
            raise LocatedValueError(
                f"{what} {c.key} 的必达分（{c.mandatory_min}）超过满分（{c.max}）",
                ("criteria", i, "mandatory_min"),
            )


def grade_for(
    grades: Sequence[GradeSpec],
    percent: Decimal | float | None,
    *,
    mandatory_met: bool = True,
    extra=None,
) -> GradeSpec | None:
    """The first (highest) grade whose band and gate hold; None when none does.

    ``percent`` None (no score yet) reaches no score band. ``extra(grade) -> bool`` is a
    further condition of the caller's (a standard's CEL ``expr``)."""
    for g in grades:
        if g.min_percent is not None and (
            percent is None or Decimal(str(percent)) + Decimal("1e-9") < g.min_percent
        ):
            continue
        if g.all_mandatory and not mandatory_met:
            continue
        if extra is not None and not extra(g):
            continue
        return g
    return None


def grades_text(grades: Sequence[GradeSpec]) -> str:
    return "；".join(f"{g.name}（{g.describe()}）" for g in grades)
