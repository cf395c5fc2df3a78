"""Batches and their roster: set up, exempting titles, district standards, freeze, publish."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record
from edupilot.orgs.models import Org, OrgKind, subtree_q
from edupilot.orgs.scoping import Scope
from edupilot.programmes.models import ParticipantEntry, ParticipantList
from edupilot.programmes.services import ImportReport as ListImportReport
from edupilot.programmes.services import participants_import
from edupilot.programmes.tables import TableInvalid, read_list_rows

from ..certificates import render_certificates_task
from ..models import (
    Batch,
    BatchStandard,
    BatchState,
    Entry,
    EntryState,
    Provisional,
    Standard,
    StandardRole,
)
from ..permissions import (
    BATCH_OWNER_KINDS,
    can_adopt_standard,
    can_create_batch,
    can_import_titles,
    can_manage_batch,
)
from ..workflows import BATCH, ENTRY
from .common import CHUNK, Denied, Refused, advance_audited, check

# --- exempting titles ------------------------------------------------------------------------


def titles_import(
    *,
    plist: ParticipantList,
    content: bytes,
    filename: str,
    replace: bool,
    scope: Scope | None,
    actor: Actor,
) -> ListImportReport:
    """Import the holders of an exempting title (a participant list) from XLSX/CSV.

    The list format and its all-or-nothing import are the programmes app's; afterwards the
    open batches that exempt this title are brought up to date.
    """
    check(can_import_titles(scope, plist))
    batches = list(Batch.objects.filter(exempt_titles=plist).select_related("owner"))
    try:
        rows = read_list_rows(content, filename)
    except TableInvalid as exc:
        raise Refused(str(exc)) from exc
    with transaction.atomic():
        report = participants_import(
            plist=plist,
            rows=rows,
            actor=actor,
            replace=replace,
            source_name=filename,
            source_sha256=hashlib.sha256(content).hexdigest(),
        )
        if report.changed:
            for batch in batches:
                if BATCH.can_leave(batch, "sync"):
                    batch_sync_roster(batch=batch, scope=None, actor=Actor.system())
    return report


# --- batches and roster ---------------------------------------------------------------------


@dataclass
class RosterReport:
    added: int = 0
    exempt: int = 0
    unexempt: int = 0
    total: int = 0


def school_in_scope(stages: Iterable[str], batch_stages: Iterable[str]) -> bool:
    """Primary, secondary and vocational schools; a kindergarten never (杭教办发展〔2023〕146号 一)."""
    wanted = set(batch_stages) - {"kindergarten"}
    return bool(set(stages) & wanted)


def certifiers_under(owner: Org) -> dict[str, Org]:
    """The district bureaus (counties and functional zones) under the batch owner, by code."""
    return {
        o.code: o
        for o in Org.objects.filter(
            subtree_q(owner.path), kind__in=[OrgKind.COUNTY, OrgKind.ZONE]
        ).exclude(pk=owner.pk)
    }


def certifier_for(school: Org, owner: Org, districts: dict[str, Org]) -> Org:
    """The district the school sits under, or the owner for a city-direct school."""
    codes = school.ancestor_codes
    if owner.code in codes:
        codes = codes[codes.index(owner.code) + 1 :]
    for code in codes:
        if code in districts:
            return districts[code]
    return owner


def _check_batch_fields(
    *,
    owner: Org,
    code: str,
    certification_date: dt.date,
    cutoff: dt.date,
    standard: Standard,
    additional: list[Standard],
    stages: list[str],
) -> None:
    if owner.kind not in BATCH_OWNER_KINDS:
        raise Refused(_("认定批次须由教育行政部门设立"))
    if Batch.objects.filter(code=code).exists():
        raise Refused(_("批次代码 %(code)s 已存在") % {"code": code})
    if cutoff > certification_date:
        raise Refused(
            _("数据统计截止日 %(cutoff)s 不能晚于认定时间 %(certification_date)s")
            % {"cutoff": cutoff, "certification_date": certification_date}
        )
    if standard.role != StandardRole.MAIN:
        raise Refused(_("%(standard)s 是附加标准，不能作为认定标准") % {"standard": standard})
    for s in additional:
        if s.role != StandardRole.ADDITIONAL:
            raise Refused(_("%(standard)s 不是附加标准") % {"standard": s})
    if "kindergarten" in stages:
        raise Refused(_("幼儿园不参加智慧校园认定"))
    if not stages:
        raise Refused(_("请至少选择一个认定学段"))


@transaction.atomic
def batch_create(
    *,
    owner: Org,
    code: str,
    name: str,
    certification_date: dt.date,
    cutoff: dt.date,
    standard: Standard,
    additional: Iterable[Standard] = (),
    exempt_titles: Iterable[ParticipantList] = (),
    stages: Iterable[str] | None = None,
    programme=None,
    programme_batch: str = "",
    scope: Scope | None,
    actor: Actor,
) -> Batch:
    check(can_create_batch(scope, owner))
    additional = list(additional)
    stage_list = list(stages or ["primary", "junior", "senior", "vocational"])
    _check_batch_fields(
        owner=owner,
        code=code,
        certification_date=certification_date,
        cutoff=cutoff,
        standard=standard,
        additional=additional,
        stages=stage_list,
    )
    if programme_batch and (
        programme is None or not any(b.code == programme_batch for b in programme.parsed.batches)
    ):
        raise Refused(
            _("通知中没有批次 %(programme_batch)s") % {"programme_batch": programme_batch}
        )
    batch = Batch(
        code=code,
        name=name,
        owner=owner,
        programme=programme,
        programme_batch=programme_batch,
        certification_date=certification_date,
        cutoff=cutoff,
        stages=f",{','.join(stage_list)},",
        standard=standard,
        state=BATCH.initial("create"),
        created_by=actor.user,
    )
    batch.full_clean()
    batch.save()
    batch.additional_standards.set(additional)
    batch.exempt_titles.set(list(exempt_titles))
    audit_record(
        actor=actor,
        action="certification.batch_create",
        obj=batch,
        after={
            "code": code,
            "owner": owner.code,
            "certification_date": certification_date,
            "cutoff": cutoff,
            "standard": standard.code,
            "additional": [s.code for s in additional],
            "stages": stage_list,
            "programme_batch": programme_batch,
        },
    )
    batch_sync_roster(batch=batch, scope=scope, actor=actor)
    return batch


def _exempting_titles(batch: Batch) -> dict[int, int]:
    """school id → the exempting title it holds (the first by code when it holds several)."""
    title_order = list(batch.exempt_titles.order_by("code").values_list("pk", flat=True))
    exempt: dict[int, int] = {}
    for school_id, list_id in ParticipantEntry.objects.filter(plist_id__in=title_order).values_list(
        "org_id", "plist_id"
    ):
        if school_id not in exempt or title_order.index(list_id) < title_order.index(
            exempt[school_id]
        ):
            exempt[school_id] = list_id
    return exempt


@transaction.atomic
def batch_sync_roster(*, batch: Batch, scope: Scope | None, actor: Actor) -> RosterReport:
    """Put every in-scope school of the owner's area in the batch; apply exempting titles.

    Kindergartens never enter. A title holder is certified automatically and kept out of
    the queue, unless the bureau has already decided on it.
    """
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if batch.is_frozen:
        raise Refused(_("本批次数据已冻结，名单不能再变动"))
    check(can_manage_batch(scope, batch))
    BATCH.refuse_unless(batch, "sync")
    owner = batch.owner
    districts = certifiers_under(owner)
    exempt = _exempting_titles(batch)
    existing = {
        e.school_id: e
        for e in Entry.objects.filter(batch=batch).only(
            "id", "school_id", "state", "exempt_title_id", "decision", "stages"
        )
    }
    report = RosterReport()
    new = []
    schools = Org.objects.filter(subtree_q(owner.path), kind=OrgKind.SCHOOL, is_active=True).only(
        "id", "code", "path", "stages"
    )
    for school in schools.iterator(chunk_size=5000):
        if not school_in_scope(school.stage_list, batch.stage_list):
            continue
        report.total += 1
        title = exempt.get(school.pk)
        entry = existing.get(school.pk)
        if entry is None:
            new.append(
                Entry(
                    batch=batch,
                    school_id=school.pk,
                    certifier=certifier_for(school, owner, districts),
                    stages=school.stages,
                    state=ENTRY.initial("enrol_exempt" if title else "enrol"),
                    exempt_title_id=title,
                )
            )
            report.added += 1
            report.exempt += 1 if title else 0
            continue
        if title and not entry.decision and ENTRY.can_leave(entry, "exempt"):
            entry.exempt_title_id = title
            fields = ENTRY.advance(entry, "exempt")
            entry.save(update_fields=[*fields, "exempt_title", "updated_at"])
            report.exempt += 1
        elif not title and ENTRY.can_leave(entry, "unexempt"):
            entry.exempt_title_id = None
            fields = ENTRY.advance(entry, "unexempt")
            entry.save(update_fields=[*fields, "exempt_title", "updated_at"])
            report.unexempt += 1
    Entry.objects.bulk_create(new, batch_size=CHUNK)
    if report.added or report.exempt or report.unexempt:
        audit_record(
            actor=actor,
            action="certification.roster_sync",
            obj=batch,
            after={
                "added": report.added,
                "exempt": report.exempt,
                "unexempt": report.unexempt,
                "total": report.total,
            },
        )
    return report


@transaction.atomic
def batch_adopt_standard(
    *, batch: Batch, certifier: Org, standard: Standard, scope: Scope | None, actor: Actor
) -> BatchStandard:
    """A district certifies its schools against its own standard, derived from the batch's."""
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if scope is not None and scope.org_id != certifier.pk:
        raise Denied(
            _("只有%(certifier)s的项目管理员可以设定本区认定标准") % {"certifier": certifier.name}
        )
    check(can_adopt_standard(scope, batch))
    if batch.is_frozen:
        raise Refused(_("本批次数据已冻结，认定标准不能再变动"))
    BATCH.refuse_unless(batch, "adopt_standard")
    if certifier.pk == batch.owner_id or certifier.pk not in {
        o.pk for o in certifiers_under(batch.owner).values()
    }:
        raise Refused(
            _("%(certifier)s不是本批次的区、县（市）认定单位") % {"certifier": certifier.name}
        )
    if batch.standard not in standard.chain():
        raise Refused(
            _(
                "%(standard)s 不是依据 %(base)s 制定的派生标准；区、县（市）标准须以其为依据（extends），且不低于它"
            )
            % {"standard": standard, "base": batch.standard}
        )
    bs, _created = BatchStandard.objects.update_or_create(
        batch=batch, certifier=certifier, defaults={"standard": standard}
    )
    Entry.objects.filter(batch=batch, certifier=certifier).exclude(
        state__in=[EntryState.EXEMPT, EntryState.FILED]
    ).update(provisional=Provisional.PENDING)
    audit_record(
        actor=actor,
        action="certification.standard_adopt",
        obj=bs,
        after={"batch": batch.code, "certifier": certifier.code, "standard": standard.code},
    )
    return bs


@transaction.atomic
def batch_freeze(*, batch: Batch, scope: Scope | None, actor: Actor) -> Batch:
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    check(can_manage_batch(scope, batch))
    if batch.is_frozen:
        raise Refused(_("本批次数据已冻结"))
    advance_audited(
        batch,
        BATCH,
        "freeze",
        actor=actor,
        action="certification.batch_freeze",
        frozen_at=timezone.now(),
    )
    return batch


@transaction.atomic
def batch_publish(*, batch: Batch, scope: Scope | None, actor: Actor) -> Batch:
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    check(can_manage_batch(scope, batch))
    if batch.state == BatchState.OPEN:
        raise Refused(_("请先冻结本批次数据，再公布认定名单"))
    if batch.state == BatchState.PUBLISHED:
        raise Refused(_("本批次认定名单已公布"))
    advance_audited(
        batch,
        BATCH,
        "publish",
        actor=actor,
        action="certification.batch_publish",
        published_at=timezone.now(),
    )
    # Each certified school's certificate, rendered once in the background (then served).
    transaction.on_commit(lambda: render_certificates_task(batch.pk))
    return batch
