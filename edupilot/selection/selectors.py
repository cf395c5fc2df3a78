"""Scoped reads of selection: every page and service reaches rows through these.

- the issuer's programme admin reaches the programmes its own org issued
  (:func:`selection_programmes`), their applications through its scope, their pools,
  assignments, decisions and announcements; anything else answers 404;
- an expert reaches applications only through its own active assignments
  (:func:`assignments_for`), never through ``applications_for``; it does not see the other
  experts' scores until it has submitted its own (:func:`peer_scores_for`);
- the public reaches published announcements, and of them unit names only.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from edupilot.applications.models import (
    Application,
    ApplicationMember,
    ApplicationVersion,
    AppState,
    Attachment,
)
from edupilot.orgs.models import Membership, Role
from edupilot.orgs.scoping import Scope, get_or_404, scoped
from edupilot.programmes.models import Programme
from edupilot.review.hooks import DECIDED, IssuerAct

from .experts import conflict_paths, paths_conflict
from .models import (
    Announcement,
    AnnouncementEntry,
    ApprovalDecision,
    ApprovalOutcome,
    EntryOutcome,
    ExpertAssignment,
    ExpertGroupOpinion,
    ExpertPoolMember,
    Objection,
)
from .permissions import can_manage_selection

# --- the issuer's programmes and applications ---------------------------------------------------


def selection_programmes(scope: Scope) -> QuerySet[Programme]:
    """Programmes whose selection ``scope`` manages: those its own org issued."""
    if not scope.is_authenticated or scope.role != Role.PROGRAMME_ADMIN:
        return Programme.objects.none()
    return Programme.objects.filter(issuer_id=scope.org_id, kind="call").select_related("issuer")


def access_selection_programme(scope: Scope, pk) -> Programme:
    """One programme the scope manages, or 404 so that its existence does not leak."""
    return get_or_404(selection_programmes(scope), pk=pk)


def _of_managed(model, scope: Scope, programme_path: str) -> QuerySet:
    """Rows of ``model`` whose programme (at ``programme_path``) ``scope`` manages, the
    programme and its issuer joined."""
    return model.objects.filter(
        **{f"{programme_path}__in": selection_programmes(scope).values("pk")}
    ).select_related(f"{programme_path}__issuer")


def selection_applications(scope: Scope, programme: Programme) -> QuerySet[Application]:
    """The applications of a managed programme, through the scope (the issuer's subtree)."""
    if not can_manage_selection(scope, programme)[0]:
        return Application.objects.none()
    return scoped(Application.objects.filter(programme=programme), scope, org_field="applicant_org")


def access_selection_application(scope: Scope, pk) -> Application:
    qs = scoped(
        _of_managed(Application, scope, "programme"), scope, org_field="applicant_org"
    ).select_related("applicant_org", "current_org")
    return get_or_404(qs, pk=pk)


def waiting_count(programme: Programme) -> int:
    """Applications awaiting the issuer's decision."""
    return Application.objects.filter(programme=programme, state=AppState.RECOMMENDED).count()


# --- experts ------------------------------------------------------------------------------------


def expert_pool(programme: Programme) -> QuerySet[ExpertPoolMember]:
    return (
        ExpertPoolMember.objects.filter(programme=programme)
        .select_related("user", "org")
        .annotate(
            load=Count("assignments", filter=Q(assignments__is_active=True), distinct=True),
            done=Count(
                "assignments",
                filter=Q(assignments__is_active=True, assignments__submitted_at__isnull=False),
                distinct=True,
            ),
        )
        .order_by("-is_active", "org__path", "user__username")
    )


def access_pool_member(scope: Scope, programme: Programme, pk) -> ExpertPoolMember:
    if not can_manage_selection(scope, programme)[0]:
        raise Http404
    return get_or_404(ExpertPoolMember.objects.filter(programme=programme), pk=pk)


def expert_candidates(scope: Scope, programme: Programme) -> QuerySet[Membership]:
    """Expert memberships in the issuer's subtree that are not in the pool yet."""
    if not can_manage_selection(scope, programme)[0]:
        return Membership.objects.none()
    in_pool = ExpertPoolMember.objects.filter(programme=programme, is_active=True).values(
        "membership_id"
    )
    return (
        scoped(
            Membership.objects.filter(role=Role.EXPERT, is_active=True, user__is_active=True),
            scope,
            org_field="org",
        )
        .exclude(pk__in=in_pool)
        .select_related("user", "org")
        .order_by("org__path", "user__username")
    )


def find_expert_membership(username: str) -> Membership | None:
    """An expert from outside the issuer's subtree, named by its exact user name."""
    username = (username or "").strip()
    if not username:
        return None
    return (
        Membership.objects.filter(
            role=Role.EXPERT, is_active=True, user__is_active=True, user__username=username
        )
        .select_related("user", "org")
        .order_by("id")
        .first()
    )


def assignment_options(application: Application, assigned_users: set[int]) -> list[dict]:
    """The pool's active experts not yet on the application, each flagged when it must
    recuse itself (conflict of interest)."""
    pool = list(
        ExpertPoolMember.objects.filter(programme_id=application.programme_id, is_active=True)
        .select_related("user", "org")
        .order_by("org__path", "user__username")
    )
    paths = conflict_paths(m.user_id for m in pool)
    return [
        {
            "member": m,
            "conflict": paths_conflict(paths.get(m.user_id, []), application.applicant_org.path)
            is not None,
        }
        for m in pool
        if m.user_id not in assigned_users
    ]


def managed_assignments(scope: Scope) -> QuerySet[ExpertAssignment]:
    """Assignments on the programmes ``scope`` manages (to withdraw them)."""
    return _of_managed(ExpertAssignment, scope, "application__programme")


def access_managed_assignment(scope: Scope, pk) -> ExpertAssignment:
    return get_or_404(managed_assignments(scope), pk=pk)


def assignments_for(scope: Scope) -> QuerySet[ExpertAssignment]:
    """The expert's own active assignments: an expert's only way to an application."""
    if not scope.is_authenticated or scope.role != Role.EXPERT:
        return ExpertAssignment.objects.none()
    return ExpertAssignment.objects.filter(expert_id=scope.user_id, is_active=True)


def access_assignment(scope: Scope, pk) -> ExpertAssignment:
    qs = assignments_for(scope).select_related(
        "application",
        "application__programme",
        "application__programme__issuer",
        "application__applicant_org",
    )
    return get_or_404(qs, pk=pk)


def expert_tasks(scope: Scope) -> list[ExpertAssignment]:
    """The expert's task list: unsubmitted first, then the newest."""
    return list(
        assignments_for(scope)
        .select_related("application__applicant_org", "application__programme")
        # The programme's spec is parsed once per file (cached by its hash), not per row.
        .defer(
            "application__data",
            "application__programme__spec",
            "application__programme__source_text",
        )
        .order_by("submitted_at", "-assigned_at", "pk")
    )


def peer_scores_for(assignment: ExpertAssignment) -> list[ExpertAssignment]:
    """Other experts' submitted scores on the same application, once this one submitted."""
    if assignment.submitted_at is None:
        return []
    return list(
        ExpertAssignment.objects.filter(
            application_id=assignment.application_id,
            version=assignment.version,
            is_active=True,
            submitted_at__isnull=False,
        )
        .exclude(pk=assignment.pk)
        .prefetch_related("scores")
        .order_by("submitted_at", "pk")
    )


def assigned_version(assignment: ExpertAssignment) -> ApplicationVersion | None:
    """The frozen version of the application the expert was assigned to score."""
    return ApplicationVersion.objects.filter(
        application_id=assignment.application_id, number=assignment.version
    ).first()


def access_assigned_file(assignment: ExpertAssignment, attachment_id) -> Attachment:
    """An attachment of the assigned version (with its blob), or 404: an expert reads only
    the files of the version it scores, never a later or an earlier one."""
    version = assigned_version(assignment)
    if version is None or attachment_id not in {a.get("id") for a in version.attachments}:
        raise Http404
    qs = Attachment.objects.select_related("blob").filter(application_id=assignment.application_id)
    return get_or_404(qs, pk=attachment_id)


def current_group_opinion(application: Application) -> ExpertGroupOpinion | None:
    return (
        application.expert_group_opinions.select_related("recorded_by")
        .order_by("-recorded_at", "-id")
        .first()
    )


# --- decisions --------------------------------------------------------------------------------


def active_decision(application: Application) -> ApprovalDecision | None:
    return (
        ApprovalDecision.objects.filter(application=application, is_active=True)
        .select_related("decided_by", "announcement")
        .first()
    )


def access_decision(scope: Scope, pk) -> ApprovalDecision:
    return get_or_404(_of_managed(ApprovalDecision, scope, "programme"), pk=pk)


def pending_decisions(programme: Programme) -> QuerySet[ApprovalDecision]:
    """Decisions not yet published in an announcement."""
    return ApprovalDecision.objects.filter(
        programme=programme, is_active=True, announcement__isnull=True
    )


def pending_approvals(programme: Programme) -> QuerySet[ApprovalDecision]:
    """Pending approvals that count against the category's cap."""
    return pending_decisions(programme).filter(
        outcome=ApprovalOutcome.APPROVE, application__state=AppState.RECOMMENDED
    )


def issuer_acted(application: Application) -> str:
    """What the issuer has done on an application awaiting its decision (review's hook)."""
    if ApprovalDecision.objects.filter(application=application, is_active=True).exists():
        return IssuerAct(_("审定单位已作出审定决定"), DECIDED)
    if ExpertAssignment.objects.filter(
        application=application, is_active=True, version=application.version
    ).exists():
        return _("审定单位已安排专家评审")
    return ""


# --- announcements ------------------------------------------------------------------------------


def announcements_for(scope: Scope) -> QuerySet[Announcement]:
    """Announcements of the programmes ``scope`` manages (objections included)."""
    return _of_managed(Announcement, scope, "programme")


def access_announcement(scope: Scope, pk) -> Announcement:
    return get_or_404(announcements_for(scope), pk=pk)


def access_entry(announcement: Announcement, pk) -> AnnouncementEntry:
    """An entry of an announcement already reached through the scope."""
    return get_or_404(AnnouncementEntry.objects.filter(announcement=announcement), pk=pk)


def access_objection(scope: Scope, pk) -> Objection:
    return get_or_404(_of_managed(Objection, scope, "announcement__programme"), pk=pk)


def public_announcements() -> QuerySet[Announcement]:
    """Every published announcement, newest first: the public list (no login)."""
    return (
        Announcement.objects.select_related("programme", "programme__issuer")
        .annotate(listed=Count("entries", filter=Q(entries__outcome=EntryOutcome.LISTED)))
        .order_by("-published_at", "-pk")
    )


def public_announcements_search(q: str = "", state: str = "") -> QuerySet[Announcement]:
    """:func:`public_announcements` of one state ("" for all) whose title, programme or a
    listed unit's name contains ``q``."""
    qs = public_announcements()
    if state:
        qs = qs.filter(state=state)
    if q:
        listed = AnnouncementEntry.objects.filter(
            outcome=EntryOutcome.LISTED, unit_name__icontains=q
        ).values("announcement_id")
        qs = qs.filter(
            Q(title__icontains=q)
            | Q(programme__title__icontains=q)
            | Q(programme__issuer__name__icontains=q)
            | Q(pk__in=listed)
        )
    return qs


def public_announcement(pk) -> Announcement:
    """One announcement with its listed entries only: names of units, never of people; a
    region bid's entry carries its member schools (``entry.member_names``)."""
    ann = get_or_404(
        Announcement.objects.select_related("programme", "programme__issuer").prefetch_related(
            Prefetch(
                "entries",
                queryset=AnnouncementEntry.objects.filter(outcome=EntryOutcome.LISTED).order_by(
                    "position"
                ),
                to_attr="listed_entries",
            )
        ),
        pk=pk,
    )
    members: dict[int, list[str]] = {}
    rows = (
        ApplicationMember.objects.filter(
            application_id__in=[e.application_id for e in ann.listed_entries]
        )
        .order_by("org__path", "org__code")
        .values_list("application_id", "org__name")
    )
    for app_id, name in rows:
        members.setdefault(app_id, []).append(name)
    for e in ann.listed_entries:
        e.member_names = members.get(e.application_id, [])
    return ann
