"""Objections to a title during its 公示 (称号公示异议): recorded by the issuer, resolved by it.

Upheld, an objection withdraws the title (``HONOUR`` 'withdraw'); dismissed, the title stays.
While any objection to a title is open the title is not made final (``honours_finalize``
holds it and says so).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record
from edupilot.core.errors import check
from edupilot.orgs.scoping import Scope
from edupilot.selection.announcements import save_resolution

from .honours import HonourError, _note, _withdraw
from .models import Honour, HonourObjection, HonourObjectionState
from .permissions import can_record_honour_objection, can_resolve_honour_objection
from .workflows import HONOUR, HONOUR_OBJECTION


@transaction.atomic
def honour_objection_record(
    *,
    honour: Honour,
    text: str,
    contact: str = "",
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> HonourObjection:
    now = now or timezone.now()
    h = (
        Honour.objects.select_for_update()
        .select_related("pilot", "pilot__programme", "pilot__programme__issuer")
        .get(pk=honour.pk)
    )
    check(can_record_honour_objection(scope, h), HonourError)
    text = _note(text, "text")
    if not text:
        raise HonourError(_("请填写异议内容。"), {"text": [_("请填写异议内容")]})
    objection = HonourObjection.objects.create(
        honour=h,
        text=text,
        contact=_note(contact, "contact")[:200],
        received_at=now,
        recorded_by=actor.user,
        state=HONOUR_OBJECTION.initial("record"),
    )
    # The contact stays out of the audit trail's readable payload: only that one was given.
    audit_record(
        actor=actor,
        action="pilot.honour.objection",
        obj=h,
        after={"objection": objection.pk, "contact_given": bool(objection.contact)},
    )
    return objection


@transaction.atomic
def honour_objection_resolve(
    *,
    objection: HonourObjection,
    upheld: bool,
    resolution: str,
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> HonourObjection:
    now = now or timezone.now()
    o = (
        HonourObjection.objects.select_for_update()
        .select_related("honour", "honour__pilot", "honour__pilot__programme")
        .get(pk=objection.pk)
    )
    h = Honour.objects.select_for_update().select_related("pilot").get(pk=o.honour_id)
    o.honour = h
    check(can_resolve_honour_objection(scope, o), HonourError)
    resolution = _note(resolution, "resolution")
    if not resolution:
        raise HonourError(_("请填写处理意见。"), {"resolution": [_("请填写处理意见")]})
    target = HonourObjectionState.UPHELD if upheld else HonourObjectionState.DISMISSED
    HONOUR_OBJECTION.advance(o, "resolve", to=target)
    save_resolution(o, resolution, actor.user, now)
    audit_record(
        actor=actor,
        action="pilot.honour.objection_resolve",
        obj=h,
        after={"objection": o.pk, "state": o.state},
    )
    if upheld and HONOUR.can_leave(h, "withdraw"):
        note, told = f"异议成立，撤销：{resolution}", f"公示期间异议成立：{resolution}"
        _withdraw(h, note=note, told=told, actor=actor, objection=o.pk)
    return o
