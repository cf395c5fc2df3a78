"""Scoped reads of the org tree for pages and commands."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import CharField, Count, Q, QuerySet, Value
from django.http import Http404

from .models import ADMIN_KINDS, Org, OrgKind, Stage, subtree_q
from .scoping import Scope, scoped

SCHOOL_KINDS = (OrgKind.SCHOOL, OrgKind.UNIVERSITY, OrgKind.UNIT)
PAGE_SIZE = 50


def access_org(scope: Scope, code: str) -> Org:
    """One org by code through the scope, or 404 so that its existence does not leak."""
    org = scoped(Org.objects.select_related("parent"), scope).filter(code=code).first()
    if org is None:
        raise Http404
    return org


def scope_root(scope: Scope) -> Org | None:
    """The top of what ``scope`` sees; None for a platform admin (the whole forest)."""
    if scope.is_platform_admin or not scope.org_id:
        return None
    return scope.org


def ancestors(org: Org) -> list[Org]:
    """Root first, ``org`` excluded; one query, from the code-based path."""
    codes = org.ancestor_codes
    if not codes:
        return []
    by_code = {o.code: o for o in Org.objects.filter(code__in=codes)}
    return [by_code[c] for c in codes if c in by_code]


def visible_ancestors(scope: Scope, org: Org) -> list[Org]:
    """The breadcrumb: ancestors the scope may open (a county reviewer's starts at its county)."""
    return [a for a in ancestors(org) if scope.contains_org(a)]


@dataclass
class ChildNode:
    org: Org
    schools: int


def children_with_counts(parent: Org | None, scope: Scope) -> tuple[list[ChildNode], int]:
    """The administrative children of ``parent`` (the roots when None), each with the number
    of schools in its subtree, and the number of schools directly under ``parent`` (市直).

    Two queries however many schools there are: the children, then one UNION ALL of a range
    count per child (each an index-only scan of its path range), which at 100,000 schools
    is several times faster than grouping every school by a path segment.
    """
    if parent is None:
        children = list(scoped(Org.objects.filter(parent__isnull=True), scope).order_by("path"))
    else:
        children = list(
            Org.objects.filter(parent=parent, kind__in=list(ADMIN_KINDS)).order_by("path")
        )
    if not children:
        return [], 0
    base = Org.objects.filter(kind__in=SCHOOL_KINDS).order_by()
    parts = [
        base.filter(subtree_q(c.path))
        .annotate(seg=Value(c.code, output_field=CharField()))
        .values("seg")
        .annotate(n=Count("id"))
        .values_list("seg", "n")
        for c in children
    ]
    if parent is not None:
        parts.append(
            base.filter(subtree_q(parent.path))
            .annotate(seg=Value("", output_field=CharField()))
            .values("seg")
            .annotate(n=Count("id"))
            .values_list("seg", "n")
        )
    counts = dict(parts[0].union(*parts[1:], all=True)) if len(parts) > 1 else dict(parts[0])
    nodes = [ChildNode(c, counts.get(c.code, 0)) for c in children]
    direct = counts.get("", 0) - sum(n.schools for n in nodes) if parent is not None else 0
    return nodes, direct


def org_search(
    scope: Scope,
    *,
    under: Org | None = None,
    q: str = "",
    kind: str = "",
    stage: str = "",
    direct_only: bool = False,
) -> QuerySet:
    qs = scoped(Org.objects.all(), scope)
    if under is not None:
        qs = qs.filter(subtree_q(under.path)).exclude(pk=under.pk)
        if direct_only:
            qs = qs.filter(parent=under)
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__startswith=q))
    if kind:
        qs = qs.filter(kind=kind)
    elif not q and not direct_only:
        # Lists default to the units that apply; the tree panel shows the bureaus.
        qs = qs.filter(kind__in=SCHOOL_KINDS)
    if stage in Stage.values:
        qs = qs.filter(stages__contains=f",{stage},")
    return qs.select_related("parent").order_by("path")


def org_page(qs: QuerySet, number, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(qs, per_page).get_page(number)


def members_of(org: Org):
    from .models import Membership

    # The reset predicate looks at every role of each member: fetch them in one go.
    return (
        Membership.objects.filter(org=org)
        .select_related("user")
        .prefetch_related("user__memberships__org")
        .order_by("role", "user__username")
    )
