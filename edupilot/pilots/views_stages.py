"""Pages and actions of inspections, acceptance, titles, awards and the public list. Thin:
the services in inspections / acceptance / honours decide, pages_stages computes."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from edupilot.applications.files import attachment_response
from edupilot.audit.services import actor_from
from edupilot.core.actions import run_action
from edupilot.core.errors import Denied, Refused
from edupilot.documents.xlsx import Column, XlsxExport
from edupilot.programmes.models import Programme
from edupilot.selection.models import ExpertPoolMember

from . import acceptance, evidence, honours, inspections, pages_stages, selectors, selectors_stages
from .models import Inspection, Submission


def _pilot_url(pilot_id, anchor=""):
    return reverse("pilots:detail", args=[pilot_id]) + (f"#{anchor}" if anchor else "")


def _inspection(request, pk) -> Inspection:
    return selectors_stages.access_inspection(request.scope, pk)


def _submission(request, pk) -> Submission:
    return selectors_stages.access_acceptance_submission(request.scope, pk)


def _issuer_programme(request, pk) -> Programme:
    return selectors_stages.issuer_programme(request.scope, pk)


def _form(request, form, call, *, success, back):
    """A form page: GET shows it; POST runs the service, keeps what was typed on refusal."""
    if not form.get("permitted", True):  # not one of the people this form is for
        raise PermissionDenied(form["action"].reason)
    errors = {}
    if request.method == "POST":
        try:
            call(request.POST)
        except Denied as exc:
            raise PermissionDenied(exc.message) from exc
        except Refused as exc:
            messages.error(request, exc.message)
            errors = exc.errors
        else:
            messages.success(request, success)
            return redirect(back)
    for f in form["fields"]:  # what the user typed is kept; each field's messages
        f["value"] = request.POST.get(f["name"], f.get("value", ""))
        f["errors"] = errors.get(f["name"], [])
    return render(
        request,
        "pilots/stage_form.html",
        {**form, "back": back},
        status=400 if errors or request.method == "POST" else 200,
    )


def _date(text):
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _int(text):
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) < 9 else None


# --- inspections ------------------------------------------------------------------------------


@login_required
def inspection_schedule(request, pk):
    pilot = selectors.access_pilot(request.scope, pk)
    back = _pilot_url(pilot.pk, "inspections")
    return _form(
        request,
        pages_stages.schedule_form(request.scope, pilot),
        lambda post: inspections.inspection_schedule(
            pilot=pilot,
            mode=post.get("mode", ""),
            scheduled_for=_date(post.get("scheduled_for")),
            team=post.get("team", ""),
            scope=request.scope,
            actor=actor_from(request),
        ),  # fmt: skip
        success=_("检查已安排，已通知试点单位。"),
        back=back,
    )


@login_required
def inspection_record(request, pk):
    i = _inspection(request, pk)
    return _form(
        request,
        pages_stages.record_form(request.scope, i),
        lambda post: inspections.inspection_record(
            inspection=i,
            findings=post.get("findings", ""),
            demands=post.get("demands", ""),
            rectify_days=_int(post.get("rectify_days")),
            scope=request.scope,
            actor=actor_from(request),
        ),  # fmt: skip
        success=_("检查意见已保存。"),
        back=_pilot_url(i.pilot_id, f"inspection-{i.pk}"),
    )


@login_required
def inspection_respond(request, pk):
    i = _inspection(request, pk)
    return _form(
        request,
        pages_stages.respond_form(request.scope, i),
        lambda post: evidence.inspection_answer(
            inspection=i,
            response=post.get("response", ""),
            uploads=request.FILES.getlist("evidence"),
            scope=request.scope,
            actor=actor_from(request),
        ),  # fmt: skip
        success=_("整改情况已提交。"),
        back=_pilot_url(i.pilot_id, f"inspection-{i.pk}"),
    )


@login_required
def inspection_close(request, pk):
    i = _inspection(request, pk)
    return _form(
        request,
        pages_stages.close_form(request.scope, i),
        lambda post: inspections.inspection_close(
            inspection=i,
            conclusion=post.get("conclusion", ""),
            again=post.get("again") == "1",
            rectify_days=_int(post.get("rectify_days")),
            scope=request.scope,
            actor=actor_from(request),
        ),  # fmt: skip
        success=_("已保存。"),
        back=_pilot_url(i.pilot_id, f"inspection-{i.pk}"),
    )


# --- acceptance --------------------------------------------------------------------------------


@login_required
@require_POST
def acceptance_assign(request, pk):
    sub = _submission(request, pk)
    member = ExpertPoolMember(pk=_int(request.POST.get("member")) or 0)
    return run_action(
        request,
        lambda: acceptance.acceptance_assign(
            submission=sub, member=member, scope=request.scope, actor=actor_from(request)
        ),
        success=_("已分配验收专家。"),
        back=_pilot_url(sub.pilot_id, "acceptance"),
    )


@login_required
def acceptance_score(request, pk):
    review = selectors_stages.own_review(request.scope, pk)
    return _form(
        request,
        pages_stages.score_form(request.scope, review),
        lambda post: acceptance.acceptance_score(
            review=review,
            scores=post,
            comment=post.get("comment", ""),
            submit=post.get("submit") == "1",
            scope=request.scope,
            actor=actor_from(request),
        ),  # fmt: skip
        success=_("评分已保存。"),
        back=reverse("pilots:acceptance_score", args=[review.pk]),
    )


@login_required
@require_POST
def acceptance_decide(request, pk):
    sub = _submission(request, pk)
    return run_action(
        request,
        lambda: acceptance.acceptance_decide(
            submission=sub,
            grade=request.POST.get("grade", ""),
            opinion=request.POST.get("opinion", ""),
            scope=request.scope,
            actor=actor_from(request),
        ),  # fmt: skip
        success=_("验收等级已评定，已通知试点单位。"),
        back=_pilot_url(sub.pilot_id, "acceptance"),
    )


# --- titles and awards ----------------------------------------------------------------------


@login_required
@require_POST
def honour_propose(request, pk):
    pilot = selectors.access_pilot(request.scope, pk)
    return run_action(
        request,
        lambda: honours.honour_propose(
            pilot=pilot,
            stage=request.POST.get("stage", ""),
            title=request.POST.get("title", ""),
            note=request.POST.get("note", ""),
            scope=request.scope,
            actor=actor_from(request),
        ),  # fmt: skip
        success=_("已列入拟认定名单。"),
        back=_pilot_url(pilot.pk, "honours"),
    )


@login_required
@require_POST
def award_grant(request, pk):
    pilot = selectors.access_pilot(request.scope, pk)
    return run_action(
        request,
        lambda: honours.award_grant(
            pilot=pilot,
            stage=request.POST.get("stage", ""),
            rank=_int(request.POST.get("rank")),
            scope=request.scope,
            actor=actor_from(request),
        ),  # fmt: skip
        success=_("奖补已授予。"),
        back=_pilot_url(pilot.pk, "awards"),
    )


@login_required
def programme_honours(request, pk):
    programme = _issuer_programme(request, pk)
    return render(
        request, "pilots/honours.html", pages_stages.honours_page(request.scope, programme)
    )


@login_required
@require_POST
def honours_announce(request, pk):
    programme = _issuer_programme(request, pk)
    return run_action(
        request,
        lambda: honours.honours_announce(
            programme=programme,
            stage=request.POST.get("stage", ""),
            scope=request.scope,
            actor=actor_from(request),
        ),  # fmt: skip
        success=lambda n: _("已发布公示（%(n)s 个）。") % {"n": n},
        back=reverse("pilots:honours", args=[programme.pk]),
    )


@login_required
@require_POST
def honours_finalize(request, pk):
    programme = _issuer_programme(request, pk)
    return run_action(
        request,
        lambda: honours.honours_finalize(
            programme=programme,
            stage=request.POST.get("stage", ""),
            scope=request.scope,
            actor=actor_from(request),
        ),  # fmt: skip
        success=lambda n: _("认定名单已公布（%(n)s 个）。") % {"n": n},
        back=reverse("pilots:honours", args=[programme.pk]),
    )


@login_required
@require_POST
def honour_withdraw(request, pk):
    h = selectors_stages.issuer_honour(request.scope, pk)
    return run_action(
        request,
        lambda: honours.honour_withdraw(
            honour=h,
            reason=request.POST.get("reason", ""),
            scope=request.scope,
            actor=actor_from(request),
        ),  # fmt: skip
        success=_("已撤销。"),
        back=reverse("pilots:honours", args=[h.pilot.programme_id]),
    )


class AwardTable(XlsxExport):
    title = "以奖代补名单"
    columns = [
        Column("序号", 6, "int"),
        Column("单位", 36),
        Column("类别", 14),
        Column("验收等级", 10),
        Column("依据", 12),
        Column("金额（元）", 16, "number"),
        Column("授予时间", 18, "datetime"),
    ]

    def __init__(self, rows):
        self._rows = rows

    def rows(self):
        for i, a in enumerate(self._rows, start=1):
            p = a.pilot
            yield [i, p.unit.name, p.category_name, p.grade_name, a.basis, a.amount, a.decided_at]


@login_required
def awards_xlsx(request, pk):
    programme = _issuer_programme(request, pk)
    page = pages_stages.awards_page(request.scope, programme)
    return AwardTable([a for s in page["stages"] for a in s["awards"]]).response()


# --- public -----------------------------------------------------------------------------------


def public_honours(request):
    return render(request, "pilots/public.html", pages_stages.public_page())


@login_required
def inspection_evidence_file(request, pk):
    if not (
        request.scope.is_applicant or request.scope.is_reviewer or request.scope.is_platform_admin
    ):
        raise Http404
    return attachment_response(evidence.access_evidence(request.scope, pk))
