"""Where a region's applications queue, for the dashboard's tables (reads only).

- :class:`StepLevel`: the stage key of an application's current chain step
  (``chain[current_step].level``) computed by the database, so the applications waiting at
  each stage (a tier review, a named org, the expert panel inside the chain, the issuer's own
  approval step) are one grouped query; :func:`short_of_scores`: a panel placed after the
  reviews owes the bids awaiting approval that lack its scores;
- :func:`fold_moves`: applications a programme's ``[[folds]]`` route elsewhere queue at the
  fold's ``into``: counted under the region's child that holds ``into``, not under the child
  whose tree holds the applicant (and out of a region that holds the applicant but not
  ``into``);
- :func:`announcement_ends`: when each category's published 公示 ends (its objection period);
- :func:`joint_waiting`: at a joint review stage, how many applications await each org's
  opinion (the stage itself waits until its completion rule holds);
- :func:`pilot_report_deadlines`: the next due period of each of a programme's report stages
  over the region's pilots, with the pilots that have not handed it in (two queries).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Func,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from edupilot.applications.models import AppState
from edupilot.orgs.models import Org, path_within, subtree_q
from edupilot.orgs.scoping import Scope
from edupilot.pilots.models import Submission
from edupilot.pilots.periods import PeriodMemo, today_beijing
from edupilot.pilots.selectors import pilots_for
from edupilot.programmes import folds as fold_rules
from edupilot.programmes.models import Programme
from edupilot.programmes.quotas import QuotaResolveError, resolve_orgs
from edupilot.review import joint
from edupilot.selection.models import AnnouncementEntry, AnnouncementState, ExpertAssignment


class StepLevel(Func):
    """``chain[current_step].level`` (NULL without a current step)."""

    output_field = CharField()

    def __init__(self, prefix: str = ""):
        super().__init__(F(f"{prefix}chain"), F(f"{prefix}current_step"))

    def _parts(self, compiler):
        chain, p1 = compiler.compile(self.source_expressions[0])
        step, p2 = compiler.compile(self.source_expressions[1])
        return chain, step, [*p1, *p2]

    def as_sql(self, compiler, connection, **extra):  # SQLite (and the fallback)
        chain, step, params = self._parts(compiler)
        return f"json_extract({chain}, '$[' || {step} || '].level')", params

    def as_postgresql(self, compiler, connection, **extra):
        chain, step, params = self._parts(compiler)
        return f"(({chain})::jsonb -> ({step})::int) ->> 'level'", params


def _fold_q(fold, prefix: str) -> Q:
    q = subtree_q(fold.org.path, f"{prefix}applicant_path")
    if fold.categories:
        q &= Q(**{f"{prefix}category__in": fold.categories})
    return q


APPROVAL = ""  # the key of "waiting for the issuer's decision" (no stage key is empty)


def waiting_by_stage(apps) -> dict[tuple[str, str], int]:
    """{(category, stage key): applications} waiting there: SUBMITTED ones at the stage of
    their current chain step (a review, a named org, the panel inside the chain), RECOMMENDED
    ones (past the whole chain) at the issuer's decision, keyed APPROVAL. One query."""
    out: dict[tuple[str, str], int] = {}
    for r in (
        apps.filter(state__in=(AppState.SUBMITTED, AppState.RECOMMENDED))
        .values("category", "state", level=StepLevel())
        .annotate(n=Count("pk"))
        .order_by()
    ):
        key = (r["category"], r["level"] if r["state"] == AppState.SUBMITTED else APPROVAL)
        out[key] = out.get(key, 0) + r["n"]
    return out


def short_of_scores(apps, category: str, needed: int) -> int:
    """``category``'s applications awaiting approval (RECOMMENDED) with fewer than ``needed``
    submitted expert scores for their current version: a panel placed after the reviews still
    owes them (one query)."""
    scores = (
        ExpertAssignment.objects.filter(
            application=OuterRef("pk"),
            is_active=True,
            submitted_at__isnull=False,
            version=OuterRef("version"),
        )
        .values("application")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        apps.filter(state=AppState.RECOMMENDED, category=category)
        .annotate(done=Coalesce(Subquery(scores), 0))
        .filter(done__lt=needed)
        .count()
    )


def announcement_ends(programme: Programme) -> dict[str, dt.datetime]:
    """category code → when the objection period of its 公示 now published ends (the latest,
    where several are open). One query; a 公示 whose final list is out is over."""
    return dict(
        AnnouncementEntry.objects.filter(
            announcement__programme=programme, announcement__state=AnnouncementState.PUBLISHED
        )
        .values("application__category")
        .annotate(until=Max("announcement__objection_until"))
        .order_by()
        .values_list("application__category", "until")
    )


def joint_waiting(apps, programme: Programme, category: str, stage) -> list[tuple[str, int]]:
    """(org name, applications awaiting its opinion) for each org of the joint review
    ``stage`` of ``category``, in the file's order: of the applications still at the stage
    (its completion rule not yet met), those the org has not given its opinion on (their
    current version). Three queries."""
    try:
        orgs = resolve_orgs(list(stage.orgs), programme.issuer, ("orgs",))
    except QuotaResolveError:  # the tree changed since the file was loaded
        return []
    rows = list(
        apps.filter(state=AppState.SUBMITTED, category=category)
        .annotate(level=StepLevel())
        .filter(level=stage.key)
        .values("pk", "chain", "current_step", "version")
    )
    said = joint.spoken(rows)
    waiting = {o.pk: 0 for o in orgs}
    for r in rows:
        for org_id in joint.waiting_orgs(r, r["chain"][r["current_step"]], said):
            if org_id in waiting:
                waiting[org_id] += 1
    return [(o.name, waiting[o.pk]) for o in orgs]


@dataclass(frozen=True)
class FoldMoves:
    """The folds of a programme that move applications into, out of or within ``org``'s
    region; ``prefix`` reaches the application from the queried model ("application__")."""

    org: Org
    folds: tuple = ()
    prefix: str = ""

    def via(self, prefix: str) -> FoldMoves:
        return replace(self, prefix=prefix)

    @property
    def moves(self) -> list[tuple[Q, str]]:
        """(applications of a folded unit, the path they count under: the fold's ``into``)."""
        return [
            (_fold_q(f, self.prefix), f.into.path)
            for f in self.folds
            if path_within(f.into.path, self.org.path)
        ]

    def region_q(self) -> Q:
        """The applications counted in the region: its tree, less those folded out of it,
        plus those folded into it."""
        q = subtree_q(self.org.path, f"{self.prefix}applicant_path")
        for f in self.folds:
            if path_within(f.into.path, self.org.path):
                q |= _fold_q(f, self.prefix)
            else:
                q &= ~_fold_q(f, self.prefix)
        return q


def fold_moves(programme: Programme, org: Org) -> FoldMoves:
    """``programme``'s folds as seen from ``org``'s dashboard (no query without folds, else
    one)."""
    concern = tuple(
        f
        for f in fold_rules.resolve(programme.parsed.folds)
        if path_within(f.into.path, org.path) or path_within(f.org.path, org.path)
    )
    return FoldMoves(org, concern)


def near_path(org: Org, folds: FoldMoves) -> Case:
    """The path an application counts under: a folded one's ``into``; else its applicant's
    path when the applicant is a child of ``org`` itself, else the applicant's parent's
    (grouping by it gives one row per county, not per school, yet tells ``org``'s own schools
    apart)."""
    app_org = f"{folds.prefix}applicant_org__"
    return Case(
        *(When(cond, then=Value(path)) for cond, path in folds.moves),
        When(**{f"{app_org}parent_id": org.pk}, then=F(f"{app_org}path")),
        default=F(f"{app_org}parent__path"),
        output_field=CharField(),
    )


def pilot_report_deadlines(
    scope: Scope, org: Org, programme: Programme, now: dt.datetime
) -> list[tuple[dt.datetime, str, int]]:
    """(due, what, pilots not handed in) for the next due period of each report stage of
    ``programme`` over the pilots in ``org``'s region that the scope sees."""
    spec = programme.parsed.pilot
    stages = spec.report_stages() if spec else []
    if not stages:
        return []
    pilots = list(
        pilots_for(scope)
        .filter(subtree_q(org.path, "unit_path"), programme=programme)
        .only("programme_id", "unit_id", "unit_path", "starts_on", "ends_on")
    )
    if not pilots:
        return []
    sent = set(
        Submission.objects.filter(
            pilot__in=[p.pk for p in pilots],
            stage__in=[s.key for s in stages],
            first_submitted_at__isnull=False,
        ).values_list("pilot_id", "stage", "period")
    )
    today = today_beijing(now)
    memo = PeriodMemo()
    due: dict[tuple, list] = {}
    for stage in stages:
        for pilot in pilots:
            pilot.programme = programme
            period = next((p for p in memo(pilot, stage) if p.due_on and p.due_on >= today), None)
            if period is None:
                continue
            what = _("试点%(stage)s：%(period)s") % {"stage": stage.name, "period": period.label}
            acc = due.setdefault((period.due_at, stage.key, period.key), [what, 0])
            acc[1] += (pilot.pk, stage.key, period.key) not in sent
    return [(when, what, pending) for (when, _s, _p), (what, pending) in due.items()]
