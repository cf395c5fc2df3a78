"""Pages of plans, reports, acceptance materials and cases, and the completeness table. Thin:
services act, ``pages_submissions`` and ``reports`` compute what is shown."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from edupilot.applications import formspec
from edupilot.applications.files import attachment_response
from edupilot.audit.services import actor_from
from edupilot.core.action_views import object_action
from edupilot.core.errors import Denied, Refused

from . import pages_submissions as pages
from . import reports, selectors, services
from .permissions import is_unit
from .views import _require_org_role

TEMPLATE = "pilots/submission.html"


def _upload_and_submit(request, sub):
    """After a draft save: store the uploaded files, then submit if asked."""
    scope, actor = request.scope, actor_from(request)
    for name, upload in request.FILES.items():
        if name.startswith("a-"):
            services.submission_attach(
                submission=sub, field_key=name[2:], upload=upload, scope=scope, actor=actor
            )
    if request.POST.get("action") == "submit":
        services.submission_submit(submission=sub, scope=scope, actor=actor)
        return _("已提交，等待审核。")
    return _("草稿已保存。")


def _post(request, *, pilot, stage_key, period):
    """Save (and attach, and submit); on a refusal re-render with what was typed kept."""
    sub = None
    try:
        sub, result = services.submission_save(
            pilot=pilot,
            stage_key=stage_key,
            period=period,
            post=request.POST,
            scope=request.scope,
            actor=actor_from(request),
        )
        if not result.ok:
            raise services.SubmissionError(
                _("有内容格式不正确，已保存草稿，请按提示修改。"), result.errors
            )
        message = _upload_and_submit(request, sub)
    except Denied as exc:
        raise PermissionDenied(exc.message) from exc
    except Refused as exc:
        posted = formspec.clean_post(
            services.stage_form(services.submittable_stage(pilot, stage_key)), request.POST
        ).data
        if sub is None:
            stage = services.submittable_stage(pilot, stage_key)
            ctx = pages.new_submission_page(
                request.scope,
                pilot,
                stage,
                services.stage_period(pilot, stage, period),
                posted_data=posted,
                errors=exc.errors,
            )
        else:
            sub.refresh_from_db()
            sub.pilot = pilot
            ctx = pages.submission_page(request.scope, sub, posted_data=posted, errors=exc.errors)
        ctx["error"] = exc.message
        return render(request, TEMPLATE, ctx, status=400)
    messages.success(request, message)
    return redirect("pilots:submission", pk=sub.pk)


@login_required
def submission_new(request, pk, stage):
    """A period's form before anything is saved; an existing submission redirects to its page."""
    _require_org_role(request)
    pilot = selectors.access_pilot(request.scope, pk)
    if not is_unit(request.scope, pilot):
        raise PermissionDenied(_("只有试点单位可以填写和提交。"))
    period = (request.POST.get("period") or request.GET.get("period") or "")[:12]
    try:
        st = services.submittable_stage(pilot, stage)
        p = services.stage_period(pilot, st, period)
    except Refused as exc:
        raise Http404(exc.message) from exc
    existing = pilot.submissions.filter(stage=st.key, period=p.key).first()
    if existing is not None:
        return redirect("pilots:submission", pk=existing.pk)
    if request.method == "POST":
        return _post(request, pilot=pilot, stage_key=st.key, period=p.key)
    return render(request, TEMPLATE, pages.new_submission_page(request.scope, pilot, st, p))


@login_required
def submission_detail(request, pk):
    _require_org_role(request)
    sub = selectors.access_submission(request.scope, pk)
    if request.method == "POST":
        return _post(request, pilot=sub.pilot, stage_key=sub.stage, period=sub.period)
    return render(request, TEMPLATE, pages.submission_page(request.scope, sub))


def _submission_action(service, *, posted=(), success):
    return object_action(
        selectors.access_submission,
        service,
        "submission",
        posted=posted,
        success=success,
        back=lambda sub: reverse("pilots:submission", args=[sub.pk]),
        guard=_require_org_role,
    )


submission_submit = _submission_action(
    services.submission_submit, success=gettext_lazy("已提交，等待审核。")
)
submission_accept = _submission_action(
    services.submission_accept, posted=("reason",), success=gettext_lazy("已审核通过。")
)
submission_return = _submission_action(
    services.submission_return, posted=("reason",), success=gettext_lazy("已退回修改。")
)


@login_required
def submission_file(request, pk, file):
    _require_org_role(request)
    return attachment_response(selectors.access_submission_file(request.scope, pk, file))


def _require_supervisor(request):
    _require_org_role(request)
    if not (request.scope.is_reviewer or request.scope.is_platform_admin):
        raise Http404


COMPLETENESS_PAGE = 100


@login_required
def completeness(request):
    _require_supervisor(request)
    data = reports.completeness(request.scope, request.GET)
    # 100 pilots a page; the totals (and the XLSX) cover them all.
    page = Paginator(data.rows, COMPLETENESS_PAGE).get_page(request.GET.get("page") or 1)
    return render(request, "pilots/completeness.html", {"data": data, "page": page})


@login_required
def completeness_export(request):
    _require_supervisor(request)
    # The XLSX is written in Chinese whatever the page's language, period labels included.
    with translation.override(settings.LANGUAGE_CODE):
        data = reports.completeness(request.scope, request.GET)
    if data.stage is None:
        raise Http404
    return reports.CompletenessExport(data).response()
