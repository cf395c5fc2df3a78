"""What the issuer's selection pages show, and which buttons they offer, computed once.

The buttons come from the transition tables: the announcement's and the objection's
(``workflows.py``) and the application's approve / reject rows (``applications/workflows.py``);
each transition leaving the object's state, allowed, or greyed out with the permission
predicate's reason. What no table holds (revoking a pending decision, an expert's task, the
expert group's opinion) gets its button from its predicate the same way. Only the issuer's
programme admins reach these pages, so every button of the object's state is shown. Templates
read these; they do not look at states to decide which action to show, and the services
refuse with the same predicates.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.applications.models import Application
from edupilot.applications.presenters import title_line, version_sections
from edupilot.applications.workflows import APPLICATION
from edupilot.core.workflow import Action, Workflow
from edupilot.orgs.scoping import Scope
from edupilot.programmes.models import Programme

from . import board, scoring, selectors
from .announcements import default_title
from .models import Announcement, ApprovalDecision, ApprovalOutcome, EntryOutcome
from .permissions import (
    can_assign_expert,
    can_record_group_opinion,
    can_revoke_decision,
    can_unassign_expert,
    fmt_time,
)
from .rules import decision_deadline, objection_text, objection_until, rubric_of
from .workflows import ANNOUNCEMENT, OBJECTION

# The issuer's decision on a RECOMMENDED application: the application table's rows. The
# transition names are the decision's outcomes (``ApprovalOutcome``), posted as ``outcome``.
DECIDE = ("approve", "reject")


def create_action(workflow: Workflow, name: str, scope: Scope, parent) -> Action:
    """The button of a transition that creates an object (source ``NEW``) under ``parent``:
    an announcement of a programme, an objection to an announcement."""
    t = workflow[name]
    ok, reason = t.check_permission(scope, parent)
    return Action(t.name, str(t.label), ok, reason, t.url, t.style, parent.pk)


def predicate_action(
    name: str,
    label: str,
    predicate: Callable[[Scope, object], tuple[bool, str]],
    scope: Scope,
    obj,
    *,
    url: str | None = None,
    style: str = "primary",
) -> Action:
    """The button of an action no table holds, from its ``can_<verb>_<thing>`` predicate."""
    ok, reason = predicate(scope, obj)
    return Action(name, str(label), ok, reason, url, style, obj.pk)


def decide_actions(scope: Scope, application: Application, *, decided: bool) -> list[Action]:
    """同意立项 / 不予立项 on one application; none once it left RECOMMENDED."""
    # The predicates need not ask again; only for this computation, so that the instance
    # never carries a stale answer.
    application.selection_decided = decided
    try:
        return APPLICATION.actions(scope, application, names=DECIDE)
    finally:
        del application.selection_decided


# --- the board ----------------------------------------------------------------------------------


def _bulk(name: str, rows: list[board.BoardRow], key: str) -> Action:
    """A board's button for the rows picked: allowed when some row may be decided."""
    t = APPLICATION[name]
    actions = [a for r in rows for a in r.actions if a.name == name]
    allowed = any(a.allowed for a in actions)
    reasons = list(dict.fromkeys(a.reason for a in actions if not a.allowed))
    reason = "" if allowed else _("；").join(reasons[:3])
    label = _("%(label)s（所选）") % {"label": t.label}
    return Action(name, label, allowed, reason, None, t.style, key)


def board_page(scope: Scope, programme: Programme, category: str | None) -> dict:
    """The issuer's board: per category the ranking, and per row whether it may be picked."""
    boards = board.selection_board(programme, category)
    for b in boards:
        for row in b.rows:
            row.actions = decide_actions(scope, row.application, decided=row.decision is not None)
            row.pick = row.actions[0] if row.actions else None
        b.actions = [_bulk(name, b.rows, b.category.code) for name in DECIDE] if b.rows else []
    return {
        "programme": programme,
        "boards": boards,
        "category": category,
        "categories": programme.parsed.categories,
        "rubric": rubric_of(programme),
        "pending": selectors.pending_decisions(programme).count(),
    }


# --- one application --------------------------------------------------------------------------


def _criteria_table(scope: Scope, application: Application, rubric, assignments) -> list[dict]:
    rows = []
    for a in assignments:
        a.application = application
        scores = {s.criterion: s.score for s in a.scores.all()}
        rows.append(
            {
                "assignment": a,
                "scores": [scores.get(c.key) for c in rubric.criteria]
                if a.submitted_at and rubric is not None
                else [],
                # A submitted score is part of the record: no button at all.
                "unassign": None
                if a.submitted_at
                else predicate_action(
                    "unassign",
                    _("撤回任务"),
                    can_unassign_expert,
                    scope,
                    a,
                    url="selection:expert_unassign",
                    style="link",
                ),
            }
        )
    return rows


def _decision_actions(scope: Scope, application: Application, decision) -> dict:
    if decision is not None:
        revoke = predicate_action(
            "revoke",
            _("撤销该决定"),
            can_revoke_decision,
            scope,
            decision,
            url="selection:selection_revoke",
            style="secondary",
        )
        return {"decide_actions": [], "decide_open": False, "revoke_action": revoke}
    actions = decide_actions(scope, application, decided=False)
    return {
        "decide_actions": actions,
        "decide_open": any(a.allowed for a in actions),
        "revoke_action": None,
    }


def application_page(scope: Scope, application: Application) -> dict:
    """One application for the issuer: scores, the experts' tasks, the group's opinion, the
    decision, and the buttons for each."""
    programme = application.programme
    rubric = rubric_of(programme)
    line = scoring.score_line(application, rubric)
    version = application.versions.filter(number=application.version).first()
    decision: ApprovalDecision | None = selectors.active_decision(application)
    return {
        "application": application,
        "programme": programme,
        "rubric": rubric,
        "line": line,
        "criteria_scores": _criteria_table(scope, application, rubric, line.assignments),
        "self_scores": scoring.self_assessment(rubric, application.data or {}),
        "sections": version_sections(application, version) if version else [],
        "version": version,
        "title_line": title_line(application, version.data if version else None),
        "options": selectors.assignment_options(
            application, {a.expert_id for a in line.assignments}
        ),
        "assign_action": predicate_action(
            "assign",
            _("安排"),
            can_assign_expert,
            scope,
            application,
            url="selection:expert_assign",
            style="secondary",
        ),
        "group_opinion": selectors.current_group_opinion(application),
        "group_opinion_action": predicate_action(
            "group_opinion",
            _("保存专家组意见"),
            can_record_group_opinion,
            scope,
            application,
            url="selection:group_opinion",
            style="secondary",
        ),
        "decision": decision,
        "deadline": decision_deadline(application),
        **_decision_actions(scope, application, decision),
    }


# --- announcements ------------------------------------------------------------------------------


def announcements_page(scope: Scope, programme: Programme) -> dict:
    """The programme's announcements, and publishing the pending decisions as a new one."""
    pending = list(
        selectors.pending_decisions(programme)
        .select_related("application__applicant_org")
        .order_by("outcome", "application__applicant_org__path")
    )
    return {
        "programme": programme,
        "announcements": list(selectors.announcements_for(scope).filter(programme=programme)),
        "pending": pending,
        "pending_approvals": [d for d in pending if d.outcome == ApprovalOutcome.APPROVE],
        "default_title": default_title(programme),
        "objection_period": objection_text(programme),
        "publish_action": create_action(ANNOUNCEMENT, "publish", scope, programme),
    }


def publish_confirmation(programme: Programme, context: dict, title: str) -> dict:
    """What the confirmation page says before a 公示 is published (it cannot be taken back)."""
    until = objection_until(programme, timezone.now())
    approvals = len(context["pending_approvals"])
    rejections = len(context["pending"]) - approvals
    points = [
        _("同意立项的 %(n)s 个单位列入名单并公开公示，申报单位和推荐单位会收到通知。")
        % {"n": approvals},
        _("公示期 %(period)s，至 %(until)s（北京时间）；期满且异议处理完毕后公布最终名单。")
        % {"period": context["objection_period"], "until": fmt_time(until)},
        _("发布后不能撤回；对名单的异议在公示中登记和处理。"),
    ]
    if rejections:
        points.insert(
            1, _("不予立项的 %(n)s 份申报的决定同时生效并通知申报单位。") % {"n": rejections}
        )
    return {
        "title": _("发布公示"),
        "question": _("确定要发布“%(title)s”吗？") % {"title": title},
        "points": points,
        "confirm_label": _("确认发布"),
    }


def announcement_page(scope: Scope, ann: Announcement) -> dict:
    """One announcement: its list, its objections with their buttons, and closing it."""
    entries = list(ann.entries.select_related("application").order_by("position"))
    objections = list(
        ann.objections.select_related("entry", "recorded_by", "resolved_by").order_by(
            "received_at", "pk"
        )
    )
    for o in objections:
        o.announcement = ann
        o.actions = OBJECTION.actions(scope, o)
    return {
        "ann": ann,
        "programme": ann.programme,
        "entries": entries,
        "listed": [e for e in entries if e.outcome == EntryOutcome.LISTED],
        "objections": objections,
        "record_action": create_action(OBJECTION, "record", scope, ann),
        "close_actions": ANNOUNCEMENT.actions(scope, ann),
    }
