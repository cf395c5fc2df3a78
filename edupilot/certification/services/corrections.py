"""Corrections: a school asks, before the cut-off, to correct one of its values, with evidence;
its certifier accepts (the value replaces the imported one) or rejects with a reason."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record
from edupilot.core.notifications import notify
from edupilot.orgs.models import Role
from edupilot.orgs.scoping import Scope

from .. import engine
from ..models import Batch, Correction, CorrectionState, Entry
from ..permissions import BUREAU_ROLES, can_decide_correction, can_file_correction
from ..workflows import CORRECTION
from .assessment import BatchPlan, assess_entries
from .common import Refused, advance_audited, check, entry_link, store_evidence, today


def _indicator_for(entry: Entry, code: str) -> dict:
    plan = BatchPlan(entry.batch)
    for standard in plan.standards_for(entry.certifier_id, entry.stage_list):
        ind = standard.by_code.get(code)
        if ind is not None:
            return {
                "code": ind.code,
                "name": ind.name,
                "measure": ind.measure,
                "levels": ind.levels,
            }
    raise Refused(_("指标 %(code)s 不在该校适用的认定标准中") % {"code": code})


def _proposed_value(entry: Entry, indicator: str, raw_value: Any):
    ind = _indicator_for(entry, indicator)
    try:
        value = engine.parse_value(ind["measure"], ind["levels"], raw_value)
    except engine.ValueError_ as exc:
        raise Refused(_("更正值：%(error)s") % {"error": exc}) from exc
    if value is None:
        raise Refused(_("请填写更正后的数值"))
    return value


@transaction.atomic
def correction_file(
    *,
    entry: Entry,
    indicator: str,
    raw_value: Any,
    reason: str,
    evidence: list[tuple[str, bytes]],
    scope: Scope | None,
    actor: Actor,
) -> Correction:
    """A school asks, before the cut-off, to correct one of its values, with evidence."""
    check(can_file_correction(scope, entry))
    batch = Batch.objects.get(pk=entry.batch_id)
    if batch.is_frozen:
        raise Refused(_("本批次数据已冻结，不能再提交更正"))
    if today() > batch.cutoff:
        raise Refused(
            _("已过数据统计截止日（%(cutoff)s），不能再提交更正") % {"cutoff": batch.cutoff}
        )
    value = _proposed_value(entry, indicator, raw_value)
    if not reason.strip():
        raise Refused(_("请填写更正理由"))
    if not evidence:
        raise Refused(_("请上传证明材料（PDF 或图片）"))
    if entry.corrections.filter(indicator=indicator, state=CorrectionState.PENDING).exists():
        raise Refused(_("指标 %(indicator)s 已有一条待处理的更正") % {"indicator": indicator})
    current = entry.data.get(indicator)
    correction = Correction.objects.create(
        entry=entry,
        indicator=indicator,
        current_value=current[0] if current else None,
        proposed_value=value,
        reason=reason.strip(),
        state=CORRECTION.initial("file"),
        filed_by=actor.user,
        filed_at=timezone.now(),
    )
    store_evidence(evidence, actor, correction=correction)
    audit_record(
        actor=actor,
        action="certification.correction_file",
        obj=correction,
        after={
            "entry": entry.pk,
            "indicator": indicator,
            "current": correction.current_value,
            "proposed": value,
            "evidence": len(evidence),
        },
    )
    notify(
        orgs=[entry.certifier_id],
        roles=BUREAU_ROLES,
        event="certification.correction_filed",
        title=f"{entry.school.name}申请更正指标 {indicator} 的数据",
        body=f"更正理由：{correction.reason}",
        link=entry_link(entry),
    )
    return correction


@transaction.atomic
def correction_decide(
    *, correction: Correction, accept: bool, response: str, scope: Scope | None, actor: Actor
) -> Correction:
    """The certifying bureau accepts (the value replaces the imported one) or rejects."""
    correction = Correction.objects.select_for_update().get(pk=correction.pk)
    entry = Entry.objects.select_for_update().get(pk=correction.entry_id)
    correction.entry = entry
    check(can_decide_correction(scope, correction))
    if correction.state != CorrectionState.PENDING:
        raise Refused(_("该更正已处理"))
    if entry.batch.is_frozen:
        raise Refused(_("本批次数据已冻结，不能再处理更正"))
    if not accept and not response.strip():
        raise Refused(_("不予采纳时请填写理由"))
    advance_audited(
        correction,
        CORRECTION,
        "accept" if accept else "reject",
        actor=actor,
        action="certification.correction_decide",
        after={"response": response.strip()},
        response=response.strip(),
        decided_by=actor.user,
        decided_at=timezone.now(),
    )
    if accept:
        entry.data[correction.indicator] = [
            correction.proposed_value,
            f"c{correction.pk}",
            timezone.localtime(correction.filed_at).date().isoformat(),
        ]
        entry.save(update_fields=["data", "updated_at"])
    if accept:
        assess_entries(batch=entry.batch, entry_ids=[entry.pk])
    outcome = "已采纳" if accept else "未予采纳"
    notify(
        users=[correction.filed_by_id] if correction.filed_by_id else (),
        orgs=[entry.school_id],
        roles=[Role.APPLICANT],
        event="certification.correction_decided",
        title=f"指标 {correction.indicator} 的数据更正{outcome}",
        body=correction.response,
        link=entry_link(entry),
    )
    return correction
