"""Writes for applications: one function per transition.

Each function locks the application row, checks permission and state, writes, records an
audit event in the same transaction, and leaves notifications to be sent on commit.
Errors are :class:`ApplicationError` with a Chinese message meant for the screen; when one
is raised nothing has changed.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record, diff
from edupilot.core.errors import Refused
from edupilot.orgs.models import Org, OrgKind, subtree_q
from edupilot.orgs.scoping import Scope
from edupilot.programmes import rules
from edupilot.programmes.chain import review_chain
from edupilot.programmes.models import Programme

from . import formcode, formspec, prefill, selectors, signals
from .files import UploadRejected, blob_store, display_filename
from .locks import lock_application
from .models import (
    EDITABLE_STATES,
    Application,
    ApplicationMember,
    ApplicationVersion,
    AppState,
    Attachment,
)
from .workflows import APPLICATION


class ApplicationError(Refused):
    """A refused application action; ``errors`` name the fields."""


class StaleDraft(ApplicationError):
    """The draft changed in another window since this one was loaded."""


def _fmt(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _lock(application: Application) -> Application:
    return lock_application(application)


def _check_applicant(scope: Scope, application: Application) -> None:
    if not (scope.is_applicant and scope.org_id == application.applicant_org_id):
        raise ApplicationError(_("只有申报单位本身可以修改或提交本申报。"))


def _check_editable(application: Application) -> None:
    if application.state not in EDITABLE_STATES:
        raise ApplicationError(
            _("申报当前状态为“%(state)s”，不能修改。") % {"state": application.get_state_display()}
        )


def edit_deadline(application: Application) -> dt.datetime:
    """Until when the applicant may edit and (re)submit.

    A returned application may be resubmitted until the deadline of the level that returned
    it; otherwise the programme's closing time applies.
    """
    programme = application.programme
    if (
        application.state == AppState.RETURNED
        and application.chain
        and application.current_step is not None
    ):
        step = application.chain[min(application.current_step, len(application.chain) - 1)]
        deadline = programme.level_deadline(application.category, step["level"])
        if deadline is not None:
            return deadline
    return programme.category_closes_at(application.category) or programme.closes_at


def _check_deadline(application: Application, now: dt.datetime) -> None:
    deadline = edit_deadline(application)
    if now > deadline:
        raise ApplicationError(
            _("申报截止时间 %(deadline)s（北京时间）已过，不能再修改或提交。")
            % {"deadline": _fmt(deadline)}
        )
    if now < application.programme.opens_at:
        raise ApplicationError(
            _("申报将于 %(opens)s（北京时间）开始。")
            % {"opens": _fmt(application.programme.opens_at)}
        )


def _lock_for_edit(application: Application, scope: Scope, now: dt.datetime) -> Application:
    """Lock the row, then check: the scope's own org, an editable state, before the deadline."""
    app = _lock(application)
    _check_applicant(scope, app)
    _check_editable(app)
    _check_deadline(app, now)
    return app


@transaction.atomic
def application_start(
    *,
    programme: Programme,
    category_code: str,
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> Application:
    """Open a draft for the scope's org, if the category is open to it; else say why not."""
    now = now or timezone.now()
    if not scope.is_applicant:
        raise ApplicationError(_("只有申报单位账号可以发起申报。"))
    org = scope.org
    category = programme.parsed.category(category_code)
    if category is None:
        raise ApplicationError(_("申报类别不存在。"))
    if not programme.is_open_for(category_code, now):
        closes = programme.category_closes_at(category_code)
        raise ApplicationError(
            _("本类别申报时间为 %(opens)s 至 %(closes)s（北京时间），当前不在申报期内。")
            % {"opens": _fmt(programme.opens_at), "closes": _fmt(closes)}
        )
    existing = Application.objects.filter(
        programme=programme, category=category_code, applicant_org=org
    ).first()
    if existing is not None:
        return existing
    choice = selectors.category_eligibility(programme, category, org)
    if not choice.eligible:
        raise ApplicationError(_("；").join(r.message for r in choice.failures))
    form = programme.parsed.form_for(category)
    try:
        with transaction.atomic():
            application = Application.objects.create(
                programme=programme,
                category=category_code,
                applicant_org=org,
                applicant_path=org.path,
                data=prefill.prefilled(form, org),
                created_by=actor.user,
                state=APPLICATION.initial("start"),
            )
    except IntegrityError:
        return Application.objects.get(
            programme=programme, category=category_code, applicant_org=org
        )
    audit_record(
        actor=actor,
        action="application.start",
        obj=application,
        after={"programme": programme.code, "category": category_code, "org": org.code},
    )
    return application


def _title_from(form, data: dict) -> str:
    f = formspec.title_field(form, data)
    return str(data[f.key])[:300] if f is not None else ""


@transaction.atomic
def application_save_draft(
    *,
    application: Application,
    post,
    scope: Scope,
    actor: Actor,
    revision: int | None = None,
    editor: str = "",
    now: dt.datetime | None = None,
) -> formspec.CleanResult:
    """Save what the applicant typed, valid or not, and report what does not validate yet."""
    now = now or timezone.now()
    app = _lock_for_edit(application, scope, now)
    if (
        revision is not None
        and revision != app.revision
        and not (editor and editor == app.last_editor)
    ):
        raise StaleDraft(
            _(
                "本申报已在其他窗口或由他人修改。您刚才填写的内容显示在下方，尚未保存；"
                "请核对后再保存。"
            )
        )
    category = app.programme.parsed.category(app.category)
    form = app.programme.parsed.form_for(category)
    topics = [t for t in app.programme.parsed.topics if t.code in category.topics]
    result = formspec.clean_post(form, post, topics=topics)
    locked = prefill.locked_values(form, app.applicant_org)
    for key in locked:
        result.errors.pop(key, None)  # what was posted for it is not kept
    new_data = {**app.data, **result.data, **locked}
    topic_field = next((f for f in form.all_fields() if f.type == "topic"), None)
    new_topic = (new_data.get(topic_field.key) or "") if topic_field else ""
    if new_topic and new_topic not in category.topics:
        new_topic = app.topic
    if new_data == app.data and new_topic == app.topic:
        return result
    before, after = diff(app.data, new_data)
    app.data = new_data
    app.topic = new_topic
    app.title = _title_from(form, new_data)
    app.revision += 1
    app.last_editor = editor[:40]
    if APPLICATION.can_leave(app, "edit"):
        APPLICATION.advance(app, "edit")
    app.save(
        update_fields=["data", "topic", "title", "revision", "last_editor", "state", "updated_at"]
    )
    audit_record(actor=actor, action="application.draft_save", obj=app, before=before, after=after)
    application.data, application.revision, application.topic = app.data, app.revision, app.topic
    return result


@transaction.atomic
def application_attach(
    *,
    application: Application,
    field_key: str,
    upload,
    scope: Scope,
    actor: Actor,
    now: dt.datetime | None = None,
) -> Attachment:
    """Store an uploaded file for an attachment field. A rejected file changes nothing."""
    now = now or timezone.now()
    app = _lock_for_edit(application, scope, now)
    category = app.programme.parsed.category(app.category)
    field = app.programme.parsed.form_for(category).field(field_key)
    if field is None or field.type != "attachment":
        raise ApplicationError(_("附件栏目不存在。"))
    current = Attachment.objects.filter(application=app, field_key=field_key, is_current=True)
    replacing = field.max_count == 1 and current.exists()
    if not replacing and current.count() >= field.max_count:
        raise ApplicationError(
            _("“%(field)s”最多 %(max)s 个文件，请先删除一个再上传。")
            % {"field": field.label, "max": field.max_count}
        )
    scan: dict = {}
    on_codes = None
    if field.kind == "stamped_form":
        # The printed form's QR code: this application's current version, or refused.
        def on_codes(codes):
            try:
                scan["check"] = formcode.scan_verdict(app, codes)
            except formcode.ScanRefused as exc:
                raise UploadRejected(str(exc)) from exc

    try:
        blob = blob_store(upload, accept=field.accept, max_mb=field.max_mb, on_codes=on_codes)
    except UploadRejected as exc:
        raise ApplicationError(str(exc), {field_key: [str(exc)]}) from exc
    replaced = []
    if replacing:
        replaced = list(current.values_list("filename", flat=True))
        current.update(is_current=False)
    attachment = Attachment.objects.create(
        application=app,
        field_key=field_key,
        blob=blob,
        filename=display_filename((getattr(upload, "name", "") or "file")[:240], blob.content_type),
        uploaded_by=actor.user,
        scan_check=scan.get("check", ""),
    )
    _new_revision(
        app,
        actor,
        "application.attach",
        before={"field": field_key, "replaced": replaced} if replaced else None,
        after={
            "field": field_key,
            "filename": attachment.filename,
            "sha256": blob.sha256,
            "size": blob.size,
            **({"scan_check": attachment.scan_check} if attachment.scan_check else {}),
        },
    )
    return attachment


def _new_revision(app: Application, actor: Actor, action: str, *, before=None, after=None):
    """The draft's attachments or members changed: a new revision (an editor open on the old
    one is told), audited as ``action``."""
    app.revision += 1
    app.save(update_fields=["revision", "updated_at"])
    audit_record(actor=actor, action=action, obj=app, before=before, after=after)


@transaction.atomic
def application_detach(
    *, application: Application, attachment_id: int, scope: Scope, actor: Actor, now=None
) -> None:
    now = now or timezone.now()
    app = _lock_for_edit(application, scope, now)
    attachment = Attachment.objects.filter(
        application=app, pk=attachment_id, is_current=True
    ).first()
    if attachment is None:
        raise ApplicationError(_("附件不存在或已删除。"))
    attachment.is_current = False
    attachment.save(update_fields=["is_current"])
    _new_revision(
        app,
        actor,
        "application.detach",
        before={
            "field": attachment.field_key,
            "filename": attachment.filename,
            "sha256": attachment.blob.sha256,
        },
    )


def member_candidates(application: Application):
    """Orgs a region bid may name: the kinds and stages its members field allows, in its subtree."""
    category = application.programme.parsed.category(application.category)
    form = application.programme.parsed.form_for(category)
    field = next((f for f in form.all_fields() if f.type == "members"), None)
    if field is None:
        return Org.objects.none(), None
    qs = Org.objects.filter(
        subtree_q(application.applicant_org.path), kind__in=field.kinds, is_active=True
    ).exclude(pk=application.applicant_org_id)
    if field.stages:
        from django.db.models import Q

        stage_q = Q()
        for s in field.stages:
            stage_q |= Q(stages__contains=f",{s},")
        qs = qs.filter(stage_q)
    return qs.order_by("path"), field


@transaction.atomic
def application_set_members(
    *, application: Application, org_ids: list[int], scope: Scope, actor: Actor, now=None
) -> list[Org]:
    """Replace the member list of a region bid with schools from the applicant's subtree."""
    now = now or timezone.now()
    app = _lock_for_edit(application, scope, now)
    candidates, field = member_candidates(app)
    if field is None:
        raise ApplicationError(_("本类别没有成员学校名单。"))
    wanted = set(org_ids)
    allowed = set(candidates.filter(pk__in=wanted).values_list("pk", flat=True))
    outside = wanted - allowed
    if outside:
        raise ApplicationError(_("所选学校不在本单位管辖范围内或不符合条件，未保存。"))
    if field.max_items is not None and len(wanted) > field.max_items:
        raise ApplicationError(
            _("“%(field)s”最多选择 %(max)s 所。") % {"field": field.label, "max": field.max_items}
        )
    current = set(
        ApplicationMember.objects.filter(application=app).values_list("org_id", flat=True)
    )
    if current == wanted:
        return list(Org.objects.filter(pk__in=wanted))
    ApplicationMember.objects.filter(application=app).exclude(org_id__in=wanted).delete()
    ApplicationMember.objects.bulk_create(
        [ApplicationMember(application=app, org_id=i) for i in wanted - current]
    )
    codes = dict(Org.objects.filter(pk__in=current | wanted).values_list("pk", "code"))
    _new_revision(
        app,
        actor,
        "application.members",
        before={"removed": sorted(codes[i] for i in current - wanted)},
        after={"added": sorted(codes[i] for i in wanted - current), "count": len(wanted)},
    )
    return list(Org.objects.filter(pk__in=wanted))


def submission_check(
    application: Application,
) -> tuple[formspec.CleanResult, list[rules.RuleResult]]:
    """Everything that must hold for a submission: complete form, then the submission rules."""
    programme = application.programme
    category = programme.parsed.category(application.category)
    form = programme.parsed.form_for(category)
    topics = [t for t in programme.parsed.topics if t.code in category.topics]
    counts: dict[str, int] = {}
    for key in Attachment.objects.filter(application=application, is_current=True).values_list(
        "field_key", flat=True
    ):
        counts[key] = counts.get(key, 0) + 1
    members = ApplicationMember.objects.filter(application=application).count()
    result = formspec.check_complete(
        form, application.data, topics=topics, attachment_counts=counts, member_count=members
    )
    if category.topics and application.topic not in category.topics:
        topic_field = next((f for f in form.all_fields() if f.type == "topic"), None)
        if topic_field is not None and topic_field.key not in result.errors:
            result.add(topic_field.key, _("请选择“%(field)s”") % {"field": topic_field.label})
    return result, (rule_failures(application) if result.ok else [])


def rule_failures(application: Application) -> list[rules.RuleResult]:
    """The submission rules, eligibility rules and structural checks the application fails
    as it now reads (complete or not)."""
    programme = application.programme
    category = programme.parsed.category(application.category)
    ctx = selectors.rule_context(programme, application.applicant_org, application)
    failed = [r for r in rules.evaluate_all(category.rules, ctx, "submission") if not r.ok]
    # Eligibility may have changed since the draft was opened (e.g. a list was imported).
    failed += [r for r in rules.evaluate_all(category.rules, ctx, "eligibility") if not r.ok]
    failed += selectors.structural_checks(programme, category, application.applicant_org)
    return failed


def _refresh_locked(app: Application) -> None:
    """Put the org's current values in the locked fields (its record may have been corrected
    since the last save); saved with the submission."""
    form = app.programme.parsed.form_for(app.programme.parsed.category(app.category))
    locked = prefill.locked_values(form, app.applicant_org)
    if any(app.data.get(k) != v for k, v in locked.items()):
        app.data = {**app.data, **locked}
        app.title = _title_from(form, app.data)


@transaction.atomic
def application_submit(
    *, application: Application, scope: Scope, actor: Actor, now: dt.datetime | None = None
) -> ApplicationVersion:
    """Freeze the draft into a new version and send it to the first level of its review chain."""
    now = now or timezone.now()
    app = _lock_for_edit(application, scope, now)
    _refresh_locked(app)
    result, failed = submission_check(app)
    if not result.ok:
        raise ApplicationError(
            _("申报表还有未填写完整或不符合要求的内容，请按提示修改后再提交。"), result.errors
        )
    blocking = [r for r in failed if r.severity == "block"]
    if blocking:
        raise ApplicationError(
            _("；").join(r.message for r in blocking),
            {"__rules__": [r.message for r in blocking]},
        )
    category = app.programme.parsed.category(app.category)
    steps = review_chain(category, app.applicant_org, issuer=app.programme.issuer)
    if not steps:
        raise ApplicationError(_("无法确定本申报的审核单位，请联系项目管理员。"))
    attachments = list(
        Attachment.objects.filter(application=app, is_current=True).select_related("blob")
    )
    members = list(
        Org.objects.filter(memberships_in_bids__application=app)
        .order_by("path")
        .values("id", "code", "name")
    )
    state_before = app.state
    app.version += 1
    version = ApplicationVersion.objects.create(
        application=app,
        number=app.version,
        topic=app.topic,
        title=app.title,
        data=app.data,
        members=members,
        attachments=[
            {
                "id": a.pk,
                "field": a.field_key,
                "filename": a.filename,
                "sha256": a.blob.sha256,
                "size": a.blob.size,
                "content_type": a.blob.content_type,
                **({"scan_check": a.scan_check} if a.scan_check else {}),
            }
            for a in attachments
        ],
        submitted_at=now,
        submitted_by=actor.user,
    )
    app.chain = [s.as_json() for s in steps]
    APPLICATION.advance(app, "submit")
    app.current_step = 0
    app.current_org = steps[0].org
    app.submitted_at = now
    app.review_started_at = None
    app.save(
        update_fields=[
            "data",
            "title",
            "version",
            "chain",
            "state",
            "current_step",
            "current_org",
            "submitted_at",
            "review_started_at",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        action="application.submit",
        obj=app,
        before={"state": state_before},
        after={"state": app.state, "version": app.version, "first_reviewer": steps[0].org.code},
    )
    signals.application_submitted.send(
        sender=Application, application=app, version=version, actor=actor
    )
    return version


def can_withdraw(application: Application) -> tuple[bool, str]:
    if application.state != AppState.SUBMITTED:
        return False, _("只有已提交、尚未开始审核的申报可以撤回。")
    if application.current_step not in (0, None) or application.review_started_at is not None:
        return False, _("审核已经开始，不能撤回。")
    return True, ""


@transaction.atomic
def application_withdraw(
    *, application: Application, scope: Scope, actor: Actor, now=None
) -> Application:
    """Take a submitted application back before any review action; it becomes editable again."""
    now = now or timezone.now()
    app = _lock(application)
    _check_applicant(scope, app)
    ok, why = can_withdraw(app)
    if not ok:
        raise ApplicationError(why)
    APPLICATION.advance(app, "withdraw")
    app.current_step = None
    app.current_org = None
    app.save(update_fields=["state", "current_step", "current_org", "updated_at"])
    audit_record(
        actor=actor,
        action="application.withdraw",
        obj=app,
        before={"state": AppState.SUBMITTED},
        after={"state": app.state},
    )
    signals.application_withdrawn.send(sender=Application, application=app, actor=actor)
    return app


def orgs_kind_label(kind: str) -> str:
    return str(dict(OrgKind.choices).get(kind, kind))
