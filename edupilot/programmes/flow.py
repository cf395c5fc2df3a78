"""A category's stages as they will run: who acts, until when, whose quota.

``edupilot programme show CODE [--applicant ORG]`` prints this so that a bureau can dry-run
its file before anyone applies; the programme page shows the same table. Without an
applicant, a tier review says which tier acts; with one, the org of its lineage that will.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.utils import timezone

from edupilot.core.workdays import days_text
from edupilot.orgs.models import Org, Tier

from . import cascade, schema
from . import folds as folding
from .chain import lineage, named_org, quota_bucket, review_chain
from .models import Programme, QuotaAllocation
from .pilot_schema import due_rule
from .quotas import bucket_limit, formula_text

TIER_LABELS = dict(Tier.choices)


@dataclass
class ResolvedStage:
    key: str
    name: str
    kind: str
    actor_org: str | None
    deadline: str | None
    quota: str | None
    # Why a stage of the file does not apply to this applicant (no org of its tier …).
    skipped: str = ""
    # How the deadline is counted when the file gives days, not a date ("上一阶段截止后 5 个
    # 工作日"), and an announcement's objection period ("公示期 5 个工作日，自发布次日起算").
    rule: str = ""
    # A joint review's orgs (the lead first) and when it completes ("2 个单位全部同意后通过").
    orgs: list[str] = field(default_factory=list)
    completes: str = ""

    def as_json(self) -> dict:
        data = asdict(self)
        for key in ("skipped", "rule", "orgs", "completes"):
            if not data[key]:
                data.pop(key)
        return data


def _rule(spec: schema.Programme, category: schema.Category, stage: schema.StageBase) -> str:
    if stage.kind == "announcement":
        n, working = spec.objection_period(category)
        return f"公示期 {days_text(n, working=working)}，自发布次日起算"
    return stage.deadline_rule


def _when(programme: Programme, stage: schema.StageBase) -> str | None:
    if stage.deadline_at is None:
        return None
    return timezone.localtime(programme.shift(stage.deadline_at)).strftime("%Y-%m-%d %H:%M")


def _quota_text(
    programme: Programme, category: schema.Category, tier: str, applicant
) -> str | None:
    policies = [q for q in category.quotas if q.level == tier]
    if not policies:
        return None
    if applicant is None:
        return f"{TIER_LABELS.get(tier, tier)}名额（按所在地）"
    orgs = lineage(applicant, category)
    bucket = quota_bucket(tier, applicant, orgs)
    if bucket is None:
        return None
    alloc = QuotaAllocation.objects.filter(
        programme=programme,
        category=category.code,
        level=tier,
        holder=bucket.holder,
        direct=bucket.direct,
    ).first()
    places = bucket_limit(alloc, policies[0])
    limit = "不限" if places is None else f"{places} 个"
    direct = "（直属单位）" if bucket.direct else ""
    return f"{bucket.holder.name}{direct}{orgs.fold_note(bucket.holder)}：{limit}"


def _actor_generic(programme: Programme, stage: schema.StageBase) -> str:
    if stage.kind == "tier_review":
        return f"申报单位所在{TIER_LABELS.get(stage.tier, stage.tier)}教育行政部门"
    if stage.kind in ("org_review", "joint_review"):
        return "、".join(_org_names(stage))
    return programme.issuer.name


def _org_names(stage: schema.StageBase) -> list[str]:
    """The names of the orgs a named-org stage (``org_review``, ``joint_review``) names."""
    refs = getattr(stage, "orgs", None) or [stage.org]
    return [o.name if o else ref for ref, o in ((ref, named_org(ref)) for ref in refs)]


def resolved_stages(
    programme: Programme, category: schema.Category, applicant: Org | None = None
) -> list[ResolvedStage]:
    """Each stage of ``category``; for ``applicant``, resolved through its lineage."""
    steps = {}
    if applicant is not None:
        orgs = lineage(applicant, category)
        steps = {
            s.level.key: s for s in review_chain(category, applicant, orgs, issuer=programme.issuer)
        }
    out = []
    for stage in category.pipeline:
        tier = getattr(stage, "tier", None)
        quota = None
        if stage.kind == "tier_review" and stage.quota is not False:
            quota = _quota_text(programme, category, tier, applicant)
        actor = _actor_generic(programme, stage)
        skipped = ""
        if applicant is not None and stage.key in steps:
            org = steps[stage.key].org
            actor = org.name
            actor += orgs.fold_note(org)
            if steps[stage.key].joint:
                actor = "、".join(o.name for o in steps[stage.key].joint)
        elif applicant is not None and stage in category.levels:
            skipped = "本单位没有该层级的上级单位，跳过此阶段"
            actor = None
        out.append(
            ResolvedStage(
                key=stage.key,
                name=stage.name,
                kind=stage.kind,
                actor_org=actor,
                deadline=_when(programme, stage),
                quota=quota,
                skipped=skipped,
                rule=_rule(programme.parsed, category, stage),
                orgs=_org_names(stage) if stage.kind == "joint_review" else [],
                completes=stage.rule_text if stage.kind == "joint_review" else "",
            )
        )
    return out


def _supervisor(programme: Programme, category: schema.Category, steps: dict) -> str:
    pilot = programme.parsed.pilot
    key = pilot.supervisor if pilot else None
    stage = category.stage(key) if key else next(s for s in category.pipeline if s.is_review)
    if key in steps or (key is None and stage.key in steps):
        return steps[stage.key].org.name
    return _actor_generic(programme, stage)


def pilot_stages(
    programme: Programme, category: schema.Category, applicant: Org | None = None
) -> list[ResolvedStage]:
    """The pilot period's stages for ``category``: who approves what the unit hands in."""
    pilot = programme.parsed.pilot
    if pilot is None:
        return []
    steps = {}
    if applicant is not None:
        chain = review_chain(category, applicant, issuer=programme.issuer)
        steps = {s.level.key: s for s in chain}
    supervisor = _supervisor(programme, category, steps)
    return [
        ResolvedStage(
            key=s.key,
            name=s.name,
            kind=s.kind,
            actor_org=supervisor if s.approver == "supervisor" else programme.issuer.name,
            deadline=due_rule(s),
            quota=f"预算 {s.budget} 元" if s.kind == "awards" else None,
        )
        for s in pilot.pipeline
    ]


def fold_rows(spec: schema.Programme) -> list[dict]:
    """The file's ``[[folds]]`` with the orgs' names as the tree has them."""
    names = {}
    for f in folding.resolve(spec.folds):
        names[f.org.code] = names[f.org.name] = f.org.name
        names[f.into.code] = names[f.into.name] = f.into.name
    return [
        {
            "org": names.get(f.org, f.org),
            "into": names.get(f.into, f.into),
            "categories": list(f.categories),
            "note": f.note,
        }
        for f in spec.folds
    ]


def evidence_rows(spec: schema.Programme, category: schema.Category) -> list[dict]:
    """The attachment fields of a category's form: the kinds of file each takes, and how many."""
    return [
        {
            "key": f.key,
            "label": f.label,
            "accept": list(f.accept),
            "max_mb": f.max_mb,
            "min_count": max(f.min_count, 1 if f.required else 0),
            "max_count": f.max_count,
        }
        for f in spec.form_for(category).all_fields()
        if f.type == "attachment"
    ]


def programme_flow(programme: Programme, applicant: Org | None = None) -> dict:
    """The JSON of ``programme show``: every category with its resolved stages."""
    spec = programme.parsed
    return {
        "code": programme.code,
        "title": programme.title,
        "applicant": applicant.code if applicant is not None else None,
        "issuers": programme.issuer_names,
        "parent": cascade.parent_row(programme),
        "rounds": cascade.round_rows(programme),
        "folds": fold_rows(spec),
        "rubric": spec.rubric.as_json() if spec.rubric is not None else None,
        "batches": [
            {
                "code": b.code,
                "name": b.name,
                "data_cutoff": b.data_cutoff.isoformat(),
                "assess_from": b.assess_from.isoformat(),
                "assess_until": b.assess_until.isoformat(),
                "self_assessment": b.self_assessment,
                "self_min_percent": None if b.self_min_percent is None else str(b.self_min_percent),
                "self_min_score": None if b.self_min_score is None else str(b.self_min_score),
                "self_closes": b.self_closes.isoformat() if b.self_closes else None,
                "text": b.self_gate_text(),
            }
            for b in spec.batches
        ],
        "notice": [
            {"role": d.role, "title": d.title, "file": d.filename, "size": d.size}
            for d in programme.documents.defer("content")
        ],
        "categories": [
            {
                "code": c.code,
                "name": c.name,
                "stages": [s.as_json() for s in resolved_stages(programme, c, applicant)],
                "pilot_stages": [s.as_json() for s in pilot_stages(programme, c, applicant)],
                "evidence": evidence_rows(spec, c),
                "quotas": [
                    {"level": q.level, "policy": q.policy, "text": formula_text(q)}
                    for q in c.quotas
                ],
                "set_rules": [
                    {
                        "id": r.id,
                        "kind": r.kind,
                        "level": r.level,
                        "checked": list(r.moments),
                        "text": r.describe(),
                        "message": r.message,
                    }
                    for r in c.set_rules
                ],
                "titles": [
                    {
                        "list": t.list,
                        "name": t.name,
                        "admit": t.admit,
                        "priority": t.priority,
                        "text": t.describe(),
                    }
                    for t in c.titles
                ],
            }
            for c in spec.categories
        ],
    }
