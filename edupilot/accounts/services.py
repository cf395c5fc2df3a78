import datetime as dt
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record
from edupilot.core.errors import Refused
from edupilot.core.notifications import notify
from edupilot.orgs import permissions as org_permissions
from edupilot.orgs.models import Membership, Org, OrgKind, Role, Tier, subtree_q
from edupilot.orgs.scoping import Scope

from . import permissions
from .credentials import Credential
from .models import AdminAccountRequest, AdminRequestState, PasswordHandover, User
from .passwords import hash_many, hash_one_time, one_time_password
from .workflows import ADMIN_REQUEST

SHANGHAI = ZoneInfo("Asia/Shanghai")


@transaction.atomic
def user_change_password(*, user: User, new_password: str, actor: Actor) -> User:
    """Set ``user``'s own password.

    Replacing a one-time password from a reset does not end the handover period: whoever held
    that password (the owner, or the upper org that reset it) chose the new one. The next
    change, from a password the account chose itself, is the owner's and ends it.
    """
    user.set_password(new_password)
    was_forced = user.must_change_password
    handed_down = user.handed_down_at is not None
    ends_handover = handed_down and not was_forced
    user.must_change_password = False
    fields = ["password", "must_change_password"]
    if ends_handover:
        user.handed_down_at = None
        fields.append("handed_down_at")
        PasswordHandover.objects.filter(user=user, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
    user.save(update_fields=fields)
    audit_record(
        actor=actor,
        action="user.password_change",
        obj=user,
        before={"must_change_password": was_forced, "handed_down": handed_down},
        after={"must_change_password": False, "handed_down": handed_down and not ends_handover},
    )
    return user


# --- provisioning -----------------------------------------------------------------------------

# The page opens at most this many accounts per request: hashing takes about 5 ms each on
# two cores, so a request stays well under a minute; the command has no limit.
PAGE_PROVISION_LIMIT = 3000
APPLICANT_KINDS = (OrgKind.SCHOOL, OrgKind.UNIVERSITY, OrgKind.UNIT)


def orgs_without_applicant(root: Org, kinds=APPLICANT_KINDS):
    """Active units of ``root``'s subtree (``root`` included) with no active applicant account."""
    has_account = Membership.objects.filter(
        org=OuterRef("pk"), role=Role.APPLICANT, is_active=True, user__is_active=True
    )
    return (
        Org.objects.filter(subtree_q(root.path), kind__in=list(kinds), is_active=True)
        .exclude(Exists(has_account))
        .select_related("parent")
        .order_by("path")
    )


def unused_applicant_users(root: Org, kinds=APPLICANT_KINDS):
    """Applicant accounts of the subtree whose one-time password was never used."""
    return (
        User.objects.filter(
            subtree_q(root.path, "memberships__org__path"),
            memberships__org__kind__in=list(kinds),
            memberships__role=Role.APPLICANT,
            memberships__is_active=True,
            last_login__isnull=True,
            must_change_password=True,
            is_active=True,
        )
        .distinct()
        .prefetch_related("memberships__org__parent")
        .order_by("username")
    )


def _free_usernames(wanted: list[str]) -> list[str]:
    """School codes as usernames; a code already taken gets "-2", "-3", ... ."""
    taken: set[str] = set()
    for i in range(0, len(wanted), 900):
        taken.update(
            User.objects.filter(username__in=wanted[i : i + 900]).values_list("username", flat=True)
        )
    out: list[str] = []
    used: set[str] = set()
    for w in wanted:
        name, n = w, 1
        # Collisions are rare (a code reused after an account was closed): look them up singly.
        while (
            name in taken or name in used or (n > 1 and User.objects.filter(username=name).exists())
        ):
            n += 1
            name = f"{w}-{n}"
        used.add(name)
        out.append(name)
    return out


def accounts_provision(
    *,
    root: Org,
    actor: Actor,
    scope: Scope | None = None,
    kinds=APPLICANT_KINDS,
    limit: int | None = None,
    reissue_unused: bool = False,
) -> list[Credential]:
    """Open an applicant account for every unit of ``root``'s subtree that has none.

    Username: the unit's code; password: a one-time password the user must change at first
    login. ``reissue_unused`` also gives fresh one-time passwords to the subtree's applicant
    accounts that were never used (a lost credential list). Returns the plaintext
    credentials, which the caller shows once and does not store.
    """
    allowed, reason = org_permissions.can_provision(scope, root)
    if not allowed:
        raise PermissionDenied(reason)
    candidates = orgs_without_applicant(root, kinds)
    targets = list(candidates[:limit] if limit else candidates)
    usernames = _free_usernames([o.code for o in targets])
    passwords = [one_time_password() for _ in targets]
    reissue: list[User] = []
    if reissue_unused:
        reissue = [
            u
            for u in unused_applicant_users(root, kinds)
            if org_permissions.can_reset_password(scope, u)[0]
        ]
        if limit:
            reissue = reissue[: max(0, limit - len(targets))]
    reissue_passwords = [one_time_password() for _ in reissue]
    # Hash before the transaction: the write lock is then held for milliseconds, not minutes.
    hashes = hash_many(passwords + reissue_passwords)
    out: list[Credential] = []
    with transaction.atomic():
        # Lock the units, then re-check: two bureaus provisioning overlapping subtrees at
        # once must not give one school two accounts.
        ids = [o.pk for o in targets]
        locked = set()
        for i in range(0, len(ids), 900):
            locked.update(
                orgs_without_applicant(root, kinds)
                .filter(pk__in=ids[i : i + 900])
                .select_for_update(of=("self",))
                .values_list("pk", flat=True)
            )
        users = []
        pending = []
        for org, username, password, hashed in zip(
            targets, usernames, passwords, hashes[: len(targets)], strict=True
        ):
            if org.pk not in locked:
                continue
            users.append(
                User(
                    username=username,
                    password=hashed,
                    full_name=org.name[:60],
                    must_change_password=True,
                )
            )
            pending.append((org, username, password))
        created = User.objects.bulk_create(users, batch_size=500)
        by_name = {u.username: u for u in created}
        if any(u.pk is None for u in created):
            by_name = {
                u.username: u
                for u in User.objects.filter(username__in=[u.username for u in created])
            }
        Membership.objects.bulk_create(
            [Membership(user=by_name[un], org=org, role=Role.APPLICANT) for org, un, _ in pending],
            batch_size=500,
        )
        role = str(Role.APPLICANT.label)
        for org, username, password in pending:
            out.append(Credential.at(org, username=username, password=password, role=role))
        now = timezone.now()
        for user, password, hashed in zip(
            reissue, reissue_passwords, hashes[len(targets) :], strict=True
        ):
            user.password = hashed
            m = next(m for m in user.memberships.all() if m.role == Role.APPLICANT)
            out.append(Credential.at(m.org, username=user.username, password=password, role=role))
        if reissue:
            User.objects.bulk_update(reissue, ["password"], batch_size=500)
        if not out:
            return out
        audit_record(
            actor=actor,
            action="accounts.provision",
            obj=root,
            after={
                "created": len(pending),
                "reissued": len(reissue),
                "kinds": [str(k) for k in kinds],
                "usernames": [c.username for c in out][:AUDIT_NAME_LIMIT],
                "at": now,
            },
        )
    return out


AUDIT_NAME_LIMIT = 500


@transaction.atomic
def user_reset_password(
    *, user: User, actor: Actor, scope: Scope | None = None, reason: str = ""
) -> Credential:
    """Give ``user`` a new one-time password (and lift a login lockout); audited.

    Never silent: a person must give a reason, the owner is told in the app and by e-mail,
    and the account is "handed down" until its owner sets a password of its own (see
    ``user_change_password``). The caller re-authenticated the person beforehand.
    """
    reason = " ".join((reason or "").split())
    if _user_of(actor) is not None and not reason:
        raise Refused(_("重置他人密码须填写理由。"), errors={"reason": [_("请填写重置理由。")]})
    user = (
        User.objects.select_for_update(of=("self",))
        .prefetch_related("memberships__org__parent")
        .get(pk=user.pk)
    )
    allowed, why = org_permissions.can_reset_password(scope, user)
    if not allowed:
        raise PermissionDenied(why)
    now = timezone.now()
    password = one_time_password()
    user.password = hash_one_time(password)
    user.must_change_password = True
    user.handed_down_at = now
    user.ever_handed_down = True
    user.save(
        update_fields=["password", "must_change_password", "handed_down_at", "ever_handed_down"]
    )
    PasswordHandover.objects.filter(user=user, ended_at__isnull=True).update(ended_at=now)
    PasswordHandover.objects.create(
        user=user,
        reset_by=_user_of(actor),
        reset_by_org=actor.org if getattr(actor.org, "pk", None) else None,
        reason=reason or "—",
        started_at=now,
    )
    _lift_lockout(user.username)
    audit_record(
        actor=actor,
        action="user.password_reset",
        obj=user,
        after={"must_change_password": True, "username": user.username, "reason": reason},
    )
    _notify_reset(user, actor, reason, now)
    m = next(iter(user.memberships.all()), None)
    if m is None:
        return Credential("", "", "", username=user.username, password=password, role="")
    return Credential.at(
        m.org, username=user.username, password=password, role=str(m.get_role_display())
    )


def _notify_reset(user: User, actor: Actor, reason: str, when: dt.datetime) -> None:
    who = actor.name if _user_of(actor) is None else actor.user.display_name
    if getattr(actor.org, "pk", None):
        who = f"{actor.org.name} {who}"
    local = timezone.localtime(when, SHANGHAI)
    notify(
        users=[user],
        event="user.password_reset",
        title=f"您的账号 {user.username} 的密码已被{who}重置",
        body=(
            f"{who}于 {local:%Y年%m月%d日 %H:%M}（北京时间）重置了您的账号 {user.username} 的密码，"
            f"并取得了一次性初始密码。理由：{reason or '—'}\n"
            "在您本人设置自己的密码之前，用该账号所做的操作都会标注为“代设密码期间”。"
            "如果您收到了初始密码，请登录后修改密码；用初始密码登录后须先修改一次，"
            "之后请再修改一次为只有您本人知道的密码，代设密码期间即告结束。"
            "如果这次重置不是您所知道的，请立即联系上级部门。"
        ),
        link=reverse("accounts:password_change"),
    )


def _lift_lockout(username: str) -> None:
    from axes.utils import reset

    reset(username=username)


# --- admin account requests (Henan, attachment 2) ------------------------------------------


class AdminRequestRefused(ValueError):
    """The request cannot be made or decided; the message says why, in Chinese."""


def admin_request_deadline(programme) -> dt.datetime | None:
    spec = programme.parsed.admin_account_requests
    return programme.shift(spec.deadline_at) if spec else None


def admin_request_check(programme, org: Org, *, now: dt.datetime | None = None) -> None:
    """Raise AdminRequestRefused unless ``org`` may ask ``programme``'s issuer now."""
    spec = programme.parsed.admin_account_requests
    if spec is None or not programme.is_active:
        raise AdminRequestRefused(
            _("项目“%(programme)s”不受理项目管理员账号申请。") % {"programme": programme.title}
        )
    if not org.is_within(programme.issuer) or org.pk == programme.issuer_id:
        raise AdminRequestRefused(
            _("%(org)s不在发文单位%(issuer)s的管辖范围内。")
            % {"org": org.name, "issuer": programme.issuer.name}
        )
    if org.tier not in spec.tiers:
        allowed = _("、").join(str(Tier(t).label) for t in spec.tiers)
        raise AdminRequestRefused(
            _("该项目只受理%(tiers)s单位的管理员账号申请，%(org)s不在其列。")
            % {"tiers": allowed, "org": org.name}
        )
    deadline = admin_request_deadline(programme)
    now = now or timezone.now()
    if now > deadline:
        local = timezone.localtime(deadline, SHANGHAI)
        raise AdminRequestRefused(
            _("已超过项目管理员账号申请截止时间（%(deadline)s，北京时间），不能再提交申请。")
            % {"deadline": dateformat.format(local, _("Y年m月d日 H:i"))}
        )


@transaction.atomic
def admin_request_submit(
    *,
    programme,
    org: Org,
    full_name: str,
    gender: str,
    unit: str,
    position: str,
    phone: str,
    wechat: str = "",
    actor: Actor,
    scope: Scope | None = None,
    now: dt.datetime | None = None,
) -> AdminAccountRequest:
    allowed, reason = permissions.can_request_admin_account(scope, org)
    if not allowed:
        raise PermissionDenied(reason)
    admin_request_check(programme, org, now=now)
    if AdminAccountRequest.objects.filter(
        programme=programme, org=org, phone=phone, state=AdminRequestState.PENDING
    ).exists():
        raise AdminRequestRefused(
            _("手机号码 %(phone)s 的申请已提交，正在等待审批。") % {"phone": phone}
        )
    req = AdminAccountRequest(
        programme=programme,
        org=org,
        state=ADMIN_REQUEST.initial("submit"),
        full_name=full_name,
        gender=gender,
        unit=unit,
        position=position,
        phone=phone,
        wechat=wechat,
        requested_by=_user_of(actor),
    )
    req.full_clean()
    req.save()
    notify(
        orgs=[programme.issuer],
        roles=[Role.PROGRAMME_ADMIN],
        event="admin_request.submitted",
        title=f"{org.name}申请开通项目管理员账号（{full_name}）",
        body=f"项目：{programme.title}\n姓名：{full_name}　职务：{position}　手机：{phone}",
        link=reverse("accounts:admin_request", args=[req.pk]),
        exclude_users=[req.requested_by] if req.requested_by else (),
    )
    audit_record(
        actor=actor,
        action="admin_request.submit",
        obj=req,
        after={
            "programme": programme.code,
            "org": org.code,
            "full_name": full_name,
            "gender": gender,
            "unit": unit,
            "position": position,
            "phone": phone,
            "wechat": wechat,
        },
    )
    return req


def _lock_pending(request: AdminAccountRequest, scope: Scope | None) -> AdminAccountRequest:
    req = (
        AdminAccountRequest.objects.select_for_update(of=("self",))
        .select_related("programme", "org")
        .get(pk=request.pk)
    )
    allowed, reason = permissions.can_decide_admin_request(scope, req)
    if not allowed:
        raise PermissionDenied(reason)
    if req.state != AdminRequestState.PENDING:
        raise AdminRequestRefused(
            _("该申请已%(state)s，不能重复审批。") % {"state": req.get_state_display()}
        )
    return req


def _user_of(actor: Actor) -> User | None:
    """The account behind ``actor``, if it is one (not the system or an anonymous user)."""
    return actor.user if getattr(actor.user, "pk", None) else None


def _decide(
    req: AdminAccountRequest, transition: str, actor: Actor, *, body: str, after: dict, **fields
) -> None:
    """Move a pending request on by ``transition``, noting who decided, when and ``fields``;
    tell the requester (``body``) and audit (``after``)."""
    ADMIN_REQUEST.advance(req, transition)
    for name, value in fields.items():
        setattr(req, name, value)
    req.decided_by = _user_of(actor)
    req.decided_at = timezone.now()
    req.save(update_fields=["state", *fields, "decided_by", "decided_at"])
    _notify_decision(req, body)
    audit_record(
        actor=actor,
        action=f"admin_request.{transition}",
        obj=req,
        before={"state": AdminRequestState.PENDING},
        after={"state": req.state, **after},
    )


def _notify_decision(req: AdminAccountRequest, body: str) -> None:
    notify(
        users=[req.requested_by] if req.requested_by_id else (),
        orgs=[req.org],
        roles=[Role.REVIEWER, Role.PROGRAMME_ADMIN],
        event=f"admin_request.{req.state}",
        title=f"项目管理员账号申请{req.get_state_display()}：{req.full_name}",
        body=body,
        link=reverse("accounts:admin_request", args=[req.pk]),
        exclude_users=[req.user_id] if req.user_id else (),
    )


@transaction.atomic
def admin_request_approve(
    *, request: AdminAccountRequest, actor: Actor, scope: Scope | None = None
) -> Credential:
    """Create the programme admin's account (one-time password) at the requesting org."""
    req = _lock_pending(request, scope)
    username = _free_usernames([f"{req.org.code}-admin"])[0]
    password = one_time_password()
    user = User.objects.create(
        username=username,
        password=hash_one_time(password),
        full_name=req.full_name,
        phone=req.phone,
        must_change_password=True,
    )
    Membership.objects.create(user=user, org=req.org, role=Role.PROGRAMME_ADMIN)
    _decide(
        req,
        "approve",
        actor,
        body=f"您单位申请的项目管理员账号（{req.full_name}）已开通，用户名 {username}；"
        "初始密码由发文单位另行告知，首次登录须修改密码。",
        after={"username": username, "org": req.org.code},
        user=user,
    )
    return Credential.at(
        req.org,
        name=f"{req.org.name}（{req.full_name}）",
        username=username,
        password=password,
        role=str(Role.PROGRAMME_ADMIN.label),
    )


@transaction.atomic
def admin_request_reject(
    *, request: AdminAccountRequest, reason: str, actor: Actor, scope: Scope | None = None
) -> AdminAccountRequest:
    reason = (reason or "").strip()
    if not reason:
        raise AdminRequestRefused(_("不予开通时须填写理由。"))
    req = _lock_pending(request, scope)
    _decide(
        req,
        "reject",
        actor,
        body=f"您单位为{req.full_name}申请的项目管理员账号未予开通。理由：{reason}",
        after={"reason": reason},
        decision_reason=reason,
    )
    return req
