"""Scoped reads of the pilot stages' rows: each through its pilot's :func:`access_pilot`
(404 when the scope does not see the pilot), or the issuer's own programme."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404

from edupilot.orgs.scoping import Scope
from edupilot.programmes.models import Programme

from .models import AcceptanceReview, Honour, Inspection, Submission
from .permissions import can_manage_honours
from .selectors import access_pilot


def access_inspection(scope: Scope, pk) -> Inspection:
    pilot_id = get_object_or_404(Inspection.objects.values_list("pilot_id", flat=True), pk=pk)
    pilot = access_pilot(scope, pilot_id)
    inspection = Inspection.objects.select_related("org").get(pk=pk)
    inspection.pilot = pilot
    return inspection


def access_acceptance_submission(scope: Scope, pk) -> Submission:
    qs = Submission.objects.filter(kind="acceptance").values_list("pilot_id", flat=True)
    pilot = access_pilot(scope, get_object_or_404(qs, pk=pk))
    sub = Submission.objects.get(pk=pk)
    sub.pilot = pilot
    return sub


def own_review(scope: Scope, pk) -> AcceptanceReview:
    """An expert's own active review; 404 for anyone else."""
    return get_object_or_404(
        AcceptanceReview.objects.select_related(
            "submission", "submission__pilot", "submission__pilot__programme",
            "submission__pilot__unit",
        ),
        pk=pk, expert_id=scope.user_id or 0, is_active=True,
    )  # fmt: skip


def issuer_programme(scope: Scope, pk) -> Programme:
    """The programme, for its issuer's programme admins only (404 for everyone else)."""
    programme = get_object_or_404(Programme.objects.select_related("issuer"), pk=pk)
    if not can_manage_honours(scope, programme)[0]:
        raise Http404
    return programme


def issuer_honour(scope: Scope, pk) -> Honour:
    honour = get_object_or_404(Honour.objects.select_related("pilot"), pk=pk)
    honour.pilot.programme = issuer_programme(scope, honour.pilot.programme_id)
    return honour
