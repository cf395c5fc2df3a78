"""Reviewer pages: the queue, an application with its chain and the level's action forms.

Views stay thin: reads go through selectors (scoped), writes through services. Refusals
that are about *who* acts are 403; refusals about state, deadline or quota come back to the
page as a message and change nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from edupilot.applications.presenters import detail_context, version_diff
from edupilot.applications.selectors import access_application, applications_for
from edupilot.audit.services import actor_from
from edupilot.core.action_views import object_action
from edupilot.core.actions import run_action, safe_back

from . import queue as reviewer_queue
from . import selectors, services
from .calls import level_call


def _require_reviewer(request) -> None:
    if not request.scope.is_reviewer:
        raise Http404


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
def queue(request):
    _require_reviewer(request)
    filters = reviewer_queue.QueueFilters.from_params(request.GET)
    view = reviewer_queue.review_queue(request.scope, filters)
    return render(
        request,
        "review/queue.html",
        {
            "q": view,
            "page": view.page,
            "pending": view.filters.state == reviewer_queue.PENDING,
            "passed": view.filters.state == reviewer_queue.PASSED,
            # One reverse for the page instead of one per row.
            "detail_base": reverse("review:detail", args=[0])[:-2],
        },
    )


@login_required
def detail(request, pk):
    scope = request.scope
    if not (scope.is_reviewer or scope.is_applicant or scope.is_platform_admin):
        raise Http404
    d = selectors.review_detail(scope, pk)
    app = d.application
    versions = app.version_list
    changes = None
    if len(versions) >= 2:
        changes = version_diff(app, versions[1], versions[0])
    return render(
        request,
        "review/detail.html",
        {
            **detail_context(app, scope),
            "review": d,
            "changes": changes,
            "previous_version": versions[1] if len(versions) >= 2 else None,
        },
    )


def _decide(request, pk, action: str, success: str, **fields):
    """A reviewer's decision on one application (:func:`level_call` of ``action`` with
    ``fields``), then the queue with ``success`` (naming the applicant), or back to the
    application with the refusal."""
    application = access_application(request.scope, pk)
    call = level_call(request, action, **fields)
    return run_action(
        request,
        lambda: call(application),
        success=lambda _d: success % {"name": application.applicant_org.name},
        back=reverse("review:detail", args=[pk]),
        done=reverse("review:queue"),
    )


@login_required
@require_POST
def recommend(request, pk):
    _require_reviewer(request)
    rank = _int(request.POST.get("rank"))
    if request.POST.get("rank") and (rank is None or rank < 1):
        messages.error(request, _("推荐排序须为正整数。"))
        return redirect("review:detail", pk=pk)
    return _decide(
        request,
        pk,
        "recommend",
        _("已推荐“%(name)s”。"),
        opinion=request.POST.get("opinion", ""),
        rank=rank,
    )


@login_required
@require_POST
def return_(request, pk):
    _require_reviewer(request)
    return _decide(
        request,
        pk,
        "return",
        _("已将“%(name)s”的申报退回修改。"),
        reasons=request.POST.get("reasons", ""),
    )


@login_required
@require_POST
def not_recommend(request, pk):
    _require_reviewer(request)
    return _decide(
        request,
        pk,
        "not_recommend",
        _("已对“%(name)s”作出不予推荐。"),
        reason=request.POST.get("reason", ""),
    )


withdraw = object_action(
    selectors.access_decision,
    services.review_withdraw_recommendation,
    "decision",
    guard=_require_reviewer,
    success=gettext_lazy("已撤回推荐，名额已释放，申报回到本级待审列表。"),
    back=lambda decision: reverse("review:detail", args=[decision.application_id]),
)


# The queue's bulk actions: the service, its text argument and that text's default, the
# message, and whether the ranks typed beside the ticks order the applications.
BULK_ACTIONS = {
    "recommend": (
        services.review_recommend_bulk,
        "opinion",
        gettext_lazy("同意推荐。"),
        gettext_lazy("已按所选顺序推荐 %(n)s 个申报。"),
        True,
    ),
    "return": (
        services.review_return_bulk,
        "reasons",
        "",
        gettext_lazy("已退回 %(n)s 个申报。"),
        False,
    ),
    "not_recommend": (
        services.review_not_recommend_bulk,
        "reason",
        "",
        gettext_lazy("已对 %(n)s 个申报作出不予推荐。"),
        False,
    ),
}


@login_required
@require_POST
def bulk(request):
    """One form for the queue's checkboxes: recommend in the order ticked (or by the rank
    typed beside each), return, or not recommend, all or none."""
    _require_reviewer(request)
    ids = []
    for value in request.POST.getlist("sel"):
        pk = _int(value)
        if pk is not None and pk not in ids:
            ids.append(pk)
    apps = {a.pk: a for a in applications_for(request.scope).filter(pk__in=ids)}
    if len(apps) != len(ids):
        raise Http404
    action = BULK_ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        messages.error(request, _("请选择批量操作。"))
        return redirect(safe_back(request, reverse("review:queue")))

    def order_key(pk):
        rank = _int(request.POST.get(f"rank-{pk}"))
        return (rank if rank is not None and rank > 0 else 10**6, ids.index(pk))

    service, text_field, default_text, success, ranked = action
    chosen = sorted(ids, key=order_key) if ranked else ids
    try:
        done = service(
            applications=[apps[pk] for pk in chosen],
            scope=request.scope,
            actor=actor_from(request),
            **{text_field: request.POST.get("text", "") or str(default_text)},
        )
        messages.success(request, str(success) % {"n": len(done)})
    except services.ReviewDenied as exc:
        raise PermissionDenied(exc.message) from exc
    except services.ReviewError as exc:
        messages.error(request, exc.message + str(_("（本次批量操作未作任何修改。）")))
    return redirect(safe_back(request, reverse("review:queue")))


@login_required
def ranking(request):
    """This org's recommendations that still count, per level, to put in order."""
    _require_reviewer(request)
    return render(
        request, "review/ranking.html", {"groups": selectors.my_ranked_levels(request.scope)}
    )


@login_required
@require_POST
def rerank(request):
    _require_reviewer(request)
    programme = reviewer_queue.access_review_programme(
        request.scope, _int(request.POST.get("programme"))
    )
    order = [pk for pk in (_int(v) for v in request.POST.getlist("order")) if pk is not None]
    ranks = {pk: _int(request.POST.get(f"rank-{pk}")) for pk in order}
    position = {pk: i for i, pk in enumerate(order)}
    order = sorted(
        order, key=lambda pk: (ranks[pk] if ranks[pk] is not None else 10**6, position[pk])
    )
    return run_action(
        request,
        lambda: services.review_rerank(
            programme=programme,
            category=request.POST.get("category", ""),
            level=request.POST.get("level", ""),
            order=order,
            scope=request.scope,
            actor=actor_from(request),
        ),
        success=_("推荐排序已更新。"),
        back=reverse("review:ranking"),
    )
