"""Credential sheets: one-time passwords shown once, then gone.

``sheet_create`` encrypts the list (Fernet: AES-128-CBC + HMAC-SHA256) with a fresh key and
returns that key to the caller, which hands it to the creator's browser in an HttpOnly,
SameSite=Strict cookie limited to the sheet's URL; the server keeps only the ciphertext.
Reading needs both: the row (server) and the key (that browser). The ciphertext is erased
when the creator destroys the sheet, and at the latest when it expires
(``EDUPILOT_CREDENTIAL_SHEET_MINUTES``, default 30), by the next read or write of any sheet
and by a periodic task.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from edupilot.audit.services import Actor, audit_record

from .models import CredentialPurpose, CredentialSheet

COOKIE_NAME = "edupilot_sheet"


def sheet_ttl() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "EDUPILOT_CREDENTIAL_SHEET_MINUTES", 30)))


@dataclass(frozen=True)
class Credential:
    org_code: str
    org_name: str
    parent_name: str
    username: str
    password: str
    role: str

    @classmethod
    def at(cls, org, *, username: str, password: str, role: str, name: str = "") -> Credential:
        """The credential of an account at ``org`` (``name``: how the sheet names the org)."""
        return cls(
            org_code=org.code,
            org_name=name or org.name,
            parent_name=org.parent.name if org.parent_id else "",
            username=username,
            password=password,
            role=role,
        )


class SheetUnavailable(Exception):
    """The sheet is gone (destroyed, expired) or cannot be read from this browser."""


def credential_sheets_purge(now: dt.datetime | None = None) -> int:
    """Erase the ciphertext of every expired sheet; returns how many were erased."""
    now = now or timezone.now()
    return CredentialSheet.objects.filter(expires_at__lte=now, ciphertext__isnull=False).update(
        ciphertext=None, destroyed_at=now
    )


def sheet_create(
    *, entries: list[Credential], created_by, org=None, purpose: str
) -> tuple[CredentialSheet, str]:
    """Store ``entries`` encrypted; returns the sheet and the key (which the server forgets)."""
    credential_sheets_purge()
    key = Fernet.generate_key()
    payload = json.dumps([asdict(e) for e in entries], ensure_ascii=False).encode()
    sheet = CredentialSheet.objects.create(
        created_by=created_by,
        org=org,
        purpose=purpose,
        count=len(entries),
        ciphertext=Fernet(key).encrypt(payload),
        expires_at=timezone.now() + sheet_ttl(),
    )
    return sheet, key.decode()


def sheet_open(*, sheet_id, user, key: str | None) -> tuple[CredentialSheet, list[Credential]]:
    credential_sheets_purge()
    sheet = CredentialSheet.objects.filter(pk=sheet_id, created_by=user).first()
    if sheet is None:
        raise LookupError
    once = sheet.purpose == CredentialPurpose.RESET
    if sheet.ciphertext is None:
        if once and sheet.downloaded_at is not None:
            raise SheetUnavailable(
                _(
                    "重置密码单只显示一次，已经打开过，服务器上不再保留该密码。"
                    "如未记下，只能再次重置（须重新填写理由，账号本人会再次收到通知）。"
                )
            )
        raise SheetUnavailable(
            _("该初始密码单已销毁或已过期。如仍需要，请重新为尚未登录的账号生成初始密码。")
        )
    if not key:
        raise SheetUnavailable(_("初始密码单只能在生成它的浏览器中查看。"))
    try:
        data = Fernet(key.encode()).decrypt(bytes(sheet.ciphertext))
    except (InvalidToken, ValueError) as exc:
        raise SheetUnavailable(_("初始密码单只能在生成它的浏览器中查看。")) from exc
    if once:
        # A reset hands over one account's password: it opens once, then the server forgets
        # it. The conditional update lets only one of two simultaneous opens through.
        now = timezone.now()
        opened = CredentialSheet.objects.filter(pk=sheet.pk, ciphertext__isnull=False).update(
            ciphertext=None, downloaded_at=now, destroyed_at=now
        )
        if not opened:
            raise SheetUnavailable(_("重置密码单只显示一次，已经打开过，服务器上不再保留该密码。"))
        sheet.ciphertext, sheet.downloaded_at, sheet.destroyed_at = None, now, now
    return sheet, [Credential(**e) for e in json.loads(data)]


def sheet_mark_downloaded(sheet: CredentialSheet) -> None:
    if sheet.downloaded_at is None:
        CredentialSheet.objects.filter(pk=sheet.pk).update(downloaded_at=timezone.now())


@transaction.atomic
def sheet_destroy(*, sheet_id, user, actor: Actor) -> bool:
    sheet = CredentialSheet.objects.select_for_update().filter(pk=sheet_id, created_by=user).first()
    if sheet is None:
        raise LookupError
    if sheet.ciphertext is None:
        return False
    sheet.ciphertext = None
    sheet.destroyed_at = timezone.now()
    sheet.save(update_fields=["ciphertext", "destroyed_at"])
    audit_record(
        actor=actor,
        action="credentials.destroy",
        obj=sheet,
        after={"count": sheet.count, "purpose": sheet.purpose},
    )
    return True


def credentials_xlsx(entries: list[Credential], *, login_url: str, title: str) -> bytes:
    import io

    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet("初始密码")
    bold = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})
    cell = wb.add_format({"border": 1})
    mono = wb.add_format({"border": 1, "font_name": "Consolas"})
    ws.write(0, 0, title, bold)
    ws.write(1, 0, f"登录地址：{login_url}　首次登录须修改密码；本表请妥善保管，分发后销毁。")
    headers = ["序号", "单位名称", "单位代码", "上级", "用户名", "初始密码"]
    widths = [6, 36, 16, 18, 18, 18]
    for i, (h, w) in enumerate(zip(headers, widths, strict=True)):
        ws.write(3, i, h, head)
        ws.set_column(i, i, w)
    for n, e in enumerate(entries, start=1):
        r = 3 + n
        ws.write_number(r, 0, n, cell)
        ws.write_string(r, 1, e.org_name, cell)
        ws.write_string(r, 2, e.org_code, cell)
        ws.write_string(r, 3, e.parent_name, cell)
        ws.write_string(r, 4, e.username, mono)
        ws.write_string(r, 5, e.password, mono)
    ws.freeze_panes(4, 0)
    ws.repeat_rows(3)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    wb.close()
    return out.getvalue()
