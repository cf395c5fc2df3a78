"""Decisions and filing: a certifier's conclusion per school; a district files all its
conclusions with the batch owner in one step, and the owner may send a filing back."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record
from edupilot.core.notifications import notify
from edupilot.orgs.models import Org
from edupilot.orgs.scoping import Scope

from ..models import Batch, BatchState, Decision, Entry, EntryState, Filing, Provisional, VisitState
from ..permissions import BUREAU_ROLES, can_decide_entry, can_file_results, can_return_filing
from ..workflows import ENTRY
from .assessment import assess_entries
from .common import Denied, Refused, check, filing_link, open_entry


@transaction.atomic
def entry_decide(
    *, entry: Entry, decision: str, opinion: str, scope: Scope | None, actor: Actor
) -> Entry:
    """The certifying bureau's conclusion for one school, with its opinion."""
    entry = (
        Entry.objects.select_for_update()
        .select_related("batch", "school", "certifier")
        .get(pk=entry.pk)
    )
    check(can_decide_entry(scope, entry))
    open_entry(entry)
    ENTRY.refuse_unless(entry, "decide")
    if decision not in Decision.values:
        raise Refused(_("请选择认定结论"))
    if not opinion.strip():
        raise Refused(_("请填写认定意见"))
    if entry.visits.filter(state=VisitState.ASSIGNED).exists():
        raise Refused(_("实地核查尚未完成，请待核查组提交核查结论后再作出认定结论"))
    # Decide on the current data and findings, not on an assessment that may be stale.
    assess_entries(batch=entry.batch, entry_ids=[entry.pk])
    entry.refresh_from_db()
    if decision == Decision.CERTIFIED and entry.gate_reason:
        raise Refused(
            _("%(gate_reason)s。该校不能在本批次认定为智慧校园；可选择“不予认定”或“暂缓认定”")
            % {"gate_reason": entry.gate_reason}
        )
    if decision == Decision.CERTIFIED and entry.provisional != Provisional.PASS:
        raise Refused(
            _("该校评估结果为“%(provisional)s”，不能认定为智慧校园；可选择“不予认定”或“暂缓认定”")
            % {"provisional": entry.get_provisional_display()}
        )
    before = {
        "state": entry.state,
        "decision": entry.decision,
        "opinion": entry.opinion,
        "grade": entry.grade_name,
    }
    fields = ENTRY.advance(entry, "decide")
    entry.decision, entry.opinion = decision, opinion.strip()
    entry.decided_by, entry.decided_at = actor.user, timezone.now()
    # The grade is the one this assessment gives, fixed with the decision.
    certified = decision == Decision.CERTIFIED
    entry.grade_name = (entry.result or {}).get("grade_name", "") if certified else ""
    entry.save(
        update_fields=[
            *fields,
            "decision",
            "opinion",
            "grade_name",
            "decided_by",
            "decided_at",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        action="certification.decide",
        obj=entry,
        before=before,
        after={
            "state": entry.state,
            "decision": decision,
            "opinion": entry.opinion,
            "grade": entry.grade_name,
        },
    )
    return entry


@dataclass(frozen=True)
class BulkOutcome:
    """One school's result in a bulk decision: decided, or refused and why."""

    entry: Entry
    ok: bool
    message: str


def entries_decide_bulk(
    *, entries: list[Entry], decision: str, opinion: str, scope: Scope | None, actor: Actor
) -> list[BulkOutcome]:
    """One conclusion and opinion for several schools, decided one by one.

    Each school goes through ``entry_decide`` in a transaction of its own: the same
    permission predicate, workflow transition, fresh assessment and audit event as a
    decision taken on its page. Per school, not all-or-nothing: a school that may not take
    this conclusion (a failed assessment, an open site visit, another bureau's school) is
    reported with the reason and left as it was; the others are decided.
    """
    if decision not in Decision.values:
        raise Refused(_("请选择认定结论"))
    if not opinion.strip():
        raise Refused(_("请填写认定意见"))
    if not entries:
        raise Refused(_("请先勾选学校"))
    out = []
    for entry in sorted(entries, key=lambda e: e.pk):  # one lock order for concurrent runs
        try:
            entry_decide(entry=entry, decision=decision, opinion=opinion, scope=scope, actor=actor)
        except Refused as exc:  # Denied included: reported per school, like any refusal
            out.append(BulkOutcome(entry, False, exc.message))
        else:
            out.append(BulkOutcome(entry, True, str(Decision(decision).label)))
    return out


def _filing_counts(entries, org: Org) -> dict[str, int]:
    counts = {"total": 0, "queued": 0, "exempt": 0, **dict.fromkeys(Decision.values, 0)}
    for state, decision in entries.values_list("state", "decision"):
        counts["total"] += 1
        if state == EntryState.QUEUED:
            counts["queued"] += 1
        elif state == EntryState.EXEMPT:
            counts["exempt"] += 1
        elif decision:
            counts[decision] += 1
    if counts["total"] == 0:
        raise Refused(_("%(org)s在本批次中没有学校") % {"org": org.name})
    if counts["queued"]:
        raise Refused(
            _("还有 %(queued)s 所学校尚未作出认定结论，请全部作出结论后再报备")
            % {"queued": counts["queued"]}
        )
    return counts


@transaction.atomic
def filing_submit(
    *, batch: Batch, org: Org, note: str, scope: Scope | None, actor: Actor
) -> Filing:
    """A district files all its decisions with the batch owner in one step."""
    batch = Batch.objects.select_for_update().select_related("owner").get(pk=batch.pk)
    check(can_file_results(scope, batch))
    if scope is not None and scope.org_id != org.pk:
        raise Denied(_("只有%(org)s的审核人或项目管理员可以报备") % {"org": org.name})
    if org.pk == batch.owner_id:
        raise Refused(_("市直属学校由市教育局直接认定，无需报备"))
    if Filing.objects.filter(batch=batch, org=org, returned_at__isnull=True).exists():
        raise Refused(_("%(org)s已报备本批次认定结果") % {"org": org.name})
    entries = Entry.objects.select_for_update().filter(batch=batch, certifier=org)
    counts = _filing_counts(entries, org)
    filing = Filing.objects.create(
        batch=batch,
        org=org,
        filed_by=actor.user,
        filed_at=timezone.now(),
        total=counts["total"],
        certified=counts[Decision.CERTIFIED],
        not_certified=counts[Decision.NOT_CERTIFIED],
        deferred=counts[Decision.DEFERRED],
        exempt=counts["exempt"],
        note=note.strip(),
    )
    ENTRY.advance_many(entries, "file", filing=filing, updated_at=timezone.now())
    entries.filter(state=EntryState.EXEMPT).update(filing=filing)
    audit_record(
        actor=actor,
        action="certification.file",
        obj=filing,
        after={
            "batch": batch.code,
            "org": org.code,
            "total": filing.total,
            "certified": filing.certified,
            "not_certified": filing.not_certified,
            "deferred": filing.deferred,
            "exempt": filing.exempt,
        },
    )
    notify(
        orgs=[batch.owner_id],
        roles=BUREAU_ROLES,
        event="certification.filed",
        title=f"{org.name}已报备{batch.name}认定结果",
        body=(
            f"认定 {filing.certified} 所，不予认定 {filing.not_certified} 所，"
            f"暂缓 {filing.deferred} 所，自动认定 {filing.exempt} 所。"
        ),
        link=filing_link(batch),
        exclude_users=[actor.user],
    )
    return filing


@transaction.atomic
def filing_return(*, filing: Filing, reason: str, scope: Scope | None, actor: Actor) -> Filing:
    """The batch owner sends a district's filing back before publication (退回报备).

    The district's filed decisions become editable again; the returned filing stays as
    history, with who returned it, when and why, and the district files anew.
    """
    batch = Batch.objects.select_for_update().select_related("owner").get(pk=filing.batch_id)
    filing = Filing.objects.select_for_update().select_related("org").get(pk=filing.pk)
    check(can_return_filing(scope, batch))
    if filing.returned_at is not None:
        raise Refused(_("%(org)s的这次报备已被退回") % {"org": filing.org.name})
    if batch.state == BatchState.PUBLISHED:
        raise Refused(_("本批次认定结果已公布，不能再退回报备"))
    reason = reason.strip()
    if not reason:
        raise Refused(_("请填写退回理由"))
    now = timezone.now()
    entries = Entry.objects.filter(batch=batch, filing=filing)
    reopened = ENTRY.advance_many(entries, "reopen", filing=None, updated_at=now)
    entries.update(filing=None)  # the exempt schools it listed
    filing.returned_at, filing.returned_by, filing.return_reason = now, actor.user, reason
    filing.save(update_fields=["returned_at", "returned_by", "return_reason"])
    audit_record(
        actor=actor,
        action="certification.filing_return",
        obj=filing,
        before={"state": "filed", "filed_at": filing.filed_at},
        after={"state": "returned", "reason": reason, "reopened": reopened},
    )
    notify(
        orgs=[filing.org_id],
        roles=BUREAU_ROLES,
        event="certification.filing_returned",
        title=f"{batch.owner.name}退回了{filing.org.name}的{batch.name}认定结果报备",
        body=f"退回理由：{reason}。请修改认定结论后重新报备。",
        link=filing_link(batch),
        exclude_users=[actor.user],
    )
    return filing
