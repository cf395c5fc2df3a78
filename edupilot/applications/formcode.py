"""The code printed on an application form, and the check of a stamped scan against it.

Every printed form carries a QR code (drawn by ``edupilot.documents.forms`` with segno) that
says which application it is, which version, whether it is the draft print, and a digest of
the content it prints, signed so that it cannot be made up::

    EP1:<application id>:<version>:<F|D>:<content digest, 16 hex>:<HMAC, 12 hex>

Upper-case hex and ``:`` keep it in the QR alphanumeric mode (a small code, version 3).

An editable application prints the version its next submission will be (``version + 1``);
a submitted one prints its versions. When the stamped scan is uploaded, the codes read from
it (``pdfcheck`` reads them in its bounded child process) are checked by
:func:`scan_verdict`: this application, its current version, the final print and the same
content: "verified"; no readable code of ours: accepted as "no_code", which reviewers see;
anything else is refused with a message saying what the paper is.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from .models import EDITABLE_STATES, Application, ApplicationVersion

PREFIX = "EP1"
SALT = "edupilot.applications.formcode"
DIGEST_CHARS = 16
MAC_CHARS = 12

VERIFIED = "verified"
NO_CODE = "no_code"


class ScanRefused(ValueError):
    """The scan is of another paper than the one this application needs now (the message)."""


@dataclass(frozen=True)
class FormCode:
    application_id: int
    version: int
    draft: bool
    digest: str

    @property
    def body(self) -> str:
        kind = "D" if self.draft else "F"
        return f"{PREFIX}:{self.application_id}:{self.version}:{kind}:{self.digest}"

    def text(self) -> str:
        return f"{self.body}:{_mac(self.body, settings.SECRET_KEY)}"


def _mac(body: str, secret) -> str:
    return (
        salted_hmac(SALT, body, secret=secret, algorithm="sha256").hexdigest()[:MAC_CHARS].upper()
    )


def _canonical(data: dict) -> dict:
    """What the form prints from ``data``: an empty answer prints as one never given."""
    return {k: v for k, v in (data or {}).items() if v not in (None, "", [], {})}


def content_digest(data: dict, topic: str, member_ids) -> str:
    """sha256 prefix of the filled-in content: answers, topic, member schools (not the files:
    the stamped scan is one of them, and the paper is stamped for what was typed)."""
    payload = json.dumps(
        {"data": _canonical(data), "topic": topic or "", "members": sorted(member_ids)},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:DIGEST_CHARS].upper()


def working_digest(application: Application) -> str:
    members = application.members.values_list("org_id", flat=True)
    return content_digest(application.data, application.topic, list(members))


def version_digest(version: ApplicationVersion) -> str:
    ids = [m.get("id") for m in version.members or [] if m.get("id") is not None]
    return content_digest(version.data, version.topic, ids)


def current_version(application: Application) -> int:
    """The version a stamped scan must be of: the next submission's while editable."""
    editable = application.state in EDITABLE_STATES
    return application.version + 1 if editable else application.version


def form_code(application: Application, *, version: int | None, draft: bool = False) -> FormCode:
    """The code of a print: a submitted ``version``, or (None) the working copy."""
    if version is None:
        return FormCode(
            application.pk, current_version(application), draft, working_digest(application)
        )
    v = ApplicationVersion.objects.get(application=application, number=version)
    return FormCode(application.pk, version, draft, version_digest(v))


def parse_code(text: str) -> FormCode | None:
    """The code in ``text`` if it is one of ours with a valid signature; None if not ours.

    ScanRefused when it looks like ours but its signature does not hold (altered or forged).
    """
    parts = (text or "").strip().split(":")
    if len(parts) != 6 or parts[0] != PREFIX:
        return None
    _prefix, app_id, version, kind, digest, mac = parts
    if not (app_id.isdigit() and version.isdigit() and kind in ("D", "F")) or len(app_id) > 12:
        return None
    body = ":".join(parts[:5])
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if not any(constant_time_compare(mac, _mac(body, s)) for s in secrets):
        raise ScanRefused(
            _(
                "扫描件上的二维码无法通过校验（不是本系统打印的表格，或已被改动）。"
                "请从本系统重新打印申报表，盖章后扫描上传。"
            )
        )
    return FormCode(int(app_id), int(version), kind == "D", digest)


def _other_application(application: Application, other_id: int) -> str:
    """Name the other application only when it is the same unit's (no one else's data)."""
    other = (
        Application.objects.filter(pk=other_id, applicant_org_id=application.applicant_org_id)
        .select_related("programme")
        .first()
    )
    if other is not None:
        return _(
            "这份表格属于本单位的另一份申报（%(programme)s · %(category)s），"
            "不是本申报的表格。请打印本申报的申报表，盖章后扫描上传。"
        ) % {"programme": other.programme.title, "category": other.category_name}
    return _("这份表格属于另一份申报，不是本申报的表格。请打印本申报的申报表，盖章后扫描上传。")


def scan_verdict(application: Application, texts: list[str] | None) -> str:
    """VERIFIED or NO_CODE for the codes read from a stamped scan; ScanRefused otherwise.

    ``texts`` is None when the scan could not be read in time: treated as no code.
    """
    codes = [c for c in (parse_code(t) for t in texts or []) if c is not None]
    if not codes:
        return NO_CODE
    expected = current_version(application)
    for code in codes:
        if code.application_id != application.pk:
            raise ScanRefused(_other_application(application, code.application_id))
        if code.version != expected:
            raise ScanRefused(
                _("这是第%(printed)s版的表格，当前为第%(current)s版，请重新打印并盖章。")
                % {"printed": code.version, "current": expected}
            )
        if code.draft:
            raise ScanRefused(
                _(
                    "这是带“草稿”水印的草稿打印件，不能作为盖章件。"
                    "请打印正式申报表，盖章后扫描上传。"
                )
            )
    digest = working_digest(application) if application.state in EDITABLE_STATES else None
    if digest is None:
        v = ApplicationVersion.objects.filter(application=application, number=expected).first()
        digest = version_digest(v) if v is not None else ""
    if any(code.digest != digest for code in codes):
        raise ScanRefused(
            _(
                "这份第%(version)s版表格打印后，申报内容又有修改，与盖章的纸质表格不一致。"
                "请重新打印并盖章。"
            )
            % {"version": expected}
        )
    return VERIFIED
