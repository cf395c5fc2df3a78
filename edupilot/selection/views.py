"""Pages of selection for the issuer's programme admin: the board, one application, the expert
pool, announcements. The experts' pages are in ``views_experts.py``, the public ones in
``views_public.py``.

Views stay thin: they fetch through the scope (``selectors.access_*``: 404 outside it), render
what ``pages.py`` computed (the buttons included), or call one service through
:func:`edupilot.core.actions.run_action` and show its message.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from edupilot.audit.services import actor_from
from edupilot.core.action_views import object_action
from edupilot.core.actions import confirm_page, confirmed, run_action, safe_back
from edupilot.core.errors import Denied, Refused
from edupilot.review.sets import title_badge, title_flags

from . import announcements as ann_services
from . import approval, experts, pages, scoring, selectors
from .errors import SelectionError
from .models import ApprovalOutcome
from .permissions import can_open_selection
from .rules import rubric_of


def act(request, call, *, success, back, done=None):
    """:func:`run_action`, with the messages of the refused fields added to the refusal's
    (these forms show no inline errors)."""

    def call_with_details():
        try:
            return call()
        except Denied:
            raise
        except Refused as exc:
            details = [m for ms in exc.errors.values() for m in ms if m not in exc.message]
            if not details:
                raise
            raise SelectionError(
                _("%(message)s（%(details)s）")
                % {"message": exc.message, "details": _("；").join(details)},
                exc.errors,
            ) from exc

    return run_action(request, call_with_details, success=success, back=back, done=done)


def act_as(request, service, *, success, back, done=None, **fields):
    """:func:`act` on ``service(**fields)`` with the scope and the actor of ``request``."""
    return act(
        request,
        lambda: service(**fields, scope=request.scope, actor=actor_from(request)),
        success=success,
        back=back,
        done=done,
    )


def int_list(values) -> list[int]:
    out = []
    for v in values:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            continue
    return out


# --- the issuer: programmes and the board ---------------------------------------------------


@login_required
def selection_home(request):
    if not can_open_selection(request.scope)[0]:
        raise Http404
    programmes = list(selectors.selection_programmes(request.scope).order_by("-updated_at"))
    if len(programmes) == 1:
        return redirect("selection:selection", programme_pk=programmes[0].pk)
    return render(request, "selection/home.html", {"programmes": programmes})


@login_required
def selection_board(request, programme_pk):
    programme = selectors.access_selection_programme(request.scope, programme_pk)
    category = request.GET.get("category") or None
    if category and programme.parsed.category(category) is None:
        category = None
    context = pages.board_page(request.scope, programme, category)
    _add_title_badges(request.scope, programme, context["boards"])
    return render(request, "selection/board.html", context)


def _add_title_badges(scope, programme, boards) -> None:
    """Beside each applicant that holds a title (``[[categories.titles]]``), the badge the
    review queue shows ("省级示范校 · 优先"), read as the queue reads it (review.sets): one
    query for the whole board, none when the file declares no title. The order is the
    board's."""
    rows = [row for b in boards for row in b.rows]
    flags = title_flags([programme])
    if not rows or not flags:
        return
    held = (
        selectors.selection_applications(scope, programme)
        .filter(pk__in=[row.application.pk for row in rows])
        .annotate(**flags)
        .only("pk", "applicant_org_id", "category")
        .in_bulk()
    )
    for b in boards:
        for row in b.rows:
            app = held.get(row.application.pk)
            row.title_badge = title_badge(app, b.category) if app is not None else ""


@login_required
@require_POST
def selection_decide(request, programme_pk):
    programme = selectors.access_selection_programme(request.scope, programme_pk)
    back = reverse("selection:selection", args=[programme.pk])
    ids = list(dict.fromkeys(int_list(request.POST.getlist("application"))))
    if not ids:
        messages.error(request, _("请先勾选申报。"))
        return redirect(safe_back(request, back))
    by_id = selectors.selection_applications(request.scope, programme).in_bulk(ids)
    if len(by_id) != len(ids):
        raise Http404
    outcome = request.POST.get("outcome", "")
    label = _("同意立项") if outcome == ApprovalOutcome.APPROVE else _("不予立项")
    return act_as(
        request,
        approval.selection_decide,
        # Keep the order the admin chose (the board's ranking order).
        applications=[by_id[i] for i in ids],
        outcome=outcome,
        opinion=request.POST.get("opinion", ""),
        success=lambda decisions: (
            _("已对 %(n)s 份申报作出“%(label)s”的决定，发布公示后生效。")
            % {"n": len(decisions), "label": label}
        ),
        back=back,
    )


selection_revoke = object_action(
    selectors.access_decision,
    approval.selection_revoke,
    "decision",
    success=gettext_lazy("审定决定已撤销。"),
    back=lambda decision: reverse(
        "selection:selection_application", args=[decision.application_id]
    ),
    run=act,
)


# --- the issuer: one application --------------------------------------------------------------


@login_required
def selection_application(request, pk):
    application = selectors.access_selection_application(request.scope, pk)
    return render(
        request, "selection/application.html", pages.application_page(request.scope, application)
    )


@login_required
@require_POST
def expert_assign(request, pk):
    application = selectors.access_selection_application(request.scope, pk)
    member = selectors.access_pool_member(
        request.scope, application.programme, request.POST.get("member") or 0
    )
    return act_as(
        request,
        experts.expert_assign,
        application=application,
        member=member,
        success=lambda a: _("已安排 %(name)s 评审。") % {"name": a.expert.display_name},
        back=reverse("selection:selection_application", args=[application.pk]),
    )


expert_unassign = object_action(
    selectors.access_managed_assignment,
    experts.expert_unassign,
    "assignment",
    success=gettext_lazy("评审任务已撤回。"),
    back=lambda assignment: reverse(
        "selection:selection_application", args=[assignment.application_id]
    ),
    run=act,
)

group_opinion = object_action(
    selectors.access_selection_application,
    scoring.expert_group_opinion_record,
    "application",
    posted=("text", "signed_by"),
    success=gettext_lazy("专家组意见已记录。"),
    back=lambda application: reverse("selection:selection_application", args=[application.pk]),
    run=act,
)


# --- the issuer: expert pool -----------------------------------------------------------------


@login_required
def expert_pool(request, programme_pk):
    programme = selectors.access_selection_programme(request.scope, programme_pk)
    if request.method == "POST":
        return _pool_post(request, programme)
    return render(
        request,
        "selection/pool.html",
        {
            "programme": programme,
            "pool": list(selectors.expert_pool(programme)),
            "candidates": list(selectors.expert_candidates(request.scope, programme)[:200]),
            "rubric": rubric_of(programme),
            "waiting": selectors.waiting_count(programme),
        },
    )


def _pool_post(request, programme):
    back = reverse("selection:expert_pool", args=[programme.pk])
    actor = actor_from(request)
    if request.POST.get("remove"):
        member = selectors.access_pool_member(request.scope, programme, request.POST["remove"])
        return act_as(
            request,
            experts.expert_pool_remove,
            member=member,
            success=_("已移出专家库。"),
            back=back,
        )
    candidates = selectors.expert_candidates(request.scope, programme)
    chosen = []
    for mid in int_list(request.POST.getlist("membership")):
        membership = candidates.filter(pk=mid).first()
        if membership is None:
            raise Http404
        chosen.append(membership)
    username = request.POST.get("username", "").strip()

    @transaction.atomic
    def add():
        if username:
            found = selectors.find_expert_membership(username)
            if found is None:
                raise SelectionError(
                    _("没有用户名为“%(u)s”的评审专家账号。") % {"u": username},
                    {"username": [_("用户名不存在或不是评审专家")]},
                )
            chosen.append(found)
        if not chosen:
            raise SelectionError(_("请选择专家或填写用户名。"))
        for membership in chosen:
            experts.expert_pool_add(
                programme=programme,
                membership=membership,
                note=request.POST.get("note", ""),
                scope=request.scope,
                actor=actor,
            )
        return len(chosen)

    return act(
        request,
        add,
        success=lambda n: _("已加入专家库 %(n)s 人。") % {"n": n},
        back=back,
    )


@login_required
@require_POST
def experts_auto_assign(request, programme_pk):
    programme = selectors.access_selection_programme(request.scope, programme_pk)
    try:
        per_app = int(request.POST["per_app"]) if request.POST.get("per_app") else None
    except ValueError:
        per_app = 0

    back = reverse("selection:expert_pool", args=[programme.pk])

    def then_warn(result) -> str:
        """After the success message: the applications that could not get enough experts."""
        for app, have, want in result.short:
            messages.warning(
                request,
                _("%(org)s：可回避后符合条件的专家不足，已安排 %(have)s 位，需要 %(want)s 位。")
                % {"org": app.applicant_org.name, "have": have, "want": want},
            )
        return back

    return act_as(
        request,
        experts.experts_auto_assign,
        programme=programme,
        category=request.POST.get("category") or None,
        per_app=per_app,
        success=lambda result: (
            _("已自动分配评审任务 %(n)s 项（每份申报 %(k)s 位专家）。")
            % {"n": len(result.created), "k": result.per_app}
        ),
        back=back,
        done=then_warn,
    )


# --- the issuer: announcements ---------------------------------------------------------------


@login_required
def announcements(request, programme_pk):
    programme = selectors.access_selection_programme(request.scope, programme_pk)
    context = pages.announcements_page(request.scope, programme)
    if request.method == "POST":
        title = request.POST.get("title", "")
        intro = request.POST.get("intro", "")
        try:
            # Refusals that name a field (personal data in the text) come back to the form
            # with what was typed; the others go back to the page as a message.
            ann_services.clean_texts(programme, title, intro)
        except SelectionError as exc:
            if not exc.errors:
                raise
            messages.error(request, exc.message)
            context.update(form_title=title, form_intro=intro, form_errors=exc.errors)
            return render(request, "selection/announcements.html", context, status=400)
        if context["publish_action"].allowed and not confirmed(request):
            return confirm_page(
                request,
                back=reverse("selection:announcements", args=[programme.pk]),
                keep=("title", "intro"),
                **pages.publish_confirmation(programme, context, title or context["default_title"]),
            )
        return act_as(
            request,
            ann_services.announcement_publish,
            programme=programme,
            title=title,
            intro=intro,
            success=_("公示已发布。"),
            back=reverse("selection:announcements", args=[programme.pk]),
            done=lambda ann: reverse("selection:announcement", args=[ann.pk]),
        )
    return render(request, "selection/announcements.html", context)


@login_required
def announcement(request, pk):
    ann = selectors.access_announcement(request.scope, pk)
    context = pages.announcement_page(request.scope, ann)
    return render(request, "selection/announcement.html", {**context, "now": timezone.now()})


def _received_at(text: str) -> dt.datetime | None:
    """``2019-10-08 09:30`` or ``2019-10-08`` (noon) in Beijing time; None when empty."""
    text = text.strip()
    if not text:
        return None
    parsed = parse_datetime(text.replace(" ", "T"))
    if parsed is None:
        try:
            parsed = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(12, 0))
        except ValueError:
            message = _("收到时间格式不对，应为 2019-10-08 或 2019-10-08 09:30。")
            raise SelectionError(message, {"received_at": [message]}) from None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


OBJECTION_FIELDS = ("entry", "text", "contact", "received_at")


@login_required
@require_POST
def objection_record(request, pk):
    """Record an objection; a refusal about its fields comes back to the form with the unit,
    the text and the contact as they were chosen and typed (never a default unit)."""
    ann = selectors.access_announcement(request.scope, pk)
    form = {name: request.POST.get(name, "") for name in OBJECTION_FIELDS}

    def record():
        if not form["entry"]:
            raise SelectionError(
                _("请选择异议针对的单位。"), {"entry": [_("请选择公示名单中的单位")]}
            )
        return ann_services.objection_record(
            announcement=ann,
            entry=selectors.access_entry(ann, form["entry"]),
            text=form["text"],
            contact=form["contact"],
            received_at=_received_at(form["received_at"]),
            scope=request.scope,
            actor=actor_from(request),
        )

    try:
        record()
    except Denied:
        raise
    except SelectionError as exc:
        if not exc.errors:
            messages.error(request, exc.message)
            return redirect(reverse("selection:announcement", args=[ann.pk]))
        messages.error(request, exc.message)
        context = pages.announcement_page(request.scope, ann)
        context.update(form=form, form_errors=exc.errors, now=timezone.now())
        return render(request, "selection/announcement.html", context, status=400)
    messages.success(request, _("异议已登记。"))
    return redirect(reverse("selection:announcement", args=[ann.pk]))


@login_required
@require_POST
def objection_resolve(request, pk):
    objection = selectors.access_objection(request.scope, pk)
    back = reverse("selection:announcement", args=[objection.announcement_id])
    verdict = request.POST.get("verdict")
    if verdict not in ("upheld", "dismissed"):
        messages.error(request, _("请选择异议是否成立。"))
        return redirect(back)
    return act_as(
        request,
        ann_services.objection_resolve,
        objection=objection,
        upheld=verdict == "upheld",
        resolution=request.POST.get("resolution", ""),
        success=_("异议已处理。"),
        back=back,
    )


announcement_close = object_action(
    selectors.access_announcement,
    ann_services.announcement_close,
    "announcement",
    success=gettext_lazy("最终名单已公布，名单中的单位已确定为试点。"),
    back=lambda ann: reverse("selection:announcement", args=[ann.pk]),
    run=act,
)
