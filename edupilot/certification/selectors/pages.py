"""What the certification pages show, and which buttons they offer, computed once.

The buttons come from the transition tables (``workflows.py``): each transition leaving the
object's state, allowed, or greyed out with the permission predicate's reason. Bureau staff
see the buttons they may not press, with why (a city reviewer on a district's school sees
"作出结论" greyed: "由西湖区认定"); schools and experts see only what they may do. Templates
read these lists; they do not look at states to decide which action to show.
"""

from __future__ import annotations

from django.utils import timezone

from edupilot.core.workflow import Action, Workflow
from edupilot.orgs.models import Membership
from edupilot.orgs.scoping import Scope

from ..models import Batch, BatchState, Entry, EntryState, Standard, VisitState
from ..permissions import can_file_results, can_return_filing, is_district_of
from ..services import team_member_q
from ..workflows import BATCH, CORRECTION, ENTRY, VISIT
from .reads import batch_overview, queue_for, title_lists
from .school import entry_view


def _shown(scope: Scope, actions: list[Action]) -> list[Action]:
    """Bureau staff see every button (greyed with the reason); others only theirs."""
    if scope.is_reviewer or scope.is_platform_admin:
        return actions
    return [a for a in actions if a.allowed]


def _by_name(actions: list[Action]) -> dict[str, Action]:
    return {a.name: a for a in actions}


def create_action(workflow: Workflow, name: str, scope: Scope, parent) -> Action:
    """The button of a transition that creates an object (source ``NEW``) under ``parent``:
    a site visit for a school, a correction of a school's data."""
    t = workflow[name]
    ok, reason = t.check_permission(scope, parent)
    return Action(t.name, str(t.label), ok, reason, t.url, t.style, parent.pk)


# --- the batch page ----------------------------------------------------------------------------

BATCH_PAGE_ACTIONS = (
    "import",
    "assess",
    "adopt_standard",
    "import_titles",
    "sync",
    "freeze",
    "publish",
)


def batch_page(scope: Scope, batch: Batch) -> dict:
    """The batch page: counts per certifier, the district's own standard, and the buttons."""
    overview = batch_overview(scope, batch)
    is_district = is_district_of(scope, batch)
    district_standard, derived = None, []
    if is_district:
        district_standard = (
            batch.district_standards.filter(certifier_id=scope.org_id)
            .select_related("standard")
            .first()
        )
        derived = [
            s for s in Standard.objects.exclude(pk=batch.standard_id) if batch.standard in s.chain()
        ]
    my_row = next((r for r in overview["districts"] if r.org.pk == scope.org_id), None)
    actions = _by_name(_shown(scope, BATCH.actions(scope, batch, names=BATCH_PAGE_ACTIONS)))
    return {
        "batch": batch,
        "overview": overview,
        "is_district": is_district,
        "is_certifier": my_row is not None,
        "my_row": my_row,
        "queue_count": queue_for(scope, batch).count() if my_row else 0,
        "district_standard": district_standard,
        "derived": derived,
        "titles": title_lists(batch),
        "additional": batch.additional_standards.all(),
        "import_action": actions.get("import"),
        "data_actions": [actions[n] for n in ("assess",) if n in actions],
        # The district's own standard: only for districts, only while the batch is open.
        "adopt_action": actions.get("adopt_standard") if is_district else None,
        "titles_action": actions.get("import_titles"),
        "manage_actions": [actions[n] for n in ("sync", "freeze", "publish") if n in actions],
        "published": batch.state == BatchState.PUBLISHED,
    }


def import_action(scope: Scope, batch: Batch) -> Action | None:
    """The import form's action: None once the batch no longer takes data."""
    found = BATCH.actions(scope, batch, names=["import"])
    return found[0] if found else None


# --- one school ----------------------------------------------------------------------------------


def team_candidates(entry: Entry) -> list[tuple[str, str]]:
    """Who may be put on a school's verification team: experts, or the certifier's staff."""
    members = (
        Membership.objects.filter(is_active=True)
        .filter(team_member_q(entry.certifier))
        .select_related("user", "org")
        .order_by("user__username")
    )
    seen = {}
    for m in members:
        seen.setdefault(
            str(m.user_id), f"{m.user.display_name}（{m.org.name} · {m.get_role_display()}）"
        )
    return list(seen.items())


def _visit_actions(scope: Scope, entry: Entry, open_visit, editable: bool) -> dict[str, Action]:
    if open_visit is not None:
        return _by_name(_shown(scope, VISIT.actions(scope, open_visit)))
    if editable:
        return _by_name(_shown(scope, [create_action(VISIT, "assign", scope, entry)]))
    return {}


def entry_page(scope: Scope, entry: Entry) -> dict:
    """One school's page: its assessment, corrections, visits and the buttons for each."""
    batch = entry.batch
    view = entry_view(entry) if entry.state != EntryState.EXEMPT else None
    corrections_open = not batch.is_frozen and timezone.localdate() <= batch.cutoff
    visits = list(entry.visits.prefetch_related("team", "findings", "findings__evidence"))
    open_visit = next((v for v in visits if v.state == VisitState.ASSIGNED), None)
    editable = ENTRY.can_leave(entry, "decide")
    corrections = list(entry.corrections.prefetch_related("evidence").select_related("filed_by"))
    for c in corrections:
        c.entry = entry
        # Corrections change data: once the batch is frozen nobody decides them any more.
        c.actions = [] if batch.is_frozen else _shown(scope, CORRECTION.actions(scope, c))
        c.may_decide = any(a.allowed for a in c.actions)
    file_correction = None
    if corrections_open and view is not None:
        action = create_action(CORRECTION, "file", scope, entry)
        file_correction = action if action.allowed else None
    decide = _shown(scope, ENTRY.actions(scope, entry, names=["decide"]))
    indicator_choices = []
    for section in view.sections if view else ():
        if not section.is_base:
            for row in section.rows:
                indicator_choices.append(
                    (row.indicator.code, f"{row.indicator.code} {row.indicator.name}")
                )
    return {
        "entry": entry,
        "batch": batch,
        "view": view,
        "corrections": corrections,
        "corrections_open": corrections_open,
        "file_correction": file_correction,
        "visits": visits,
        "open_visit": open_visit,
        "visit_actions": _visit_actions(scope, entry, open_visit, editable),
        "decide_action": decide[0] if decide else None,
        "indicator_choices": indicator_choices,
        "show_result": scope.is_reviewer
        or scope.is_platform_admin
        or bool(entry.decision)
        or scope.is_expert,
        "certificate": entry.is_certified and entry.is_final,
    }


# --- filing ------------------------------------------------------------------------------------


def filing_page(scope: Scope, batch: Batch, org) -> dict:
    """A district files here; the batch owner sees every filing and may send one back."""
    filings = batch.filings.select_related("org", "filed_by", "returned_by")
    # The owner and the bureaus above it see every district's filing.
    sees_all = scope.is_platform_admin or (org is not None and batch.owner.is_within(org))
    if not sees_all:
        filings = filings.filter(org_id=scope.org_id)
    mine = batch.filings.filter(org=org).order_by("-filed_at") if org else batch.filings.none()
    return {
        "batch": batch,
        "filings": filings,
        "org": org,
        "can_file": org is not None and can_file_results(scope, batch)[0],
        # Results are final once the list is published.
        "can_return": can_return_filing(scope, batch)[0] and batch.state != BatchState.PUBLISHED,
        "already": mine.filter(returned_at__isnull=True).first(),
        "returned": mine.filter(returned_at__isnull=False).first(),
        "pending": batch.entries.filter(certifier=org, state=EntryState.QUEUED).count()
        if org
        else 0,
    }
