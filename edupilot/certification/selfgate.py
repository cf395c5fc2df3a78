"""The application gate of a batch whose programme asks schools to assess themselves.

A certification programme's ``[[batches]]`` entry may say ``self_assessment = true`` (with
``self_min_percent`` / ``self_min_score`` / ``self_closes``, docs/programme-format.md). A
certification batch running that programme batch (``Batch.programme_batch``) then assesses
and certifies only the schools whose submitted self-assessment passes the gate; the others'
result is 未达到标准 with the reason (未提交自评 / 自评未达到申报条件), which the decision,
the school list and the results export show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from edupilot.core.numbers import plain

from .models import Batch, SelfAssessment

NOT_SUBMITTED = "未提交自评：本批次须先提交学校自评方可参加认定"


@dataclass(frozen=True)
class SelfRules:
    """What the programme file says for one batch."""

    min_percent: Decimal | None
    min_score: Decimal | None
    closes: dt.date | None
    text: str

    def closes_on(self, batch: Batch) -> dt.date:
        """The last day a school may submit: the file's ``self_closes``, else the cut-off."""
        return self.closes or batch.cutoff


def rules_for(batch: Batch) -> SelfRules | None:
    """The batch's self-assessment rules, or None when its programme batch asks for none."""
    if not batch.programme_id or not batch.programme_batch:
        return None
    pb = batch.programme.batch_spec(batch.programme_batch)
    if pb is None or not pb.self_assessment:
        return None
    return SelfRules(pb.self_min_percent, pb.self_min_score, pb.self_closes, pb.self_gate_text())


def gate_reason(rules: SelfRules, sa: SelfAssessment | None) -> str:
    """Why the school may not be certified in this batch; empty when its self-score passes."""
    if sa is None or sa.submitted_at is None:
        return NOT_SUBMITTED
    got = f"自评总分 {plain(sa.total)}/{plain(sa.max_total)}"
    if rules.min_percent is not None:
        percent = Decimal(str(sa.percent or 0))
        if percent + Decimal("1e-9") < rules.min_percent:
            return (
                f"自评未达到申报条件：{got}（得分率 {plain(percent)}%），"
                f"须不低于 {plain(rules.min_percent)}%"
            )
    if rules.min_score is not None and sa.total < rules.min_score:
        return f"自评未达到申报条件：{got}，须不低于 {plain(rules.min_score)} 分"
    return ""


def gate_reasons(batch: Batch, entry_ids: Iterable[int]) -> dict[int, str] | None:
    """entry id → gate reason ("" passes) for these entries; None when the batch has no gate."""
    rules = rules_for(batch)
    if rules is None:
        return None
    ids = list(entry_ids)
    found = {sa.entry_id: sa for sa in SelfAssessment.objects.filter(entry_id__in=ids)}
    return {pk: gate_reason(rules, found.get(pk)) for pk in ids}
