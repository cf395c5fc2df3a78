"""What the review services share: notifications to the levels and the applicant, and the
checks of what a reviewer typed."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

from django.urls import reverse
from django.utils.translation import gettext as _

from edupilot.applications.models import Application
from edupilot.applications.services import submission_check
from edupilot.core.notifications import notify
from edupilot.orgs.models import Role

from .permissions import REVIEWER_ROLES, ReviewError

OPINION_MAX = 2000


# --- notifications ---------------------------------------------------------------------------


def _notify(**kwargs) -> None:
    """In-app rows now, e-mail after the commit (see edupilot.core.notifications)."""
    notify(**kwargs)


def _detail_link(application: Application) -> str:
    return reverse("review:detail", args=[application.pk])


def _notify_applicant(application: Application, *, event: str, title: str, body: str, actor):
    _notify(
        orgs=[application.applicant_org_id],
        roles=[Role.APPLICANT],
        event=event,
        title=title,
        body=body,
        link=_detail_link(application),
        exclude_users=[actor.user],
    )


def _notify_reviewers(
    application: Application, step: int, *, event: str, title: str, body: str, actor
):
    info = application.chain[step]
    _notify(
        # A joint review step is every one of its orgs' (review/joint.py).
        orgs=list(info.get("orgs") or [info["org"]]),
        roles=list(REVIEWER_ROLES),
        event=event,
        title=title,
        body=body,
        link=_detail_link(application),
        exclude_users=[actor.user],
    )


def _notify_next_level(application: Application, *, title: str, said: str, actor) -> None:
    """The reviewers of the step the application was just passed on to: it is theirs now."""
    nxt = application.chain[application.current_step]
    _notify_reviewers(
        application,
        application.current_step,
        event="review.recommended",
        title=title,
        body=f"{application.programme.title}·{application.category_name}：{said}"
        f"请{nxt['org_name']}{nxt['name']}。",
        actor=actor,
    )


def about(application: Application) -> str:
    """The prefix that names the application an error of a bulk action is about."""
    return _("“%(org)s”：") % {"org": application.applicant_org.name}


@contextmanager
def _prefixed(prefix: str):
    """In bulk actions, say which application an error is about."""
    try:
        yield
    except ReviewError as exc:
        if prefix:
            exc.message = prefix + exc.message
            exc.args = (exc.message,)
        raise


# --- input -----------------------------------------------------------------------------------


def _clean_text(value: str | None, label: str, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ReviewError(_("请填写%(what)s。") % {"what": label})
    if len(text) > OPINION_MAX:
        raise ReviewError(
            _("%(label)s不能超过 %(max)s 字（现有 %(n)s 字）。")
            % {"label": label, "max": OPINION_MAX, "n": len(text)}
        )
    return text


def _check_rules(application: Application) -> None:
    """Re-run the category's submission rules: what held at submission may no longer hold.

    Henan: a school in a submitted region bid and the school's own bid may not both pass.
    """
    result, failed = submission_check(application)
    blocking = [r.message for r in failed if r.severity == "block"]
    if not result.ok:
        blocking.insert(0, _("申报表内容不完整"))
    if blocking:
        raise ReviewError(
            _("“%(org)s”不符合申报规则，不能推荐：%(reasons)s")
            % {"org": application.applicant_org.name, "reasons": _("；").join(blocking)}
        )


def _start_review(application: Application, now: dt.datetime, fields: list[str]) -> None:
    if application.review_started_at is None:
        application.review_started_at = now
        fields.append("review_started_at")
