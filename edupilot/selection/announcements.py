"""Announcements (公示): publish the issuer's decisions, record and resolve objections, close.

- :func:`announcement_publish` applies every pending decision of a programme: approved
  applications become APPROVED and are listed, rejected ones become REJECTED. The list is a
  snapshot of unit names, categories, topics and regions, which is all the public page shows.
- :func:`objection_record` / :func:`objection_resolve`: the issuer records objections it
  receives during the period (the objector's contact is never shown publicly) and resolves
  them; an upheld objection takes the entry off the list and the application is REJECTED.
- :func:`announcement_close`: after the period, with no objection left open, the final list
  is published and the listed applications become PILOT (a round's: FORWARDED, sent to the
  parent programme by selection/cascade.py). A periodic task closes what is due.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.applications.models import Application, AppState
from edupilot.applications.workflows import APPLICATION
from edupilot.audit.services import Actor, audit_record
from edupilot.core.errors import check, posted_text
from edupilot.core.notifications import notify
from edupilot.orgs.models import Org, Role
from edupilot.orgs.scoping import Scope
from edupilot.programmes import cascade
from edupilot.programmes.models import Programme

from .approval import decision_notify
from .errors import SelectionError
from .models import (
    Announcement,
    AnnouncementEntry,
    AnnouncementState,
    ApprovalDecision,
    ApprovalOutcome,
    EntryOutcome,
    Objection,
    ObjectionState,
)
from .permissions import (
    can_close_announcement,
    can_record_objection,
    can_resolve_objection,
    fmt_time,
)
from .public_text import personal_data_in
from .rules import check_manage, objection_until, rubric_of
from .scoring import current_assignments_prefetch, needs_criterion_scores, ranking
from .selectors import pending_decisions
from .signals import announcement_published, final_list_published
from .workflows import ANNOUNCEMENT, OBJECTION

logger = logging.getLogger(__name__)
TEXT_MAX = 5000


# --- snapshots ---------------------------------------------------------------------------------


def region_names(orgs: list[Org], issuer: Org) -> dict[int, str]:
    """Each org's region below the issuer: its ancestors' names (one query for all).

    A unit directly under the issuer is placed in the issuer's region (a 市直 school: 泉州市).
    """
    wanted: set[str] = set()
    for o in orgs:
        wanted.update(o.ancestor_codes)
    names = dict(Org.objects.filter(code__in=wanted).values_list("code", "name"))
    out = {}
    issuer_depth = issuer.depth
    for o in orgs:
        codes = o.ancestor_codes[issuer_depth + 1 :]
        out[o.pk] = "".join(names.get(c, "") for c in codes) or issuer.name
    return out


def _entry_order(programme: Programme, apps: list[Application]) -> list[Application]:
    """Category order of the programme file, then expert ranking, then the org tree."""
    spec = programme.parsed
    order = {c.code: i for i, c in enumerate(spec.categories)}
    rubric = rubric_of(programme)
    by_category = defaultdict(list)
    for a in apps:
        by_category[a.category].append(a)
    out = []
    for code in sorted(by_category, key=lambda c: order.get(c, 99)):
        out.extend(line.application for line in ranking(by_category[code], rubric))
    return out


# --- publish --------------------------------------------------------------------------------


def list_name(programme: Programme) -> str:
    """What the announced list is called: a round's list goes to its parent for approval."""
    return "拟推荐名单" if programme.parsed.parent else "拟立项名单"


def default_title(programme: Programme) -> str:
    return (
        programme.parsed.announcement.title or f"关于{programme.title}{list_name(programme)}的公示"
    )


def clean_texts(programme: Programme, title: str, intro: str) -> tuple[str, str]:
    """The title (the default when empty) and the introduction, checked; no database access."""
    title = (title or "").strip() or default_title(programme)
    if len(title) > 300:
        raise SelectionError(
            _("标题最多 300 字。"), {"title": [_("最多 %(limit)s 字") % {"limit": 300}]}
        )
    intro = posted_text(intro, field="intro", label=_("说明"), limit=TEXT_MAX, exc=SelectionError)
    for field, text in (("title", title), ("intro", intro)):
        found = personal_data_in(text)
        if found:
            kinds = _("、").join(dict.fromkeys(str(kind) for kind, _hit in found))
            hits = _("、").join(hit for _kind, hit in found[:3])
            words = {"kinds": kinds, "hits": hits}
            raise SelectionError(
                _("公示内容向社会公开，不能包含%(kinds)s（%(hits)s）。请删除后再发布。") % words,
                {field: [_("请删除%(kinds)s：%(hits)s") % words]},
            )
    return title, intro


@dataclass
class _Pending:
    """The programme's pending decisions with their applications, locked."""

    apps: dict[int, Application]
    approvals: list[ApprovalDecision]
    rejections: list[ApprovalDecision]
    stale: list[ApprovalDecision]


def _lock_pending(programme: Programme, now: dt.datetime) -> _Pending:
    """Lock the pending decisions' applications; revoke the decisions that no longer apply (the
    application left RECOMMENDED meanwhile: returned by the issuer's level for revision)."""
    decisions = list(pending_decisions(programme).order_by("pk"))
    apps = {
        a.pk: a
        for a in Application.objects.select_for_update()
        .select_related("applicant_org")
        .prefetch_related(
            current_assignments_prefetch(
                light=True, scores=needs_criterion_scores(rubric_of(programme))
            )
        )
        .filter(pk__in=[d.application_id for d in decisions])
        .order_by("pk")
    }
    for a in apps.values():
        a.programme = programme
    stale = [d for d in decisions if apps[d.application_id].state != AppState.RECOMMENDED]
    for d in stale:
        d.revoke(now)
    live = [d for d in decisions if d not in stale]
    return _Pending(
        apps,
        [d for d in live if d.outcome == ApprovalOutcome.APPROVE],
        [d for d in live if d.outcome == ApprovalOutcome.REJECT],
        stale,
    )


def _list_entries(
    announcement: Announcement, approved_apps: list[Application], grades: dict[int, str]
) -> None:
    """The public snapshot: unit, category, topic and region names and the grade, in order."""
    programme = announcement.programme
    topics = {t.code: t.name for t in programme.parsed.topics}
    regions = region_names([a.applicant_org for a in approved_apps], programme.issuer)
    AnnouncementEntry.objects.bulk_create(
        [
            AnnouncementEntry(
                announcement=announcement,
                application=a,
                position=i,
                unit_name=a.applicant_org.name[:200],
                category_name=a.category_name[:100],
                topic_name=topics.get(a.topic, "")[:200],
                region_name=regions.get(a.applicant_org_id, "")[:200],
                grade_name=grades.get(a.pk, ""),
            )
            for i, a in enumerate(approved_apps, start=1)
        ]
    )


def _take_effect(
    a: Application, d: ApprovalDecision, announcement: Announcement, actor: Actor, **note
) -> None:
    """Apply one published decision: the state, the audit event, the notification."""
    approve = d.outcome == ApprovalOutcome.APPROVE
    APPLICATION.advance(a, "approve" if approve else "reject")
    a.current_org = None
    a.save(update_fields=["state", "current_org", "updated_at"])
    audit_record(
        actor=actor,
        action="selection.approved" if approve else "selection.rejected",
        obj=a,
        before={"state": AppState.RECOMMENDED},
        after={"state": a.state, "announcement": announcement.pk, "decision": d.pk},
    )
    decision_notify(
        a, event="selection.approved" if approve else "selection.rejected", actor=actor, **note
    )


@transaction.atomic
def announcement_publish(
    *,
    programme: Programme,
    scope: Scope,
    actor: Actor,
    title: str = "",
    intro: str = "",
    now: dt.datetime | None = None,
) -> Announcement:
    """Publish the pending decisions: approved → APPROVED and listed, rejected → REJECTED."""
    now = now or timezone.now()
    programme = Programme.objects.select_for_update().select_related("issuer").get(pk=programme.pk)
    check_manage(scope, programme)
    title, intro = clean_texts(programme, title, intro)
    pending = _lock_pending(programme, now)
    if not pending.approvals:
        raise SelectionError(_("没有待公示的同意立项决定，请先在审定页面作出决定。"))
    # Calendar or working days from the next day; the end of its last day, Beijing time.
    until = objection_until(programme, now)
    announcement = Announcement.objects.create(
        programme=programme,
        title=title,
        intro=intro,
        published_at=now,
        objection_until=until,
        published_by=actor.user,
        state=ANNOUNCEMENT.initial("publish"),
    )
    apps = pending.apps
    approved_apps = _entry_order(programme, [apps[d.application_id] for d in pending.approvals])
    grades = {d.application_id: d.grade_name for d in pending.approvals}
    _list_entries(announcement, approved_apps, grades)
    ApprovalDecision.objects.filter(
        pk__in=[d.pk for d in pending.approvals + pending.rejections]
    ).update(announcement=announcement)
    when = fmt_time(until)
    for d in pending.approvals:
        a = apps[d.application_id]
        _take_effect(
            a,
            d,
            announcement,
            actor,
            title=f"已列入{list_name(programme)}，正在公示",
            body=f"{programme.title}·{a.category_name}：{title}，公示期至 {when}（北京时间）。",
        )
    for d in pending.rejections:
        a = apps[d.application_id]
        _take_effect(
            a,
            d,
            announcement,
            actor,
            title="未获立项",
            body=f"{programme.title}·{a.category_name}：经审定未予立项。理由：{d.opinion}",
        )
    audit_record(
        actor=actor,
        action="announcement.publish",
        obj=announcement,
        after={
            "programme": programme.code,
            "title": title,
            "objection_until": until,
            "listed": [a.pk for a in approved_apps],
            "rejected": [d.application_id for d in pending.rejections],
            "stale": [d.pk for d in pending.stale],
        },
    )
    announcement_published.send(
        sender=Announcement, announcement=announcement, actor=actor, now=now
    )
    return announcement


# --- objections ---------------------------------------------------------------------------------


def _lock_announcement(announcement: Announcement) -> Announcement:
    return (
        Announcement.objects.select_for_update()
        .select_related("programme", "programme__issuer")
        .get(pk=announcement.pk)
    )


@transaction.atomic
def objection_record(
    *,
    announcement: Announcement,
    entry: AnnouncementEntry,
    text: str,
    contact: str = "",
    received_at: dt.datetime | None = None,
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> Objection:
    """Record an objection the issuer received about one listed entry, within the period."""
    now = now or timezone.now()
    received_at = received_at or now
    ann = _lock_announcement(announcement)
    check_manage(scope, ann.programme)
    check(can_record_objection(scope, ann), SelectionError)
    entry = AnnouncementEntry.objects.filter(pk=entry.pk, announcement=ann).first()
    if entry is None:
        raise SelectionError(
            _("该单位不在本次公示名单中。"), {"entry": [_("请选择公示名单中的单位")]}
        )
    if entry.outcome != EntryOutcome.LISTED:
        raise SelectionError(_("“%(unit)s”已从名单中撤销。") % {"unit": entry.unit_name})
    errors = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = [_("请填写异议内容")]
    elif len(text) > TEXT_MAX:
        errors["text"] = [_("最多 %(limit)s 字") % {"limit": TEXT_MAX}]
    contact = (contact or "").strip()
    if len(contact) > 200:
        errors["contact"] = [_("最多 %(limit)s 字") % {"limit": 200}]
    if received_at > now:
        errors["received_at"] = [_("收到时间不能晚于现在")]
    elif received_at > ann.objection_until:
        errors["received_at"] = [
            _("异议须在公示期内提出（截至 %(until)s）") % {"until": fmt_time(ann.objection_until)}
        ]
    elif received_at < ann.published_at:
        errors["received_at"] = [_("收到时间不能早于公示发布时间")]
    if errors:
        raise SelectionError(_("异议登记有需要修改的地方，见各项提示；本次未保存。"), errors)
    objection = Objection.objects.create(
        announcement=ann,
        entry=entry,
        text=text,
        contact=contact,
        received_at=received_at,
        recorded_by=actor.user,
        state=OBJECTION.initial("record"),
    )
    # The contact stays out of the audit trail's readable payload: only that one was given.
    audit_record(
        actor=actor,
        action="objection.record",
        obj=objection,
        after={
            "entry": entry.pk,
            "application": entry.application_id,
            "has_contact": bool(contact),
        },
    )
    return objection


@transaction.atomic
def objection_resolve(
    *,
    objection: Objection,
    upheld: bool,
    resolution: str,
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> Objection:
    """Resolve an open objection. Upheld: the entry leaves the list, the application is REJECTED."""
    now = now or timezone.now()
    ann = _lock_announcement(objection.announcement)
    check_manage(scope, ann.programme)
    obj = Objection.objects.select_for_update().select_related("entry").get(pk=objection.pk)
    obj.announcement = ann
    check(can_resolve_objection(scope, obj), SelectionError)
    resolution = posted_text(
        resolution,
        field="resolution",
        label=_("处理意见"),
        limit=TEXT_MAX,
        exc=SelectionError,
        required=_("处理意见"),
    )
    OBJECTION.advance(
        obj, "resolve", to=ObjectionState.UPHELD if upheld else ObjectionState.DISMISSED
    )
    save_resolution(obj, resolution, actor.user, now)
    audit_record(
        actor=actor,
        action="objection.resolve",
        obj=obj,
        before={"state": ObjectionState.OPEN},
        after={"state": obj.state, "resolution": resolution},
    )
    if upheld:
        _remove_entry(obj, resolution, actor, now)
    return obj


def save_resolution(objection, resolution: str, by, now: dt.datetime) -> None:
    """Save an objection (an announcement's, or a title's: pilots.honour_objections) the
    workflow has just resolved: its new state, the resolution, who and when."""
    objection.resolution, objection.resolved_by, objection.resolved_at = resolution, by, now
    objection.save(update_fields=["state", "resolution", "resolved_by", "resolved_at"])


def _remove_entry(obj: Objection, resolution: str, actor: Actor, now: dt.datetime) -> None:
    """An upheld objection: the entry leaves the list, the application is REJECTED."""
    entry = AnnouncementEntry.objects.select_for_update().get(pk=obj.entry_id)
    entry.outcome = EntryOutcome.REMOVED
    entry.save(update_fields=["outcome"])
    # Other open objections to the same entry are settled by this one.
    others = Objection.objects.select_for_update().filter(entry=entry, state=ObjectionState.OPEN)
    for other in others:
        OBJECTION.advance(other, "settled_by_other")
        settled = f"同一单位的异议已核实成立（见异议 #{obj.pk}）：{resolution}"
        save_resolution(other, settled, actor.user, now)
    app = (
        Application.objects.select_for_update()
        .select_related("applicant_org", "programme")
        .get(pk=entry.application_id)
    )
    if app.state != AppState.APPROVED:
        return
    APPLICATION.advance(app, "objection_upheld")
    app.save(update_fields=["state", "updated_at"])
    audit_record(
        actor=actor,
        action="selection.removed_by_objection",
        obj=app,
        before={"state": AppState.APPROVED},
        after={"state": app.state, "objection": obj.pk},
    )
    decision_notify(
        app,
        event="selection.removed",
        title="公示期间异议经核实成立，已撤销立项",
        body=f"{app.programme.title}·{app.category_name}：{resolution}",
        actor=actor,
    )


# --- close ----------------------------------------------------------------------------------


@transaction.atomic
def announcement_close(
    *,
    announcement: Announcement,
    actor: Actor,
    scope: Scope | None = None,
    now: dt.datetime | None = None,
) -> Announcement:
    """Publish the final list after the period: listed applications become PILOT, or, in
    a round (``parent``), FORWARDED: its issuer's recommendations to the parent programme.

    ``scope`` None is the periodic task acting for the system. Refused before the period
    ends and while an objection is open.
    """
    now = now or timezone.now()
    ann = _lock_announcement(announcement)
    if scope is not None:
        check_manage(scope, ann.programme)
    check(can_close_announcement(scope, ann, now), SelectionError)
    open_ = list(
        ann.objections.filter(state=ObjectionState.OPEN).select_related("entry").order_by("pk")
    )
    if open_:
        names = _("、").join(sorted({o.entry.unit_name for o in open_}))
        raise SelectionError(
            _("还有 %(n)s 条异议未处理（%(names)s），请先处理再公布最终名单。")
            % {"n": len(open_), "names": names}
        )
    entries = list(ann.entries.filter(outcome=EntryOutcome.LISTED).order_by("position"))
    apps = {
        a.pk: a
        for a in Application.objects.select_for_update()
        .select_related("applicant_org")
        .filter(pk__in=[e.application_id for e in entries])
        .order_by("pk")
    }
    for a in apps.values():
        a.programme = ann.programme
    parent = cascade.parent_title(ann.programme)
    # A round's confirmed units are not its pilots: they go to the parent (selection/cascade.py).
    transition, action = (
        ("forward", "selection.forward") if parent else ("become_pilot", "selection.pilot")
    )
    piloted = []
    for e in entries:
        a = apps[e.application_id]
        if a.state != AppState.APPROVED:
            logger.warning("announcement %s: application %s is %s", ann.pk, a.pk, a.state)
            continue
        APPLICATION.advance(a, transition)
        a.save(update_fields=["state", "updated_at"])
        piloted.append(a)
        audit_record(
            actor=actor,
            action=action,
            obj=a,
            before={"state": AppState.APPROVED},
            after={"state": a.state, "announcement": ann.pk},
        )
    ANNOUNCEMENT.advance(ann, "close")
    ann.final_published_at = now
    ann.closed_by = actor.user if getattr(actor.user, "pk", None) else None
    ann.save(update_fields=["state", "final_published_at", "closed_by"])
    audit_record(
        actor=actor,
        action="announcement.close",
        obj=ann,
        before={"state": AnnouncementState.PUBLISHED},
        after={"state": ann.state, "pilots": [a.pk for a in piloted]},
    )
    final_list_published.send(
        sender=Announcement, announcement=ann, applications=piloted, actor=actor, now=now
    )
    for a in piloted:
        if parent:
            decision_notify(
                a,
                event="selection.forward",
                title=f"公示期满，已推荐至上级项目“{parent}”",
                body=f"{a.programme.title}·{a.category_name}：{ann.title}期满无异议（或异议不成立），"
                f"已作为{ann.programme.issuer.name}的推荐报送“{parent}”，等待上级审核。",
                actor=actor,
            )
            continue
        decision_notify(
            a,
            event="selection.pilot",
            title="公示期满，已列入试点最终名单",
            body=f"{a.programme.title}·{a.category_name}：{ann.title}期满无异议（或异议不成立），"
            "正式确定为试点单位。",
            actor=actor,
        )
    return ann


def announcements_close_due(*, now: dt.datetime | None = None) -> list[Announcement]:
    """Close every announcement whose period has ended; tell the issuer what is held up."""
    now = now or timezone.now()
    closed = []
    due = Announcement.objects.filter(
        state=AnnouncementState.PUBLISHED, objection_until__lt=now
    ).select_related("programme")
    for ann in due:
        try:
            closed.append(announcement_close(announcement=ann, actor=Actor.system(), now=now))
        except SelectionError as exc:
            _held_up(ann, exc.message)
    return closed


def _held_up(ann: Announcement, why: str) -> None:
    from edupilot.core.models import ReminderSent

    with transaction.atomic():
        _, created = ReminderSent.objects.get_or_create(
            # The provider name predates the selection app; rows already written carry it.
            key=f"announcement-held:{ann.pk}",
            defaults={"provider": "review.announcements"},
        )
        if created:
            notify(
                orgs=[ann.programme.issuer_id],
                roles=[Role.PROGRAMME_ADMIN],
                event="announcement.held_up",
                title=f"公示期已满，最终名单尚未公布：{ann.title}",
                body=why,
                link=reverse("selection:announcement", args=[ann.pk]),
            )
