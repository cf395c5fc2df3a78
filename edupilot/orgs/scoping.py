"""The one place that decides what a user may see.

A request acts through one *active membership* (a user with several picks which one, see
accounts.middleware). ``Scope`` is built from it and every selector that serves a request
filters through :func:`scoped`, so there is no unscoped path from a URL to an org-owned row.

- applicant: its own org only;
- reviewer and programme admin: the subtree of their org (the reporting tree);
- expert: no org data by org; experts reach applications only through assignments;
- platform admin: everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import Membership, Org, Role, path_within, subtree_q


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    membership_id: int | None = None
    role: str | None = None
    org_id: int | None = None
    org_path: str | None = None
    org_tier: str | None = None
    org_kind: str | None = None
    # The Org row itself, when the scope was built from a membership loaded with it (the
    # middleware's one query); else fetched on first use. Not part of equality or hashing.
    _org: Org | None = field(default=None, compare=False, repr=False)

    @classmethod
    def anonymous(cls) -> Scope:
        return cls(user_id=None)

    @classmethod
    def _at(cls, org: Org, role: str, *, user_id: int, membership_id: int) -> Scope:
        return cls(
            user_id=user_id,
            membership_id=membership_id,
            role=role,
            org_id=org.pk,
            org_path=org.path,
            org_tier=org.tier,
            org_kind=org.kind,
            _org=org,
        )

    @classmethod
    def acting_as(cls, org: Org, role: str, *, user_id: int = 0) -> Scope:
        """A scope acting at ``org`` in ``role`` with no membership behind it: the system's or
        a command's act on the org's behalf (a demo applicant, an issuer publishing its final
        list, an import limited to a subtree). ``membership_id`` is 0, which still counts as
        authenticated; ``user_id`` is 0 unless a person's act is recorded through it."""
        return cls._at(org, role, user_id=user_id, membership_id=0)

    @classmethod
    def for_membership(cls, membership: Membership) -> Scope:
        return cls._at(
            membership.org,
            membership.role,
            user_id=membership.user_id,
            membership_id=membership.pk,
        )

    @property
    def org(self) -> Org | None:
        """The scope's own org, fetched at most once per scope (None for anonymous).

        Read-only by convention: a service that changes the org locks and re-reads its row.
        """
        if self.org_id is None:
            return None
        if self._org is None:
            object.__setattr__(self, "_org", Org.objects.get(pk=self.org_id))
        return self._org

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None and self.membership_id is not None

    @property
    def is_platform_admin(self) -> bool:
        return self.role == Role.PLATFORM_ADMIN

    @property
    def is_applicant(self) -> bool:
        return self.role == Role.APPLICANT

    @property
    def is_reviewer(self) -> bool:
        return self.role in (Role.REVIEWER, Role.PROGRAMME_ADMIN)

    @property
    def is_programme_admin(self) -> bool:
        return self.role == Role.PROGRAMME_ADMIN

    @property
    def is_expert(self) -> bool:
        return self.role == Role.EXPERT

    def org_q(self, org_field: str = "", path_field: str | None = None) -> Q:
        """A Q restricting rows whose org (reached by ``org_field``) is visible to this scope.

        ``path_field`` names a copy of that org's path on the row itself, so that a subtree is
        a range scan on the row's own table instead of a join to every org of the subtree.
        """
        prefix = f"{org_field}__" if org_field else ""
        if not self.is_authenticated:
            return Q(pk__in=[])
        if self.is_platform_admin:
            return Q()
        if self.role == Role.APPLICANT:
            return Q(**{f"{prefix}pk" if prefix else "pk": self.org_id})
        if self.role in (Role.REVIEWER, Role.PROGRAMME_ADMIN):
            return subtree_q(self.org_path, path_field or f"{prefix}path")
        return Q(pk__in=[])

    def contains_org(self, org: Org) -> bool:
        """The same decision as :meth:`org_q`, for one org already in memory."""
        if not self.is_authenticated:
            return False
        if self.is_platform_admin:
            return True
        if self.role == Role.APPLICANT:
            return org.pk == self.org_id
        if self.role in (Role.REVIEWER, Role.PROGRAMME_ADMIN):
            return path_within(org.path, self.org_path)
        return False


def scoped(qs: QuerySet, scope: Scope, *, org_field: str = "", **extra_args) -> QuerySet:
    """Filter ``qs`` to what ``scope`` may see; ``org_field`` leads from the model to its Org.

    ``extra_args`` go to the model's ``scope_extra_q`` (what the caller has already read
    that it would otherwise query again)."""
    if qs.model is Org and not org_field:
        return qs.filter(scope.org_q(""))
    if scope.is_authenticated and scope.is_platform_admin:
        # An empty Q() OR-ed with a model's extra Q would become that extra Q alone.
        return qs.all()
    extra = getattr(qs.model, "scope_extra_q", None)
    q = scope.org_q(org_field, getattr(qs.model, "scope_path_field", None) if org_field else None)
    if extra is not None:
        # Models may widen visibility for roles that reach rows other than by org (experts).
        wider = extra(scope, **extra_args)
        if wider != _NOTHING:  # OR-ing no row changes nothing: not compiled on every read
            q = q | wider
    return qs.filter(q)


_NOTHING = Q(pk__in=[])


def get_or_404(qs: QuerySet, **lookup):
    """The row of ``qs`` matching ``lookup``, or 404 (a malformed key as well)."""
    try:
        return qs.get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def access(qs: QuerySet, scope: Scope, pk, *, org_field: str = ""):
    """Fetch one row through the scope, or 404 so that its existence does not leak."""
    return get_or_404(scoped(qs, scope, org_field=org_field), pk=pk)
