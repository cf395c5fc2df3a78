"""``[[folds]]``: a unit applies, in one programme, as part of another (its 归口 unit).

A fold changes an applicant's *lineage* for the programme's categories, not the tree: the
folded org's place above the applicant is taken by ``into`` and ``into``'s ancestors. Tier
reviews and quota buckets are derived from the lineage (chain.py), so the folded unit's
applicants queue at ``into`` and spend its quota, while every other programme still routes
them by the tree.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from edupilot.orgs.models import ADMIN_KINDS, Org, path_within, subtree_q

from . import schema


class FoldCycle(ValueError):
    """Folds that lead back to a unit already folded (A into B, B into A)."""


@dataclass(frozen=True)
class ResolvedFold:
    org: Org
    into: Org
    categories: tuple[str, ...]


class Lineage(list):
    """An applicant and its ancestors, nearest first, after the folds; ``via`` says, for each
    org that stands there because of a fold, which fold put it there."""

    def __init__(self, orgs, via: dict[int, ResolvedFold] | None = None):
        super().__init__(orgs)
        self.via: dict[int, ResolvedFold] = via or {}

    def fold_note(self, org: Org) -> str:
        """ "（甲按乙归口）" when ``org`` stands in the lineage because of a fold, else ""."""
        fold = self.via.get(org.pk)
        return f"（{fold.org.name}按{fold.into.name}归口）" if fold else ""


def _pick(ref: str, candidates: list[Org]) -> Org | None:
    by_code = [o for o in candidates if o.code == ref]
    if by_code:
        return by_code[0]
    by_name = [o for o in candidates if o.name == ref]
    # The loader refused an ambiguous name; a tree changed since is not guessed at.
    return by_name[0] if len(by_name) == 1 else None


def resolve(folds: list[schema.Fold]) -> list[ResolvedFold]:
    """The folds' orgs, in one query; a fold whose orgs no longer exist is dropped."""
    if not folds:
        return []
    refs = {f.org for f in folds} | {f.into for f in folds}
    candidates = list(Org.objects.filter(Q(code__in=refs) | Q(name__in=refs)))
    out = []
    for f in folds:
        org, into = _pick(f.org, candidates), _pick(f.into, candidates)
        if org is not None and into is not None:
            out.append(ResolvedFold(org, into, tuple(f.categories)))
    return out


def plain_lineage(org: Org) -> list[Org]:
    """The org and its ancestors, nearest first (one query; none when the org came with its
    parents, ``select_related("…__parent__parent…")``, up to the root)."""
    codes = org.ancestor_codes
    chain, o = [org], org
    while o.parent_id is not None and Org.parent.is_cached(o):
        o = o.parent
        chain.append(o)
    if o.parent_id is None and [c.code for c in reversed(chain[1:])] == codes:
        return chain
    by_code = {o.code: o for o in Org.objects.filter(code__in=codes)} if codes else {}
    return [org] + [by_code[c] for c in reversed(codes) if c in by_code]


def fold_lineage(orgs: list[Org], folds: list[ResolvedFold]) -> Lineage:
    """``orgs`` (a plain lineage) with the folds applied, nearest fold first, repeatedly (a
    fold's ``into`` may itself sit in a folded unit); raises FoldCycle on a loop."""
    by_org = {f.org.pk: f for f in folds}
    out = Lineage(orgs)
    start, applied = 0, set()
    while True:
        i = next((k for k in range(start, len(out)) if out[k].pk in by_org), None)
        if i is None:
            return out
        fold = by_org[out[i].pk]
        if fold.org.pk in applied:
            raise FoldCycle(f"归口形成循环：{fold.org.name} 又被归口到自己之下")
        applied.add(fold.org.pk)
        # The applicant itself stays first: a folded unit that applies keeps its own place.
        keep = max(i, 1) if i == 0 else i
        above = plain_lineage(fold.into)
        via = dict(out.via)
        for o in above:
            if all(o.pk != k.pk for k in out[i:]):
                via[o.pk] = fold
        out = Lineage(out[:keep] + above, via)
        start = keep


def check(fold: ResolvedFold, issuer: Org) -> str:
    """Why ``fold`` cannot be, or ""."""
    if not fold.org.is_within(issuer) or not fold.into.is_within(issuer):
        return f"归口的两个机构都须在发文单位 {issuer.name} 的管辖范围内"
    if fold.into.kind not in ADMIN_KINDS:
        return f"{fold.into.name} 不是教育行政部门，不能作为归口单位"
    if path_within(fold.into.path, fold.org.path):
        return f"{fold.into.name} 在 {fold.org.name} 之下，不能归口到自己的下级"
    return ""


def visible_q(scope, programmes=None, *, path_field: str = "applicant_path") -> Q:
    """Applications a region's reviewer reaches through a fold: those of a unit folded into
    its subtree, in the programmes (and categories) that fold it.

    ``programmes``: the active programmes the caller restricts its applications to, already
    read (with ``source_sha256``); the folds are looked for among them instead of querying
    every active programme. ``path_field``: the row's org path (a pilot's ``unit_path``).
    A fold that reaches the scope lies inside its programme's issuer
    (``check``), so the programme concerns the scope: ``programmes_concerning`` finds it."""
    from .models import Programme

    if not scope.org_path:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    if programmes is None:
        programmes = Programme.objects.filter(is_active=True).only("pk", "source_sha256")
    for programme in programmes:
        spec = programme.parsed_if_cached()
        if spec is None:
            spec = Programme.objects.get(pk=programme.pk).parsed
        for fold in resolve(spec.folds):
            if path_within(fold.into.path, scope.org_path) and not path_within(
                fold.org.path, scope.org_path
            ):
                cond = Q(programme_id=programme.pk) & subtree_q(fold.org.path, path_field)
                if fold.categories:
                    cond &= Q(category__in=fold.categories)
                q |= cond
    return q
