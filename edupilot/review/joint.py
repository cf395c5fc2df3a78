"""Joint review: a step of the chain decided by several orgs together (``joint_review``).

"由省教育厅、省财政厅联合审核": each org named by the stage records its own opinion — agree
(the page's 推荐), disagree (不予推荐) or send back (退回修改) — on the application's current
version. The step is one step of the ordinary chain, in the lead org's name (the first the
file names), so ranks, returns, deadlines and the later stages work as for any review:

==========================  ==============================================================
event                       effect
==========================  ==============================================================
the application arrives     one pending :class:`JointOpinion` per org (each org's queue)
an org agrees / disagrees   its row is filled; nothing else moves while the outcome is open
``needed`` orgs agreed      the step's recommendation (lead org, opinions summarised) and
                            the application moves on (``review.services._pass_on``)
agreement out of reach      not recommended, with every opinion as the reason
an org sends it back        returned for revision, as at any step
==========================  ==============================================================

``needed`` is frozen on the chain at submission from the file's ``complete_when`` ("all",
"any" or a number). Locks: the application (by id), then its opinion rows, then the level
(for the rank), as in ``review.services``; two orgs agreeing at the same moment queue on
the application lock, so the step completes exactly once.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from edupilot.applications.models import Application
from edupilot.audit.services import Actor, audit_record
from edupilot.orgs.scoping import Scope

from . import services
from .models import JointOpinion, JointVerdict, ReviewAction, ReviewDecision
from .permissions import ReviewError, check_decide
from .support import _notify_applicant, _notify_next_level

VERDICT_OF = {
    ReviewAction.RECOMMEND: JointVerdict.AGREE,
    ReviewAction.NOT_RECOMMEND: JointVerdict.DISAGREE,
    ReviewAction.RETURN: JointVerdict.RETURN,
}


def is_joint(application: Application, step: int | None = None) -> bool:
    step = application.current_step if step is None else step
    chain = application.chain or []
    return step is not None and step < len(chain) and chain[step].get("kind") == "joint_review"


def open_step(application: Application) -> None:
    """The application has just reached its current step: when it is a joint one, a pending
    opinion row for each of its orgs (idempotent)."""
    if not is_joint(application):
        return
    info = application.chain[application.current_step]
    JointOpinion.objects.bulk_create(
        [
            JointOpinion(
                application=application,
                version=application.version,
                step=application.current_step,
                level=info["level"],
                org_id=org_id,
            )
            for org_id in info["orgs"]
        ],
        ignore_conflicts=True,
    )


def step_opinions(application: Application, step: int | None = None) -> list[JointOpinion]:
    """The opinions of the application's current version at ``step``, in the file's order."""
    step = application.current_step if step is None else step
    order = {pk: i for i, pk in enumerate(application.chain[step].get("orgs", []))}
    rows = JointOpinion.objects.filter(
        application=application, version=application.version, step=step
    ).select_related("org")
    return sorted(rows, key=lambda r: order.get(r.org_id, len(order)))


def summary(rows: list[JointOpinion]) -> str:
    """Every org's opinion in one text: the step's decision carries it (the opinion box)."""
    parts = []
    for r in rows:
        said = r.get_verdict_display()
        parts.append(f"{r.org.name}：{said}" + (f"。{r.opinion}" if r.opinion else ""))
    return "；".join(parts)


def _record(app, verdict: str, text: str, scope: Scope, actor: Actor, now) -> JointOpinion:
    step = app.current_step
    info = app.chain[step]
    open_step(app)
    row = JointOpinion.objects.select_for_update().get(
        application=app, version=app.version, step=step, org_id=scope.org_id
    )
    if row.verdict:
        raise ReviewError(
            _(
                "本单位已于 %(when)s 对本申报发表意见（%(verdict)s），"
                "联合审核中每个单位只发表一次意见。"
            )
            % {"when": services._fmt(row.decided_at), "verdict": row.get_verdict_display()}
        )
    row.verdict, row.opinion, row.decided_at = verdict, text, now
    row.decided_by = actor.user if getattr(actor.user, "pk", None) else None
    row.save(update_fields=["verdict", "opinion", "decided_at", "decided_by"])
    audit_record(
        actor=actor,
        action="review.joint_opinion",
        obj=app,
        before={"step": step, "verdict": ""},
        after={"step": step, "level": info["level"], "org": scope.org_id, "verdict": verdict},
    )
    return row


def joint_opinion_record(
    app: Application, *, action: str, text: str, scope: Scope, actor: Actor, now: dt.datetime
) -> JointOpinion | ReviewDecision:
    """``scope``'s org agrees (``recommend``) or disagrees (``not_recommend``) at the joint
    step ``app`` (locked) is at; the step's decision when this opinion settles it."""
    check_decide(scope, app, action, now)
    step = app.current_step
    info = app.chain[step]
    row = _record(app, VERDICT_OF[action], text, scope, actor, now)
    rows = step_opinions(app, step)
    agreed = sum(r.verdict == JointVerdict.AGREE for r in rows)
    disagreed = sum(r.verdict == JointVerdict.DISAGREE for r in rows)
    needed, total = info["needed"], len(info["orgs"])
    said = summary([r for r in rows if r.verdict])
    if agreed >= needed:
        decision, rank = services._pass_on_last(app, step, said, actor, now, transition="recommend")
        audit_record(
            actor=actor,
            action="review.recommend",
            obj=app,
            before={"step": step},
            after={"state": app.state, "step": app.current_step, "level": info["level"],
                   "rank": rank, "version": app.version, "decision": decision.pk, "joint": said},
        )  # fmt: skip
        title = f"{app.applicant_org.name}的申报已通过{info['name']}"
        _notify_next_level(app, title=title, said=f"{said}。", actor=actor)
        return decision
    if total - disagreed < needed:
        decision = services._close(
            app, step, ReviewAction.NOT_RECOMMEND, "not_recommend", said, actor, now
        )
        _notify_applicant(
            app,
            event="review.not_recommended",
            title=f"您的申报未通过{info['name']}",
            body=f"{app.programme.title}·{app.category_name}。{said}",
            actor=actor,
        )
        return decision
    return row


def joint_return_record(app: Application, *, reasons: str, scope: Scope, actor, now) -> None:
    """An org of the joint step sends the application back: its opinion is kept with the
    step's other opinions; the return itself is the ordinary one (``review_return``)."""
    if is_joint(app):
        _record(app, JointVerdict.RETURN, reasons, scope, actor, now)


def reviewer_orgs(info: dict) -> list[int]:
    """The orgs that act at a step: a joint step's orgs, else its one org."""
    return info.get("orgs") or [info["org"]]


def spoken(apps: list[dict]) -> set[tuple[int, int]]:
    """(application, org) for each org that has given its opinion at the joint step where
    the application (a dict with ``pk``, ``chain``, ``current_step``, ``version``) stands,
    on its current version: one query, none without a joint step."""
    at = {
        a["pk"]: (a["version"], a["current_step"])
        for a in apps
        if a["current_step"] is not None
        and a["current_step"] < len(a["chain"] or [])
        and a["chain"][a["current_step"]].get("kind") == "joint_review"
    }
    if not at:
        return set()
    rows = (
        JointOpinion.objects.filter(application_id__in=list(at))
        .exclude(verdict=JointVerdict.PENDING)
        .values_list("application_id", "org_id", "version", "step")
    )
    return {(app, org) for app, org, version, step in rows if at[app] == (version, step)}


def waiting_orgs(app: dict, info: dict, said: set[tuple[int, int]]) -> list[int]:
    """The orgs ``app`` still waits for at its step ``info``: at a joint step, those that
    have not spoken (``said``: :func:`spoken`); else the step's one org."""
    return [o for o in reviewer_orgs(info) if (app["pk"], o) not in said]
