"""Applicant pages: open programmes, the form, uploads, members, submission, history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from edupilot.audit.services import actor_from
from edupilot.core.action_views import object_action

from . import selectors, services
from .files import attachment_response
from .presenters import detail_context, form_context
from .thumbs import thumbnail_response


def _require_applicant(request):
    if not request.scope.is_applicant:
        raise Http404


@login_required
def home(request):
    """An applicant's desk: its applications, and what it may apply for (or why not)."""
    _require_applicant(request)
    scope = request.scope
    org = scope.org
    applications = list(selectors.applications_of_org(scope))
    choices = selectors.choices_for_org(org, applications=applications)
    return render(
        request,
        "applications/home.html",
        {"org": org, "choices": choices, "applications": applications, "now": timezone.now()},
    )


@login_required
@require_POST
def start(request):
    _require_applicant(request)
    programme = selectors.access_programme_to_apply(request.scope, request.POST.get("programme"))
    try:
        application = services.application_start(
            programme=programme,
            category_code=request.POST.get("category", ""),
            scope=request.scope,
            actor=actor_from(request),
        )
    except services.ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("applications:home")
    return redirect("applications:edit", pk=application.pk)


def _save_uploads(request, application, errors: dict) -> int:
    saved = 0
    for name, files in request.FILES.lists():
        if not name.startswith("a-"):
            continue
        key = name[2:]
        for upload in files:
            try:
                services.application_attach(
                    application=application,
                    field_key=key,
                    upload=upload,
                    scope=request.scope,
                    actor=actor_from(request),
                )
                saved += 1
            except services.ApplicationError as exc:
                errors.setdefault(key, []).append(exc.message)
    return saved


def _save_draft(request, application, actor):
    """Save the posted draft; ``revision`` is the one the page was loaded at (stale: refused)."""
    try:
        revision = int(request.POST.get("revision", ""))
    except ValueError:
        revision = None
    return services.application_save_draft(
        application=application,
        post=request.POST,
        scope=request.scope,
        actor=actor,
        revision=revision,
        editor=request.POST.get("editor", ""),
    )


@login_required
def edit(request, pk):
    _require_applicant(request)
    application = selectors.access_application(request.scope, pk)
    if not application.is_editable:
        return redirect("applications:detail", pk=application.pk)
    errors: dict[str, list[str]] = {}
    posted = None
    extra_rows: dict[str, int] = {}
    if request.method == "POST":
        actor = actor_from(request)
        action = request.POST.get("action", "save")
        try:
            result = _save_draft(request, application, actor)
            errors.update(result.errors)
        except services.StaleDraft as exc:
            messages.error(request, exc.message)
            posted = request.POST
            application.refresh_from_db()
            return _render_edit(request, application, errors, posted=posted, status=409)
        except services.ApplicationError as exc:
            messages.error(request, exc.message)
            return _render_edit(request, application, errors, posted=request.POST, status=400)
        _save_uploads(request, application, errors)
        if request.POST.get("remove_attachment"):
            try:
                services.application_detach(
                    application=application,
                    attachment_id=int(request.POST["remove_attachment"]),
                    scope=request.scope,
                    actor=actor,
                )
                messages.success(request, _("附件已删除。"))
            except (services.ApplicationError, ValueError) as exc:
                messages.error(request, getattr(exc, "message", _("附件不存在。")))
        if request.POST.get("goto") == "members":
            # The draft is saved (what did not validate is kept and flagged on return).
            if errors:
                messages.warning(request, _("草稿已保存，但有内容需要修改，返回本页后可见提示。"))
            return redirect("applications:members", pk=application.pk)
        if request.POST.get("add_row"):
            extra_rows[request.POST["add_row"]] = 1
        application.refresh_from_db()
        if action == "submit" and not errors:
            try:
                version = services.application_submit(
                    application=application, scope=request.scope, actor=actor
                )
            except services.ApplicationError as exc:
                errors.update(exc.errors)
                messages.error(request, exc.message)
            else:
                application.refresh_from_db()
                messages.success(
                    request,
                    _("申报已提交（第 %(n)s 版），等待 %(org)s 审核。")
                    % {"n": version.number, "org": application.chain[0]["org_name"]},
                )
                return redirect("applications:detail", pk=application.pk)
        elif action == "submit":
            # Not submitted because of what was just typed; say at once what else is missing.
            _merge_errors(errors, services.submission_check(application)[0].errors)
            messages.error(
                request, _("申报表还有未填写完整或不符合要求的内容，请按提示修改后再提交。")
            )
        elif (
            not errors
            and not request.POST.get("remove_attachment")
            and not request.POST.get("add_row")
        ):
            messages.success(request, _("草稿已保存。"))
            return redirect("applications:edit", pk=application.pk)
        elif errors:
            messages.warning(request, _("草稿已保存，但有内容需要修改，见下方提示。"))
    return _render_edit(request, application, errors, extra_rows=extra_rows)


def _merge_errors(errors: dict, more: dict) -> None:
    """Add ``more`` to ``errors`` without repeating a message a field already has."""
    for key, msgs in more.items():
        bucket = errors.setdefault(key, [])
        bucket.extend(m for m in msgs if m not in bucket)


def _render_edit(request, application, errors, posted=None, status=200, extra_rows=None):
    ctx = form_context(
        application, errors=errors, posted=posted, extra_rows=extra_rows or {}, editing=True
    )
    ctx["deadline"] = services.edit_deadline(application)
    return render(request, "applications/edit.html", ctx, status=status)


@login_required
@require_POST
def autosave(request, pk):
    """htmx: save the draft as the applicant types; answers with a status line."""
    _require_applicant(request)
    application = selectors.access_application(request.scope, pk)
    try:
        result = _save_draft(request, application, actor_from(request))
    except services.ApplicationError as exc:
        return render(
            request,
            "applications/_autosave_status.html",
            {"error": exc.message, "revision": application.revision},
            status=200,
        )
    return render(
        request,
        "applications/_autosave_status.html",
        {
            "saved_at": timezone.localtime(),
            "revision": application.revision,
            "error_count": len(result.errors),
        },
    )


@login_required
def members(request, pk):
    _require_applicant(request)
    application = selectors.access_application(request.scope, pk)
    candidates, field = services.member_candidates(application)
    if field is None:
        raise Http404
    if request.method == "POST":
        try:
            ids = [int(v) for v in request.POST.getlist("member")]
            services.application_set_members(
                application=application, org_ids=ids, scope=request.scope, actor=actor_from(request)
            )
            messages.success(request, _("成员学校名单已保存（%(n)s 所）。") % {"n": len(ids)})
            return redirect("applications:edit", pk=application.pk)
        except ValueError:
            messages.error(request, _("选择无效。"))
        except services.ApplicationError as exc:
            messages.error(request, exc.message)
    q = request.GET.get("q", "").strip()
    selected = set(application.members.values_list("org_id", flat=True))
    listed = candidates
    if q:
        listed = listed.filter(name__contains=q)
    page = Paginator(listed.select_related("parent"), 200).get_page(request.GET.get("page"))
    return render(
        request,
        "applications/members.html",
        {
            "application": application,
            "field": field,
            "page": page,
            "selected": selected,
            "selected_orgs": list(candidates.filter(pk__in=selected)),
            "q": q,
            "total": candidates.count(),
        },
    )


def _serve_url(request, url_name: str, *args):
    """Answer with the page at ``url_name``, in place (the address stays this one).

    By URL name, like a link: review is above applications and is not imported here."""
    match = resolve(reverse(url_name, args=args))
    return match.func(request, *match.args, **match.kwargs)


@login_required
def detail(request, pk):
    if request.scope.is_applicant:
        submitted = selectors.applications_for(request.scope).filter(pk=pk, version__gt=0).exists()
        if submitted:
            # Once submitted, the applicant's page is the review page, read-only: the chain,
            # each level's opinion and any return reasons are what it needs to see.
            return _serve_url(request, "review:detail", pk)
    application = selectors.application_detail(request.scope, pk)
    return render(request, "applications/detail.html", detail_context(application, request.scope))


@login_required
def version(request, pk, number):
    application = selectors.access_application(request.scope, pk)
    v = get_object_or_404(application.versions, number=number)
    previous = application.versions.filter(number=number - 1).first()
    from .presenters import version_diff, version_sections

    return render(
        request,
        "applications/version.html",
        {
            "application": application,
            "version": v,
            "sections": version_sections(application, v),
            "changes": version_diff(application, previous, v) if previous else None,
            "previous": previous,
        },
    )


withdraw = object_action(
    selectors.access_application,
    services.application_withdraw,
    "application",
    guard=_require_applicant,
    success=gettext_lazy("申报已撤回，可以修改后重新提交。"),
    back=lambda application: reverse("applications:detail", kwargs={"pk": application.pk}),
    confirm=lambda application: {
        "title": _("撤回申报"),
        "question": _("确定要撤回 %(org)s 的这份申报吗？")
        % {"org": application.applicant_org.name},
        "points": [
            _("撤回后申报退出审核流程，修改后重新提交才会再次进入审核。"),
            _("重新提交须在申报截止时间之前，否则视为未申报。"),
        ],
        "confirm_label": _("确认撤回"),
    },
)


@login_required
def attachment(request, pk, attachment_id):
    """Download an uploaded file, through the application's scope."""
    return attachment_response(selectors.access_attachment(request.scope, pk, attachment_id))


@login_required
def attachment_thumb(request, pk, attachment_id):
    """The thumbnail of an uploaded photo, through the application's scope."""
    return thumbnail_response(selectors.access_attachment(request.scope, pk, attachment_id))


@login_required
def org_applications(request):
    """Reviewers and admins: applications in their subtree (the review queue builds on this)."""
    if not (request.scope.is_reviewer or request.scope.is_platform_admin):
        raise Http404
    qs = (
        selectors.applications_for(request.scope)
        .exclude(state="draft")
        .select_related("programme", "applicant_org", "current_org")
        .order_by("-submitted_at", "-pk")
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "applications/org_list.html", {"page": page})
