"""What ``edupilot certification standard show`` prints of a resolved standard: the rule, its
modules and grades, each dimension with its points and minimum share, each indicator."""

from __future__ import annotations

from decimal import Decimal

from edupilot.core.numbers import plain

from .spec import MEASURE_LABELS, ResolvedStandard, fmt_threshold


def _num(value) -> str | None:
    return None if value is None else plain(value)


def standard_summary(resolved: ResolvedStandard) -> dict:
    spec, rule = resolved.spec, resolved.spec.rule
    points: dict[str, Decimal] = {}
    for i in resolved.indicators:
        points[i.dimension] = points.get(i.dimension, Decimal(0)) + i.weight + i.bonus
    return {
        "code": spec.code,
        "title": spec.title,
        "extends": resolved.base_code,
        "role": spec.role,
        "max_score": _num(sum(points.values(), Decimal(0))),
        "rule": {
            "all_basic": rule.all_basic,
            "min_score": _num(rule.min_score),
            "min_percent": _num(rule.min_percent),
            "expr": rule.expr,
            "description": rule.description,
        },
        "modules": [
            {
                "key": m.key,
                "name": m.name,
                "dimensions": m.dimensions,
                "min_percent": _num(m.min_percent),
                "all_basic": m.all_basic,
            }
            for m in rule.modules
        ],
        "grades": [
            {
                "key": g.key,
                "name": g.name,
                "min_percent": _num(g.min_percent),
                "all_mandatory": g.all_mandatory,
                "expr": g.expr,
                "conditions": g.describe() + (f"，且 {g.expr}" if g.expr else ""),
            }
            for g in rule.grades
        ],
        "dimensions": [
            {
                "key": d.key,
                "name": d.name,
                "points": _num(points.get(d.key, Decimal(0))),
                "min_percent": _num(d.min_percent),
            }
            for d in resolved.dimensions
        ],
        "indicators": [
            {
                "code": i.code,
                "name": i.name,
                "dimension": i.dimension,
                "measure": i.measure,
                "basic": None if i.optional else fmt_threshold(i, i.basic),
                "advanced": fmt_threshold(i, i.advanced) if i.advanced is not None else None,
                "weight": _num(i.weight),
                "bonus": _num(i.bonus),
                "optional": i.optional,
                "veto": i.veto,
            }
            for i in resolved.indicators
        ],
    }


def summary_lines(data: dict) -> list[str]:
    rule = data["rule"]
    out = [f"{data['code']}  {data['title']}（满分 {data['max_score']}）"]
    if data["extends"]:
        out.append(f"依据标准：{data['extends']}（其规则同样须满足）")
    parts = ["基本要求全部达到" if rule["all_basic"] else "基本要求不作整体要求"]
    if rule["min_score"]:
        parts.append(f"得分不低于 {rule['min_score']}")
    if rule["min_percent"]:
        parts.append(f"得分率不低于 {rule['min_percent']}%")
    if rule["expr"]:
        parts.append(f"表达式 {rule['expr']}")
    out.append("认定规则：" + "；".join(parts))
    for m in data["modules"]:
        need = [f"得分率 ≥ {m['min_percent']}%"] if m["min_percent"] else []
        need += ["基本要求全部达到"] if m["all_basic"] else []
        out.append(f"模块 {m['name']}（{'、'.join(m['dimensions'])}）：{'，'.join(need) or '—'}")
    for g in data["grades"]:
        out.append(f"等级 {g['name']}（{g['key']}）：{g['conditions']}")
    for d in data["dimensions"]:
        least = f"，得分率不低于 {d['min_percent']}%" if d["min_percent"] else ""
        out.append(f"维度 {d['name']}（{d['key']}）：{d['points']} 分{least}")
        for i in data["indicators"]:
            if i["dimension"] != d["key"]:
                continue
            flags = "（否决项）" if i["veto"] else ("（可选）" if i["optional"] else "")
            need = i["basic"] or f"发展要求 {i['advanced']}"
            bonus = f" + 加分 {i['bonus']}" if i["bonus"] not in (None, "0") else ""
            out.append(
                f"  {i['code']} {i['name']}{flags}：{MEASURE_LABELS[i['measure']]}，"
                f"要求 {need}，{i['weight']} 分{bonus}"
            )
    return out
