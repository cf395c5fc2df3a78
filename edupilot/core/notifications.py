"""In-app and e-mail notifications, and deadline reminders.

Services call :func:`notify` inside their transaction; the in-app rows commit with the change
and the e-mails go out from the worker after the commit, so a rolled-back change notifies
nobody and a slow or broken mail server never slows or breaks the change itself::

    notify(orgs=[step.org], roles=[Role.REVIEWER], event="application.submitted",
           title=f"{app.applicant_org.name}提交了申报", body="……",
           link=reverse("review:detail", args=[app.pk]))

Reminders: an app registers a provider that returns what is due on a given day; the periodic
task :func:`deadline_reminders_task` asks every provider once a day (after
``REMINDER_HOUR`` Beijing time) and sends each reminder once, by its key::

    @register_reminder_provider("review.level_deadlines")
    def level_deadlines(today):
        for programme in Programme.objects.filter(is_active=True):
            leads = reminder_lead_days(programme, "review_deadline")
            for ...:
                n = days_until_due(deadline, today, leads)
                if n is not None:
                    yield Reminder(key=f"review-deadline:{programme.code}:{cat}:{level}:{n}", ...)
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from edupilot.orgs.models import Membership

from .models import EmailStatus, Notification, ReminderSent

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Reminders go out at the first hourly run at or after this hour, Beijing time.
REMINDER_HOUR = int(getattr(settings, "EDUPILOT_REMINDER_HOUR", 8))
SUBJECT_PREFIX = "【EduPilot】"


def _ids(values) -> set[int]:
    """Ids of the given objects or ids. None and objects without a primary key (the system
    actor's user, an anonymous user) are skipped, so callers may pass ``actor.user`` as is."""
    ids = set()
    for v in values:
        pk = v if isinstance(v, int) else getattr(v, "pk", None)
        if pk is not None:
            ids.add(pk)
    return ids


def _one_line(text: str, limit: int) -> str:
    # Mail headers may not contain line breaks; titles are one line anyway.
    return " ".join(str(text).split())[:limit]


def recipients_for(*, users=(), orgs=(), roles=(), exclude_users=()) -> list[tuple[int, str]]:
    """Active users named directly, plus the active members of ``orgs`` with ``roles``.

    ``roles`` empty means every role. Returns ``[(user_id, email), ...]`` without duplicates.
    """
    user_ids = _ids(users)
    org_ids = _ids(orgs)
    if org_ids:
        members = Membership.objects.filter(org_id__in=org_ids, is_active=True)
        if roles:
            members = members.filter(role__in=[str(r) for r in roles])
        user_ids |= set(members.values_list("user_id", flat=True))
    user_ids -= _ids(exclude_users)
    if not user_ids:
        return []
    User = get_user_model()
    return list(
        User.objects.filter(pk__in=user_ids, is_active=True)
        .order_by("pk")
        .values_list("pk", "email")
    )


def notify(
    *,
    users=(),
    orgs=(),
    roles=(),
    event: str,
    title: str,
    body: str = "",
    link: str = "",
    exclude_users=(),
    email: bool = True,
) -> list[Notification]:
    """Notify people in the app and by e-mail; returns the in-app rows written.

    ``users``: users or ids; ``orgs``: orgs or ids, whose active members with one of
    ``roles`` (empty: any role) are notified; ``exclude_users``: e.g. the actor.
    ``link`` is a path inside EduPilot (``/review/12/``). Call it inside the transaction of
    the change: the e-mails are queued when it commits, and a failure to queue or send is
    logged and recorded on the rows, never raised.
    """
    people = recipients_for(users=users, orgs=orgs, roles=roles, exclude_users=exclude_users)
    if not people:
        return []
    title = _one_line(title, 200)
    link = link[:500]
    rows = [
        Notification(
            recipient_id=user_id,
            event=event[:64],
            title=title,
            body=body,
            link=link,
            email_status=EmailStatus.PENDING if (email and address) else EmailStatus.NONE,
        )
        for user_id, address in people
    ]
    rows = Notification.objects.bulk_create(rows)
    _add_unread([user_id for user_id, _address in people])
    pending = [n.pk for n in rows if n.email_status == EmailStatus.PENDING]
    if pending:
        transaction.on_commit(partial(_enqueue_emails, pending))
    return rows


def _enqueue_emails(ids: list[int]) -> None:
    try:
        send_notification_emails_task(ids)
    except Exception as exc:
        logger.exception("could not queue notification e-mails")
        Notification.objects.filter(pk__in=ids, email_status=EmailStatus.PENDING).update(
            email_status=EmailStatus.FAILED, email_error=f"queue: {exc}"[:500]
        )


@db_task(retries=0)
def send_notification_emails_task(ids: list[int]) -> None:
    notification_emails_send(ids=ids)


def absolute_link(link: str) -> str:
    if not link:
        return ""
    if link.startswith("/"):
        return settings.BASE_URL.rstrip("/") + link
    return link


def _message(n: Notification, connection) -> EmailMessage:
    user = n.recipient
    with translation.override(settings.LANGUAGE_CODE):
        text = render_to_string(
            "core/email/notification.txt",
            {"user": user, "n": n, "url": absolute_link(n.link)},
        )
    return EmailMessage(
        subject=SUBJECT_PREFIX + n.title,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        connection=connection,
        headers={"Auto-Submitted": "auto-generated"},
    )


def notification_emails_send(*, ids: list[int]) -> int:
    """Send the pending e-mails of these notifications over one connection; return how many.

    Each message's outcome is recorded on its row; nothing is raised.
    """
    rows = list(
        Notification.objects.filter(pk__in=ids, email_status=EmailStatus.PENDING).select_related(
            "recipient"
        )
    )
    if not rows:
        return 0
    try:
        connection = get_connection(fail_silently=False)
        connection.open()
    except Exception as exc:
        logger.warning("mail server unavailable: %s", exc)
        Notification.objects.filter(pk__in=[n.pk for n in rows]).update(
            email_status=EmailStatus.FAILED, email_error=f"connect: {exc}"[:500]
        )
        return 0
    sent = 0
    try:
        for n in rows:
            try:
                connection.send_messages([_message(n, connection)])
            except Exception as exc:
                logger.warning("e-mail for notification %s failed: %s", n.pk, exc)
                Notification.objects.filter(pk=n.pk).update(
                    email_status=EmailStatus.FAILED, email_error=str(exc)[:500]
                )
            else:
                sent += 1
                Notification.objects.filter(pk=n.pk).update(
                    email_status=EmailStatus.SENT, emailed_at=timezone.now(), email_error=""
                )
    finally:
        try:
            connection.close()
        except Exception:
            logger.debug("closing the mail connection failed", exc_info=True)
    return sent


# --- reading and marking read ----------------------------------------------------------------


def unread_count(user) -> int:
    """The exact number of unread notifications (the badge shows the user row's
    ``unread_notifications``, which the writers below keep equal to it)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def _add_unread(user_ids: Iterable[int], delta: int = 1) -> None:
    """Move the users' badge counters by ``delta`` each (one UPDATE per distinct delta).

    Relative updates (``F() + k``), never a recount: a recount inside one transaction would
    miss another transaction's notification committed meanwhile and overwrite its +1.
    """
    by_delta: dict[int, list[int]] = defaultdict(list)
    for user_id, n in Counter(user_ids).items():
        by_delta[n * delta].append(user_id)
    users = get_user_model().objects
    for k, ids in by_delta.items():
        users.filter(pk__in=ids).update(
            unread_notifications=Greatest(F("unread_notifications") + k, Value(0))
        )


def notification_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when ``ids`` is None)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    with transaction.atomic():
        # Only the rows this statement changed count: a concurrent reader marking the same
        # ones read finds them already read and takes nothing off.
        n = qs.update(read_at=timezone.now())
        if n:
            _add_unread([user.pk], -n)
    return n


# --- reminders ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """One reminder a provider says is due today.

    ``key`` identifies it across runs: the same key is sent once. Put in it what makes the
    reminder distinct (programme, level, org, days left), e.g.
    ``"review-deadline:henan-tencent-2019:school:city:3"``.
    """

    key: str
    event: str
    title: str
    body: str = ""
    link: str = ""
    users: tuple = field(default=())
    orgs: tuple = field(default=())
    roles: tuple = field(default=())


ReminderProvider = Callable[[date], Iterable[Reminder]]
_PROVIDERS: dict[str, ReminderProvider] = {}


def register_reminder_provider(name: str) -> Callable[[ReminderProvider], ReminderProvider]:
    """Register ``fn(today: date) -> Iterable[Reminder]``; ``today`` is a Beijing date."""

    def decorator(fn: ReminderProvider) -> ReminderProvider:
        _PROVIDERS[name] = fn
        return fn

    return decorator


# The lead times used when a programme file does not set its own.
DEFAULT_LEAD_DAYS: dict[str, tuple[int, ...]] = {
    "application_deadline": (7, 3, 1),
    "review_deadline": (3, 1),
    "report_due": (5, 1),
}


def reminder_lead_days(programme, kind: str) -> tuple[int, ...]:
    """Days before a deadline of ``kind`` at which to remind, for one programme.

    The hook for per-programme lead times: a programme file may carry a ``[reminders]``
    table, e.g. ``review_deadline = [5, 1]`` (read from the loaded spec; until the programme
    schema accepts that table, every programme uses :data:`DEFAULT_LEAD_DAYS`).
    """
    spec = getattr(programme, "spec", None) or {}
    configured = (spec.get("reminders") or {}).get(kind) if isinstance(spec, dict) else None
    if configured is not None:
        try:
            return tuple(sorted({int(d) for d in configured if int(d) >= 0}, reverse=True))
        except (TypeError, ValueError):
            logger.warning("programme %s: bad reminders.%s %r", programme, kind, configured)
    return DEFAULT_LEAD_DAYS.get(kind, (3, 1))


def days_until_due(deadline: datetime | date, today: date, lead_days: Iterable[int]) -> int | None:
    """Whole days from ``today`` to the deadline's Beijing date, if a reminder is due today."""
    if isinstance(deadline, datetime):
        if timezone.is_aware(deadline):
            deadline = deadline.astimezone(SHANGHAI)
        deadline = deadline.date()
    days = (deadline - today).days
    return days if days in set(lead_days) else None


@dataclass
class ReminderRun:
    sent: int = 0
    skipped: int = 0
    notifications: int = 0
    failed_providers: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # of the reminders sent


def send_each_once(due: list[Reminder], *, provider: str, run: ReminderRun) -> ReminderRun:
    """Send each of ``due`` whose key was not sent yet, and count it in ``run``.

    The ``ReminderSent`` row (keys cut to 255) is the guard: the keys already sent are read in
    one query and skipped; each new one is claimed and notified in one transaction, so a
    second worker racing on the same key skips it, and a failed send can be sent again.
    """
    keys = [r.key[:255] for r in due]
    already = set(ReminderSent.objects.filter(key__in=keys).values_list("key", flat=True))
    for r, key in zip(due, keys, strict=True):
        if key in already:
            run.skipped += 1
            continue
        with transaction.atomic():
            record, created = ReminderSent.objects.get_or_create(
                key=key, defaults={"provider": provider[:100]}
            )
            if not created:
                run.skipped += 1
                continue
            rows = notify(
                users=r.users,
                orgs=r.orgs,
                roles=r.roles,
                event=r.event,
                title=r.title,
                body=r.body,
                link=r.link,
            )
            record.recipients = len(rows)
            record.save(update_fields=["recipients"])
        already.add(key)
        run.sent += 1
        run.notifications += len(rows)
        run.keys.append(r.key)
    return run


def send_deadline_reminders(*, today: date | None = None) -> ReminderRun:
    """Ask every provider what is due ``today`` (Beijing) and send what was not sent yet."""
    today = today or timezone.localtime(timezone.now(), SHANGHAI).date()
    run = ReminderRun()
    for name, provider in sorted(_PROVIDERS.items()):
        try:
            due = list(provider(today))
        except Exception:
            logger.exception("reminder provider %s failed", name)
            run.failed_providers.append(name)
            continue
        send_each_once(due, provider=name, run=run)
    return run


@db_periodic_task(crontab(minute="5"))
def deadline_reminders_task() -> None:
    # Hourly, acting from REMINDER_HOUR on: a worker that was down at that hour catches up
    # later the same day, and the keys keep it from sending twice.
    if timezone.localtime(timezone.now(), SHANGHAI).hour >= REMINDER_HOUR:
        send_deadline_reminders()
