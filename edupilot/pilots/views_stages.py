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
from django.utils.translation import gettext_lazy

from edupilot.applications.files import attachment_response
from edupilot.audit.services import actor_from
from edupilot.core.action_views import object_action, posted_values
from edupilot.core.errors import Denied, Refused
from edupilot.documents.xlsx import Column, XlsxExport
from edupilot.selection.models import ExpertPoolMember

from . import (
    acceptance,
    evidence,
    honour_objections,
    honours,
    inspections,
    pages_stages,
    selectors,
)


def _pilot_url(pilot_id, anchor=""):
    return reverse("pilots:detail", args=[pilot_id]) + (f"#{anchor}" if anchor else "")


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


def _form_view(access, form, service, field, *, posted, success, back):
    """The view of a form page on the object the URL names: GET shows ``form(scope, obj)``;
    POST calls ``service(<field>=obj, <each of posted>=its value, scope=…, actor=…)``
    (``posted`` as for :func:`~edupilot.core.action_views.object_action`), see :func:`_form`."""

    @login_required
    def view(request, pk):
        obj = access(request.scope, pk)
        return _form(
            request,
            form(request.scope, obj),
            lambda post: service(
                **{field: obj},
                **posted_values(post, posted),
                scope=request.scope,
                actor=actor_from(request),
            ),
            success=success,
            back=back(obj),
        )

    return view


def _date(text):
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _int(text):
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) < 9 else None


def _checked(text) -> bool:
    return text == "1"


# --- inspections ------------------------------------------------------------------------------


inspection_schedule = _form_view(
    selectors.access_pilot,
    pages_stages.schedule_form,
    inspections.inspection_schedule,
    "pilot",
    posted={"mode": str, "scheduled_for": _date, "team": str},
    success=gettext_lazy("检查已安排，已通知试点单位。"),
    back=lambda pilot: _pilot_url(pilot.pk, "inspections"),
)


def _inspection_form(form, service, *, posted, success):
    return _form_view(
        selectors.access_inspection,
        form,
        service,
        "inspection",
        posted=posted,
        success=success,
        back=lambda i: _pilot_url(i.pilot_id, f"inspection-{i.pk}"),
    )


inspection_record = _inspection_form(
    pages_stages.record_form,
    inspections.inspection_record,
    posted={"findings": str, "demands": str, "rectify_days": _int},
    success=gettext_lazy("检查意见已保存。"),
)


@login_required
def inspection_respond(request, pk):
    """The unit's answer: its text and its evidence files (request.FILES), in one service."""
    i = selectors.access_inspection(request.scope, pk)
    return _form(
        request,
        pages_stages.respond_form(request.scope, i),
        lambda post: evidence.inspection_answer(
            inspection=i,
            response=post.get("response", ""),
            uploads=request.FILES.getlist("evidence"),
            scope=request.scope,
            actor=actor_from(request),
        ),
        success=gettext_lazy("整改情况已提交。"),
        back=_pilot_url(i.pilot_id, f"inspection-{i.pk}"),
    )


inspection_close = _inspection_form(
    pages_stages.close_form,
    inspections.inspection_close,
    posted={"conclusion": str, "again": _checked, "rectify_days": _int},
    success=gettext_lazy("已保存。"),
)


# --- acceptance --------------------------------------------------------------------------------


def _pool_member(text) -> ExpertPoolMember:
    """The chosen member by its id only: the service checks it is of the programme's pool."""
    return ExpertPoolMember(pk=_int(text) or 0)


def _acceptance_action(service, *, posted, success):
    return object_action(
        selectors.access_acceptance_submission,
        service,
        "submission",
        posted=posted,
        success=success,
        back=lambda sub: _pilot_url(sub.pilot_id, "acceptance"),
    )


acceptance_assign = _acceptance_action(
    acceptance.acceptance_assign,
    posted={"member": _pool_member},
    success=gettext_lazy("已分配验收专家。"),
)
acceptance_decide = _acceptance_action(
    acceptance.acceptance_decide,
    posted=("grade", "opinion"),
    success=gettext_lazy("验收等级已评定，已通知试点单位。"),
)


@login_required
def acceptance_score(request, pk):
    review = selectors.own_review(request.scope, pk)
    return _form(
        request,
        pages_stages.score_form(request.scope, review),
        lambda post: acceptance.acceptance_score(
            review=review,
            scores=post,
            comment=post.get("comment", ""),
            submit=_checked(post.get("submit")),
            scope=request.scope,
            actor=actor_from(request),
        ),  # fmt: skip
        success=_("评分已保存。"),
        back=reverse("pilots:acceptance_score", args=[review.pk]),
    )


# --- titles and awards ----------------------------------------------------------------------


honour_propose = object_action(
    selectors.access_pilot,
    honours.honour_propose,
    "pilot",
    posted=("stage", "title", "note"),
    success=gettext_lazy("已列入拟认定名单。"),
    back=lambda pilot: _pilot_url(pilot.pk, "honours"),
)

award_grant = object_action(
    selectors.access_pilot,
    honours.award_grant,
    "pilot",
    posted={"stage": str, "rank": _int},
    success=gettext_lazy("奖补已授予。"),
    back=lambda pilot: _pilot_url(pilot.pk, "awards"),
)


@login_required
def programme_honours(request, pk):
    programme = selectors.issuer_programme(request.scope, pk)
    return render(
        request, "pilots/honours.html", pages_stages.honours_page(request.scope, programme)
    )


def _honours_url(programme_id) -> str:
    return reverse("pilots:honours", args=[programme_id])


def _stage_list_action(service, success):
    """A step on a stage's whole list (announce, finalize); ``success`` takes the count."""
    return object_action(
        selectors.issuer_programme,
        service,
        "programme",
        posted=("stage",),
        success=lambda n: success % {"n": n},
        back=lambda programme: _honours_url(programme.pk),
    )


honours_announce = _stage_list_action(
    honours.honours_announce, gettext_lazy("已发布公示（%(n)s 个）。")
)
honours_finalize = _stage_list_action(
    honours.honours_finalize, gettext_lazy("认定名单已公布（%(n)s 个）。")
)

honour_withdraw = object_action(
    selectors.issuer_honour,
    honours.honour_withdraw,
    "honour",
    posted=("reason",),
    success=gettext_lazy("已撤销。"),
    back=lambda h: _honours_url(h.pilot.programme_id),
)

honour_objection_record = object_action(
    selectors.issuer_honour,
    honour_objections.honour_objection_record,
    "honour",
    posted=("text", "contact"),
    success=gettext_lazy("异议已登记；处理前该称号不会公布。"),
    back=lambda h: _honours_url(h.pilot.programme_id),
)
honour_objection_resolve = object_action(
    selectors.issuer_honour_objection,
    honour_objections.honour_objection_resolve,
    "objection",
    posted={"upheld": _checked, "resolution": str},
    success=gettext_lazy("异议已处理。"),
    back=lambda o: _honours_url(o.honour.pilot.programme_id),
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
    programme = selectors.issuer_programme(request.scope, pk)
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
