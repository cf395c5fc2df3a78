"""Standards: load a standard file (TOML or XLSX) and keep derived standards consistent."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record
from edupilot.orgs.scoping import Scope
from edupilot.programmes.quotas import QuotaResolveError, resolve_org

from ..models import Batch, BatchStandard, BatchState, Indicator, Standard
from ..permissions import can_load_standard
from ..standards import (
    DimensionSpec,
    ParsedStandard,
    ResolvedIndicator,
    ResolvedStandard,
    StandardFileInvalid,
    StandardSpec,
    resolve,
)
from .common import Refused, check


@dataclass(frozen=True)
class StandardOutcome:
    standard: Standard
    action: str  # created, updated, unchanged


class _NoIndex:
    def __init__(self, name: str):
        self.name = name

    def line_for(self, loc):
        return None

    def file_for(self, loc):
        return self.name


def resolved_from_db(standard: Standard) -> ResolvedStandard:
    spec = StandardSpec.model_validate(standard.spec)
    dims = [DimensionSpec(**d) for d in standard.dimensions]
    fields = ResolvedIndicator.__dataclass_fields__
    inds = [
        ResolvedIndicator(**{f: getattr(i, f) for f in fields})
        for i in standard.indicators.order_by("order")
    ]
    return ResolvedStandard(spec, dims, inds, standard.extends.code if standard.extends else None)


def _standards_in_use(standard: Standard) -> list[Batch]:
    """Batches past data collection that assess against this standard (or one derived from it)."""
    codes = {standard.pk}
    frontier = [standard]
    while frontier:
        nxt = list(Standard.objects.filter(extends__in=frontier))
        frontier = [s for s in nxt if s.pk not in codes]
        codes.update(s.pk for s in frontier)
    batches = Batch.objects.exclude(state=BatchState.OPEN)
    used = set(batches.filter(standard__in=codes).values_list("pk", flat=True))
    used |= set(batches.filter(additional_standards__in=codes).values_list("pk", flat=True))
    used |= set(
        BatchStandard.objects.filter(standard__in=codes, batch__in=batches).values_list(
            "batch_id", flat=True
        )
    )
    return list(Batch.objects.filter(pk__in=used))


def _write_standard(
    standard: Standard, resolved: ResolvedStandard, parsed: ParsedStandard, issuer, base
) -> None:
    spec = resolved.spec
    standard.title = spec.title
    standard.short_title = spec.short_title
    standard.issuer = issuer
    standard.issuer_name = spec.issuer_name or (issuer.name if issuer else "")
    standard.doc_no = spec.doc_no
    standard.role = spec.role
    standard.applies_to = f",{','.join(spec.applies_to)}," if spec.applies_to else ""
    standard.extends = base
    standard.rule = spec.rule.model_dump(mode="json")
    standard.dimensions = [d.model_dump(mode="json") for d in resolved.dimensions]
    standard.verification = spec.verification
    standard.note = spec.note
    standard.source = spec.source
    standard.source_name = parsed.name.rsplit("/", 1)[-1][:255]
    standard.source_sha256 = parsed.sha256
    standard.source_text = parsed.text
    standard.spec = spec.model_dump(mode="json")
    standard.save()
    standard.indicators.all().delete()
    Indicator.objects.bulk_create(
        [Indicator(standard=standard, **i.to_row()) for i in resolved.indicators]
    )


@transaction.atomic
def standard_load(*, parsed: ParsedStandard, scope: Scope | None, actor: Actor) -> StandardOutcome:
    """Create or update a standard from its parsed file. Idempotent.

    Raises StandardFileInvalid (naming file, line, field) for a bad or weaker file, and
    Refused when the standard is in use by a batch whose data is frozen.
    """
    check(can_load_standard(scope))
    spec = parsed.spec
    base_obj = None
    base = None
    if spec.extends:
        base_obj = Standard.objects.filter(code=spec.extends).first()
        if base_obj is None:
            raise StandardFileInvalid(
                [parsed.error(("extends",), f"所依据的标准 {spec.extends} 尚未载入，请先载入它")]
            )
        if spec.code in {s.code for s in base_obj.chain()}:
            raise StandardFileInvalid(
                [parsed.error(("extends",), f"标准 {spec.code} 与 {spec.extends} 互相依据（循环）")]
            )
        base = resolved_from_db(base_obj)
    resolved = resolve(parsed, base)
    issuer = None
    if spec.issuer:
        try:
            issuer = resolve_org(spec.issuer, None, ("issuer",))
        except QuotaResolveError as exc:
            raise StandardFileInvalid([parsed.error(exc.loc, str(exc))]) from exc

    existing = Standard.objects.select_for_update().filter(code=spec.code).first()
    if existing is not None and existing.source_sha256 == parsed.sha256:
        return StandardOutcome(existing, "unchanged")
    if existing is not None:
        frozen = _standards_in_use(existing)
        if frozen:
            raise Refused(
                _(
                    "标准 %(code)s 已用于数据已冻结的批次（%(names)s），不能修改；请以新的代码载入新版本"
                )
                % {"code": spec.code, "names": "、".join(b.name for b in frozen)}
            )
        # Every standard derived from this one must still be at least as strict as it.
        children = []
        for child in existing.derived.all():
            child_parsed = ParsedStandard(
                child.source_name,
                child.source_sha256,
                child.source_text,
                StandardSpec.model_validate(child.spec),
                _NoIndex(child.source_name),
            )
            try:
                children.append((child, resolve(child_parsed, resolved), child_parsed))
            except StandardFileInvalid as exc:
                raise StandardFileInvalid(
                    [
                        parsed.error((), f"修改后，派生标准 {child.code} 将低于本标准：{e.message}")
                        for e in exc.errors
                    ]
                ) from exc
    before = (
        {"sha256": existing.source_sha256, "indicators": existing.indicators.count()}
        if existing
        else None
    )
    standard = existing or Standard(code=spec.code)
    _write_standard(standard, resolved, parsed, issuer, base_obj)
    if existing is not None:
        for child, child_resolved, child_parsed in children:
            child_issuer = child.issuer
            _write_standard(child, child_resolved, child_parsed, child_issuer, standard)
    audit_record(
        actor=actor,
        action="certification.standard_load",
        obj=standard,
        before=before,
        after={
            "sha256": parsed.sha256,
            "file": standard.source_name,
            "indicators": len(resolved.indicators),
            "extends": spec.extends,
        },
    )
    return StandardOutcome(standard, "updated" if existing else "created")
