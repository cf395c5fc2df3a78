"""Pages of the selection part of review: experts, the issuer's board, announcements.

Views stay thin: they fetch through the scope (``access_*``: 404 outside it), call one service
and show its Chinese message. The public announcement pages (no login) are at the end.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from edupilot.accounts.services import actor_from
from edupilot.applications.files import blob_open
from edupilot.applications.models import Application, ApplicationVersion, AppState, Attachment
from edupilot.applications.presenters import version_sections
from edupilot.orgs.models import Role

from . import announcements as ann_services
from . import approval, experts
from .experts import SelectionError
from .models_selection import (
    AnnouncementEntry,
    AnnouncementState,
    ApprovalDecision,
    ApprovalOutcome,
    ExpertAssignment,
    ExpertPoolMember,
    Objection,
    ObjectionState,
)


def _error(request, exc: SelectionError) -> None:
    messages.error(request, exc.message)
    for field_errors in exc.errors.values():
        for m in field_errors:
            messages.error(request, m)


def _int_list(values) -> list[int]:
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
    if request.scope.role != Role.PROGRAMME_ADMIN:
        raise Http404
    programmes = list(experts.selection_programmes(request.scope).order_by("-updated_at"))
    if len(programmes) == 1:
        return redirect("review:selection", programme_pk=programmes[0].pk)
    return render(request, "review/selection/home.html", {"programmes": programmes})


@login_required
def selection_board(request, programme_pk):
    programme = experts.access_selection_programme(request.scope, programme_pk)
    category = request.GET.get("category") or None
    if category and programme.parsed.category(category) is None:
        category = None
    boards = approval.selection_board(programme, category)
    pending = ann_services.pending_decisions(programme).count()
    return render(
        request,
        "review/selection/board.html",
        {
            "programme": programme,
            "boards": boards,
            "category": category,
            "categories": programme.parsed.categories,
            "rubric": experts.rubric_of(programme),
            "pending": pending,
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def selection_decide(request, programme_pk):
    programme = experts.access_selection_programme(request.scope, programme_pk)
    ids = _int_list(request.POST.getlist("application"))
    apps = list(
        experts.selection_applications(request.scope, programme)
        .filter(pk__in=ids)
        .select_related("applicant_org")
    )
    back = request.POST.get("next") or ""
    target = (
        redirect(back)
        if back.startswith("/review/") and "//" not in back
        else redirect("review:selection", programme_pk=programme.pk)
    )
    if not ids:
        messages.error(request, _("请先勾选申报。"))
        return target
    if len(apps) != len(set(ids)):
        raise Http404
    # Keep the order the admin chose (the board's ranking order).
    by_id = {a.pk: a for a in apps}
    apps = [by_id[i] for i in dict.fromkeys(ids)]
    outcome = request.POST.get("outcome", "")
    try:
        decisions = approval.selection_decide(
            applications=apps,
            outcome=outcome,
            opinion=request.POST.get("opinion", ""),
            scope=request.scope,
            actor=actor_from(request),
        )
    except SelectionError as exc:
        _error(request, exc)
        return target
    label = _("同意立项") if outcome == ApprovalOutcome.APPROVE else _("不予立项")
    messages.success(
        request,
        _("已对 %(n)s 份申报作出“%(label)s”的决定，发布公示后生效。")
        % {"n": len(decisions), "label": label},
    )
    return target


@login_required
@require_POST
def selection_revoke(request, pk):
    decision = get_object_or_404(
        ApprovalDecision.objects.filter(
            programme__in=experts.selection_programmes(request.scope).values("pk")
        ),
        pk=pk,
    )
    try:
        approval.selection_revoke(decision=decision, scope=request.scope, actor=actor_from(request))
        messages.success(request, _("审定决定已撤销。"))
    except SelectionError as exc:
        _error(request, exc)
    return redirect("review:selection_application", pk=decision.application_id)


# --- the issuer: one application --------------------------------------------------------------


@login_required
def selection_application(request, pk):
    application = experts.access_selection_application(request.scope, pk)
    programme = application.programme
    rubric = experts.rubric_of(programme)
    line = experts.score_line(application, rubric)
    version = application.versions.filter(number=application.version).first()
    pool = list(
        ExpertPoolMember.objects.filter(programme=programme, is_active=True)
        .select_related("user", "org")
        .order_by("org__path", "user__username")
    )
    paths = experts.conflict_paths(m.user_id for m in pool)
    assigned_users = {a.expert_id for a in line.assignments}
    options = []
    for m in pool:
        if m.user_id in assigned_users:
            continue
        conflict = experts.paths_conflict(paths.get(m.user_id, []), application.applicant_org.path)
        options.append({"member": m, "conflict": conflict is not None})
    decision = (
        ApprovalDecision.objects.filter(application=application, is_active=True)
        .select_related("decided_by", "announcement")
        .first()
    )
    return render(
        request,
        "review/selection/application.html",
        {
            "application": application,
            "programme": programme,
            "rubric": rubric,
            "line": line,
            "criteria_scores": _criteria_table(rubric, line.assignments),
            "sections": version_sections(application, version) if version else [],
            "version": version,
            "options": options,
            "group_opinion": experts.current_group_opinion(application),
            "decision": decision,
            "deadline": experts.decision_deadline(application),
            "can_decide": application.state == AppState.RECOMMENDED and decision is None,
        },
    )


def _criteria_table(rubric, assignments) -> list[dict]:
    rows = []
    for a in assignments:
        scores = {s.criterion: s.score for s in a.scores.all()}
        rows.append(
            {
                "assignment": a,
                "scores": [scores.get(c.key) for c in rubric.criteria]
                if a.submitted_at and rubric is not None
                else [],
            }
        )
    return rows


@login_required
@require_POST
def expert_assign(request, pk):
    application = experts.access_selection_application(request.scope, pk)
    member = get_object_or_404(
        ExpertPoolMember, pk=request.POST.get("member") or 0, programme=application.programme
    )
    try:
        a = experts.expert_assign(
            application=application, member=member, scope=request.scope, actor=actor_from(request)
        )
        messages.success(request, _("已安排 %(name)s 评审。") % {"name": a.expert.display_name})
    except SelectionError as exc:
        _error(request, exc)
    return redirect("review:selection_application", pk=application.pk)


@login_required
@require_POST
def expert_unassign(request, pk):
    assignment = get_object_or_404(
        ExpertAssignment.objects.filter(
            application__programme__in=experts.selection_programmes(request.scope).values("pk")
        ),
        pk=pk,
    )
    try:
        experts.expert_unassign(
            assignment=assignment, scope=request.scope, actor=actor_from(request)
        )
        messages.success(request, _("评审任务已撤回。"))
    except SelectionError as exc:
        _error(request, exc)
    return redirect("review:selection_application", pk=assignment.application_id)


@login_required
@require_POST
def group_opinion(request, pk):
    application = experts.access_selection_application(request.scope, pk)
    try:
        experts.expert_group_opinion_record(
            application=application,
            text=request.POST.get("text", ""),
            signed_by=request.POST.get("signed_by", ""),
            scope=request.scope,
            actor=actor_from(request),
        )
        messages.success(request, _("专家组意见已记录。"))
    except SelectionError as exc:
        _error(request, exc)
    return redirect("review:selection_application", pk=application.pk)


# --- the issuer: expert pool -----------------------------------------------------------------


@login_required
def expert_pool(request, programme_pk):
    programme = experts.access_selection_programme(request.scope, programme_pk)
    if request.method == "POST":
        actor = actor_from(request)
        try:
            if request.POST.get("remove"):
                member = get_object_or_404(
                    ExpertPoolMember, pk=request.POST["remove"], programme=programme
                )
                experts.expert_pool_remove(member=member, scope=request.scope, actor=actor)
                messages.success(request, _("已移出专家库。"))
            else:
                added = 0
                note = request.POST.get("note", "")
                candidates = experts.expert_candidates(request.scope, programme)
                for mid in _int_list(request.POST.getlist("membership")):
                    membership = candidates.filter(pk=mid).first()
                    if membership is None:
                        raise Http404
                    experts.expert_pool_add(
                        programme=programme,
                        membership=membership,
                        note=note,
                        scope=request.scope,
                        actor=actor,
                    )
                    added += 1
                username = request.POST.get("username", "").strip()
                if username:
                    membership = experts.find_expert_membership(username)
                    if membership is None:
                        raise SelectionError(
                            _("没有用户名为“%(u)s”的评审专家账号。") % {"u": username},
                            {"username": [_("用户名不存在或不是评审专家")]},
                        )
                    experts.expert_pool_add(
                        programme=programme,
                        membership=membership,
                        note=note,
                        scope=request.scope,
                        actor=actor,
                    )
                    added += 1
                if added:
                    messages.success(request, _("已加入专家库 %(n)s 人。") % {"n": added})
                else:
                    messages.error(request, _("请选择专家或填写用户名。"))
        except SelectionError as exc:
            _error(request, exc)
        return redirect("review:expert_pool", programme_pk=programme.pk)
    pool = list(experts.expert_pool(programme))
    return render(
        request,
        "review/selection/pool.html",
        {
            "programme": programme,
            "pool": pool,
            "candidates": list(experts.expert_candidates(request.scope, programme)[:200]),
            "rubric": experts.rubric_of(programme),
            "waiting": Application.objects.filter(
                programme=programme, state=AppState.RECOMMENDED
            ).count(),
        },
    )


@login_required
@require_POST
def experts_auto_assign(request, programme_pk):
    programme = experts.access_selection_programme(request.scope, programme_pk)
    category = request.POST.get("category") or None
    try:
        per_app = int(request.POST["per_app"]) if request.POST.get("per_app") else None
    except ValueError:
        per_app = 0
    try:
        result = experts.experts_auto_assign(
            programme=programme,
            category=category,
            per_app=per_app,
            scope=request.scope,
            actor=actor_from(request),
        )
    except SelectionError as exc:
        _error(request, exc)
        return redirect("review:expert_pool", programme_pk=programme.pk)
    messages.success(
        request,
        _("已自动分配评审任务 %(n)s 项（每份申报 %(k)s 位专家）。")
        % {"n": len(result.created), "k": result.per_app},
    )
    for app, have, want in result.short:
        messages.warning(
            request,
            _("%(org)s：可回避后符合条件的专家不足，已安排 %(have)s 位，需要 %(want)s 位。")
            % {"org": app.applicant_org.name, "have": have, "want": want},
        )
    return redirect("review:expert_pool", programme_pk=programme.pk)


# --- the issuer: announcements ---------------------------------------------------------------


@login_required
def announcements(request, programme_pk):
    programme = experts.access_selection_programme(request.scope, programme_pk)
    if request.method == "POST":
        try:
            ann = ann_services.announcement_publish(
                programme=programme,
                title=request.POST.get("title", ""),
                intro=request.POST.get("intro", ""),
                scope=request.scope,
                actor=actor_from(request),
            )
        except SelectionError as exc:
            _error(request, exc)
            return redirect("review:announcements", programme_pk=programme.pk)
        messages.success(request, _("公示已发布。"))
        return redirect("review:announcement", pk=ann.pk)
    pending = list(
        ann_services.pending_decisions(programme)
        .select_related("application__applicant_org")
        .order_by("outcome", "application__applicant_org__path")
    )
    return render(
        request,
        "review/selection/announcements.html",
        {
            "programme": programme,
            "announcements": list(
                ann_services.announcements_for(request.scope).filter(programme=programme)
            ),
            "pending": pending,
            "pending_approvals": [d for d in pending if d.outcome == ApprovalOutcome.APPROVE],
            "default_title": ann_services.default_title(programme),
            "objection_days": programme.parsed.announcement.objection_days,
        },
    )


@login_required
def announcement(request, pk):
    ann = ann_services.access_announcement(request.scope, pk)
    entries = list(ann.entries.select_related("application").order_by("position"))
    objections = list(
        ann.objections.select_related("entry", "recorded_by", "resolved_by").order_by(
            "received_at", "pk"
        )
    )
    now = timezone.now()
    return render(
        request,
        "review/selection/announcement.html",
        {
            "ann": ann,
            "programme": ann.programme,
            "entries": entries,
            "listed": [e for e in entries if e.outcome == "listed"],
            "objections": objections,
            "open_objections": [o for o in objections if o.state == ObjectionState.OPEN],
            "can_close": ann.state == AnnouncementState.PUBLISHED and now > ann.objection_until,
            "now": now,
        },
    )


@login_required
@require_POST
def objection_record(request, pk):
    ann = ann_services.access_announcement(request.scope, pk)
    entry = get_object_or_404(
        AnnouncementEntry, pk=request.POST.get("entry") or 0, announcement=ann
    )
    received = request.POST.get("received_at", "").strip()
    received_at = None
    if received:
        parsed = parse_datetime(received.replace(" ", "T"))
        if parsed is None:
            try:
                parsed = dt.datetime.combine(dt.date.fromisoformat(received), dt.time(12, 0))
            except ValueError:
                messages.error(
                    request, _("收到时间格式不对，应为 2019-10-08 或 2019-10-08 09:30。")
                )
                return redirect("review:announcement", pk=ann.pk)
        received_at = timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
    try:
        ann_services.objection_record(
            announcement=ann,
            entry=entry,
            text=request.POST.get("text", ""),
            contact=request.POST.get("contact", ""),
            received_at=received_at,
            scope=request.scope,
            actor=actor_from(request),
        )
        messages.success(request, _("异议已登记。"))
    except SelectionError as exc:
        _error(request, exc)
    return redirect("review:announcement", pk=ann.pk)


@login_required
@require_POST
def objection_resolve(request, pk):
    objection = get_object_or_404(
        Objection.objects.filter(
            announcement__programme__in=experts.selection_programmes(request.scope).values("pk")
        ),
        pk=pk,
    )
    verdict = request.POST.get("verdict")
    if verdict not in ("upheld", "dismissed"):
        messages.error(request, _("请选择异议是否成立。"))
        return redirect("review:announcement", pk=objection.announcement_id)
    try:
        ann_services.objection_resolve(
            objection=objection,
            upheld=verdict == "upheld",
            resolution=request.POST.get("resolution", ""),
            scope=request.scope,
            actor=actor_from(request),
        )
        messages.success(request, _("异议已处理。"))
    except SelectionError as exc:
        _error(request, exc)
    return redirect("review:announcement", pk=objection.announcement_id)


@login_required
@require_POST
def announcement_close(request, pk):
    ann = ann_services.access_announcement(request.scope, pk)
    try:
        ann_services.announcement_close(
            announcement=ann, scope=request.scope, actor=actor_from(request)
        )
        messages.success(request, _("最终名单已公布，名单中的单位已确定为试点。"))
    except SelectionError as exc:
        _error(request, exc)
    return redirect("review:announcement", pk=ann.pk)


# --- experts ----------------------------------------------------------------------------------


@login_required
def expert_tasks(request):
    if request.scope.role != Role.EXPERT:
        raise Http404
    items = list(
        experts.assignments_for(request.scope)
        .select_related("application__applicant_org", "application__programme")
        # The programme's spec is parsed once per file (cached by its hash), not per row.
        .defer(
            "application__data",
            "application__programme__spec",
            "application__programme__source_text",
        )
        .order_by("submitted_at", "-assigned_at", "pk")
    )
    return render(
        request,
        "review/selection/expert_tasks.html",
        {
            "todo": [a for a in items if a.submitted_at is None],
            "done": [a for a in items if a.submitted_at is not None],
        },
    )


@login_required
def expert_task(request, pk):
    assignment = experts.access_assignment(request.scope, pk)
    application = assignment.application
    programme = application.programme
    rubric = experts.rubric_of(programme)
    errors: dict[str, list[str]] = {}
    posted = None
    if request.method == "POST":
        submit = request.POST.get("action") == "submit"
        posted = request.POST
        try:
            experts.expert_scores_save(
                assignment=assignment,
                scores={
                    c.key: request.POST.get(f"c-{c.key}", "")
                    for c in (rubric.criteria if rubric else [])
                },
                comment=request.POST.get("comment", ""),
                submit=submit,
                scope=request.scope,
                actor=actor_from(request),
            )
        except SelectionError as exc:
            messages.error(request, exc.message)
            errors = exc.errors
        else:
            messages.success(request, _("评分已提交。") if submit else _("评分已暂存。"))
            return redirect("review:expert_task", pk=assignment.pk)
    version = ApplicationVersion.objects.filter(
        application=application, number=assignment.version
    ).first()
    own = {s.criterion: s.score for s in assignment.scores.all()}
    criteria = []
    for c in rubric.criteria if rubric else []:
        value = posted.get(f"c-{c.key}", "") if posted is not None else own.get(c.key, "")
        criteria.append({"spec": c, "value": value, "errors": errors.get(c.key, [])})
    peers = experts.peer_scores_for(assignment)
    peer_rows = []
    for i, p in enumerate(peers):
        scores = {s.criterion: s.score for s in p.scores.all()}
        peer_rows.append(
            {
                "label": _("专家 %(n)s") % {"n": chr(ord("A") + i) if i < 26 else i + 1},
                "total": p.total,
                "scores": [(c.name, scores.get(c.key)) for c in rubric.criteria] if rubric else [],
                "comment": p.comment,
            }
        )
    return render(
        request,
        "review/selection/expert_task.html",
        {
            "assignment": assignment,
            "application": application,
            "programme": programme,
            "rubric": rubric,
            "criteria": criteria,
            "comment": posted.get("comment", "") if posted is not None else assignment.comment,
            "comment_errors": errors.get("comment", []),
            "sections": version_sections(application, version) if version else [],
            "version": version,
            "peers": peer_rows,
            "deadline": experts.decision_deadline(application),
            "editable": assignment.submitted_at is None
            and assignment.version == application.version
            and application.state == AppState.RECOMMENDED,
        },
    )


@login_required
def expert_file(request, pk, attachment_id):
    """An attachment of the assigned version, reached through the expert's assignment."""
    assignment = experts.access_assignment(request.scope, pk)
    version = get_object_or_404(
        ApplicationVersion, application_id=assignment.application_id, number=assignment.version
    )
    if attachment_id not in {a.get("id") for a in version.attachments}:
        raise Http404
    att = get_object_or_404(
        Attachment.objects.select_related("blob"),
        pk=attachment_id,
        application_id=assignment.application_id,
    )
    response = FileResponse(
        blob_open(att.blob),
        content_type="application/pdf",
        as_attachment=False,
        filename=att.filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- public (no login) --------------------------------------------------------------------------


def _issuer_label(programme) -> str:
    # The notice's own issuing body (河南省电化教育馆) rather than the org tree's node (河南省).
    return programme.parsed.issuer_name or programme.issuer.name


def public_list(request):
    items = list(ann_services.public_announcements()[:200])
    for a in items:
        a.issuer_label = _issuer_label(a.programme)
    return render(request, "public/announcements.html", {"announcements": items})


def public_detail(request, pk):
    ann = ann_services.public_announcement(pk)
    return render(
        request,
        "public/announcement.html",
        {
            "ann": ann,
            "issuer_label": _issuer_label(ann.programme),
            "show_topic": any(e.topic_name for e in ann.listed_entries),
            "now": timezone.now(),
        },
    )
