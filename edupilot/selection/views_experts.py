"""The expert's pages: its tasks, scoring one application, the assigned version's files.

An expert reaches an application only through its own active assignment
(``selectors.access_assignment``: 404 otherwise).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from edupilot.applications.files import attachment_response
from edupilot.applications.presenters import version_sections
from edupilot.applications.thumbs import thumbnail_response
from edupilot.audit.services import actor_from

from . import scoring, selectors
from .errors import SelectionError
from .permissions import can_list_expert_tasks, can_score_assignment
from .rules import decision_deadline, rubric_of


@login_required
def expert_tasks(request):
    if not can_list_expert_tasks(request.scope)[0]:
        raise Http404
    items = selectors.expert_tasks(request.scope)
    return render(
        request,
        "selection/expert_tasks.html",
        {
            "todo": [a for a in items if a.submitted_at is None],
            "done": [a for a in items if a.submitted_at is not None],
        },
    )


@login_required
def expert_task(request, pk):
    """The task page; a POST saves (``action=save``) or submits the scores. A refused POST
    shows the page again with what was typed and each criterion's message."""
    assignment = selectors.access_assignment(request.scope, pk)
    rubric = rubric_of(assignment.application.programme)
    errors: dict[str, list[str]] = {}
    posted = None
    if request.method == "POST":
        submit = request.POST.get("action") == "submit"
        posted = request.POST
        try:
            scoring.expert_scores_save(
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
            # Not run_action: the page keeps what was typed, with a message per criterion.
            messages.error(request, exc.message)
            errors = exc.errors
        else:
            messages.success(request, _("评分已提交。") if submit else _("评分已暂存。"))
            return redirect("selection:expert_task", pk=assignment.pk)
    return render(
        request, "selection/expert_task.html", _task_context(request, assignment, posted, errors)
    )


def _task_context(request, assignment, posted, errors) -> dict:
    application = assignment.application
    rubric = rubric_of(application.programme)
    version = selectors.assigned_version(assignment)
    own = {s.criterion: s.score for s in assignment.scores.all()}
    criteria = []
    for c in rubric.criteria if rubric else []:
        value = posted.get(f"c-{c.key}", "") if posted is not None else own.get(c.key, "")
        criteria.append({"spec": c, "value": value, "errors": errors.get(c.key, [])})
    return {
        "assignment": assignment,
        "application": application,
        "programme": application.programme,
        "rubric": rubric,
        "criteria": criteria,
        "comment": posted.get("comment", "") if posted is not None else assignment.comment,
        "comment_errors": errors.get("comment", []),
        "sections": version_sections(application, version) if version else [],
        "version": version,
        "peers": _peer_rows(assignment, rubric),
        "deadline": decision_deadline(application),
        "editable": can_score_assignment(request.scope, assignment)[0],
    }


def _peer_rows(assignment, rubric) -> list[dict]:
    """The other experts' submitted scores, anonymous (专家 A, B …), once this one submitted."""
    rows = []
    for i, p in enumerate(selectors.peer_scores_for(assignment)):
        scores = {s.criterion: s.score for s in p.scores.all()}
        rows.append(
            {
                "label": _("专家 %(n)s") % {"n": chr(ord("A") + i) if i < 26 else i + 1},
                "total": p.total,
                "scores": [(c.name, scores.get(c.key)) for c in rubric.criteria] if rubric else [],
                "comment": p.comment,
            }
        )
    return rows


@login_required
def expert_file(request, pk, attachment_id):
    """An attachment of the assigned version, reached through the expert's assignment."""
    assignment = selectors.access_assignment(request.scope, pk)
    return attachment_response(selectors.access_assigned_file(assignment, attachment_id))


@login_required
def expert_file_thumb(request, pk, attachment_id):
    """The thumbnail of a photo of the assigned version."""
    assignment = selectors.access_assignment(request.scope, pk)
    return thumbnail_response(selectors.access_assigned_file(assignment, attachment_id))
