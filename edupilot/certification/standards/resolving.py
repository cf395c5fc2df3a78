"""Resolving a standard against the one it ``extends``: inherit the base's indicators, apply
overrides, and refuse anything that makes a threshold weaker (naming both values)."""

from __future__ import annotations

from edupilot.programmes.loader import FileError

from .spec import (
    STAGE_LABELS,
    ParsedStandard,
    ResolvedIndicator,
    ResolvedStandard,
    StandardFileInvalid,
    _check_threshold,
    at_least_as_strict,
    fmt_threshold,
)

# Flags an override may only tighten: the value that would loosen the inherited item, and why
# it may not (an optional item may become a basic requirement, a veto item stays one).
_ONE_WAY_FLAGS = (
    ("optional", True, "是基本要求，不能改为可选"),
    ("veto", False, "是否决项，派生标准不能取消"),
)


def resolve(parsed: ParsedStandard, base: ResolvedStandard | None) -> ResolvedStandard:
    """Apply ``extends``: inherit the base's indicators and check nothing gets weaker.

    Raises StandardFileInvalid listing every problem (each names the indicator and both values).
    """
    spec = parsed.spec
    errors: list[FileError] = []

    def err(loc: tuple, message: str) -> None:
        errors.append(parsed.error(loc, message))

    if spec.extends and base is None:
        err(("extends",), f"所依据的标准 {spec.extends} 尚未载入，请先载入它")
        raise StandardFileInvalid(errors)
    if base is not None and base.spec.role != spec.role:
        err(("role",), f"派生标准的 role 须与所依据标准 {base.spec.code} 相同（{base.spec.role}）")

    dimensions = list(base.dimensions) if base else []
    dim_keys = {d.key for d in dimensions}
    for d in spec.dimensions:
        if d.key in dim_keys:
            # Renaming an inherited dimension is allowed (a local wording).
            dimensions = [d if x.key == d.key else x for x in dimensions]
        else:
            dimensions.append(d)
            dim_keys.add(d.key)
    dim_names = {d.key: d.name for d in dimensions}
    for mi, module in enumerate(spec.rule.modules):
        unknown = [k for k in module.dimensions if k not in dim_names]
        if unknown:
            err(
                ("rule", "modules", mi, "dimensions"),
                f"模块 {module.key} 引用了未定义的维度：{'、'.join(unknown)}",
            )

    out: list[ResolvedIndicator] = []
    if base is not None:
        for b in base.indicators:
            out.append(
                ResolvedIndicator(
                    **{
                        **b.to_row(),
                        "inherited_from": b.inherited_from or base.spec.code,
                        "overridden": False,
                    }
                )
            )
    by_code = {i.code: i for i in out}
    base_label = f"所依据标准 {base.spec.code}" if base else ""

    for oi, ov in enumerate(spec.overrides):
        _apply_override(ov, ("overrides", oi), by_code, base_label, spec.extends, err)

    for ii, ind in enumerate(spec.indicators):
        loc = ("indicators", ii)
        if ind.code in by_code:
            err(
                (*loc, "code"),
                f"指标 {ind.code} 已在{base_label}中定义；要调整它请写在 overrides 中",
            )
            continue
        if ind.dimension not in dim_names:
            err((*loc, "dimension"), f"维度 {ind.dimension} 未在 dimensions 中定义")
            continue
        row = ind.model_dump()
        resolved = ResolvedIndicator(
            **row, dimension_name=dim_names[ind.dimension], order=len(out) + 1
        )
        out.append(resolved)
        by_code[ind.code] = resolved

    if errors:
        raise StandardFileInvalid(errors)
    for n, ind in enumerate(
        sorted(out, key=lambda i: ([d.key for d in dimensions].index(i.dimension), i.order)),
        start=1,
    ):
        ind.order = n
    out.sort(key=lambda i: i.order)
    return ResolvedStandard(spec, dimensions, out, base.spec.code if base else None)


def _apply_override(ov, loc: tuple, by_code: dict, base_label: str, extends, err) -> None:
    """Apply one override to the inherited indicator it names; ``err`` each problem."""
    target = by_code.get(ov.code)
    if target is None:
        err((*loc, "code"), f"所依据标准 {extends} 中没有指标 {ov.code}")
        return
    original = ResolvedIndicator(**target.to_row())
    try:
        for name in ("basic", "advanced"):
            _check_threshold(target.measure, target.levels, getattr(ov, name), name)
        for stage, value in ov.basic_by_stage.items():
            _check_threshold(target.measure, target.levels, value, f"basic_by_stage.{stage}")
    except ValueError as exc:
        err(loc, f"指标 {ov.code}（{target.name}）：{exc}")
        return
    for name, loosened, problem in _ONE_WAY_FLAGS:
        value = getattr(ov, name)
        if value is None:
            continue
        if value == loosened and getattr(target, name) != loosened:
            err((*loc, name), f"指标 {ov.code}（{target.name}）在{base_label}中{problem}")
        setattr(target, name, value)
    if ov.basic is not None:
        target.basic = ov.basic
    if ov.advanced is not None:
        target.advanced = ov.advanced
    if ov.basic_by_stage:
        target.basic_by_stage = {**target.basic_by_stage, **ov.basic_by_stage}
    for name in ("weight", "bonus", "verification", "source", "note"):
        if getattr(ov, name) is not None:
            setattr(target, name, getattr(ov, name))
    target.overridden = True
    if not target.optional and target.basic is None:
        err(loc, f"指标 {ov.code}（{target.name}）改为基本要求时须给出 basic")
    for field_name, problem in weaker_than(original, target):
        err((*loc, field_name), problem)


ALL_STAGES = ["primary", "junior", "senior", "vocational", "teaching_point"]


def threshold_for_stage(ind, stage: str | None):
    if stage and stage in ind.basic_by_stage:
        return ind.basic_by_stage[stage]
    return ind.basic


def weaker_than(base: ResolvedIndicator, child: ResolvedIndicator) -> list[tuple[str, str]]:
    """Every way ``child`` asks less than ``base``: (field, message naming both values)."""
    problems = []
    label = f"指标 {child.code}（{child.name}）"
    if not base.optional:
        for stage in [None, *ALL_STAGES]:
            if (
                stage is not None
                and stage not in base.basic_by_stage
                and stage not in child.basic_by_stage
            ):
                continue
            b = threshold_for_stage(base, stage)
            c = threshold_for_stage(child, stage)
            if not at_least_as_strict(child, c, b):
                where = f"（{STAGE_LABELS[stage]}）" if stage else ""
                field_ = "basic_by_stage" if stage and stage in child.basic_by_stage else "basic"
                problems.append(
                    (
                        field_,
                        f"{label}的基本要求{where} {fmt_threshold(child, c)} 低于所依据标准的 "
                        f"{fmt_threshold(base, b)}，派生标准不得低于所依据标准",
                    )
                )
    if base.advanced is not None and not at_least_as_strict(child, child.advanced, base.advanced):
        problems.append(
            (
                "advanced",
                f"{label}的发展要求 {fmt_threshold(child, child.advanced)} 低于所依据标准的 "
                f"{fmt_threshold(base, base.advanced)}，派生标准不得低于所依据标准",
            )
        )
    return problems
