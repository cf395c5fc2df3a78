"""Demo applications in several states for every open programme, filled from each form's own
fields, so that the pages and the review queues have something to show."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from functools import cache

import segno
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfWriter

from edupilot.audit.services import Actor
from edupilot.orgs.models import Membership, Org, OrgKind, Role, subtree_q
from edupilot.orgs.scoping import Scope
from edupilot.programmes.models import Programme

from . import formcode, services
from .models import Application

log = logging.getLogger(__name__)

SENTENCE = "学校坚持以教育信息化带动教育现代化，推进信息技术与教育教学深度融合，建设智慧校园，提升师生信息素养。"


def demo_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "demo stamped form"})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


@cache
def _font(size: int):
    """A CJK font for the demo scan's heading (Noto, as the PDFs use); Pillow's own if absent."""
    for path in (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    ):
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def stamped_scan(app: Application) -> bytes:
    """A scan as an applicant would upload it: a page of the printed form with its QR code
    (this application, the version its submission will be, the content as typed) and a red
    stamp, rasterised into a PDF. The upload reads the code, so the demo's reviewers see
    "verified" scans, as they would for a careful school."""
    code = formcode.form_code(app, version=None).text()
    qr = io.BytesIO()
    segno.make(code, error="m", micro=False).save(qr, kind="png", scale=5, border=2)
    page = Image.new("RGB", (827, 1169), "white")  # A4 at 100 dpi
    mark = Image.open(qr).convert("RGB")
    page.paste(mark, (827 - mark.width - 40, 40))
    draw = ImageDraw.Draw(page)
    draw.text((60, 200), f"{app.programme.title}", fill="black", font=_font(22))
    draw.text((60, 250), f"申报单位：{app.applicant_org.name}", fill="black", font=_font(20))
    draw.text((60, 290), f"申报类别：{app.category_name}", fill="black", font=_font(20))
    draw.ellipse((520, 880, 720, 1080), outline=(200, 30, 30), width=6)
    draw.text((560, 965), "（公章）", fill=(200, 30, 30), font=_font(24))
    out = io.BytesIO()
    page.save(out, "PDF", resolution=100.0)
    return out.getvalue()


def _attach_files(app: Application, form, scope: Scope, actor: Actor) -> None:
    """Each required attachment; the stamped form as a scan of the form as it now reads."""
    for f in form.all_fields():
        if f.type == "attachment" and (f.required or f.min_count):
            for i in range(max(1, f.min_count)):
                if f.kind == "stamped_form":
                    name, content = f"{i + 1}.pdf", stamped_scan(app)
                else:
                    name, content = demo_file(f.accept[0], i + 1)
                upload = SimpleUploadedFile(f"{f.label}-{name}", content)
                services.application_attach(
                    application=app, field_key=f.key, upload=upload, scope=scope, actor=actor
                )


def demo_file(kind: str, n: int) -> tuple[str, bytes]:
    """A small real file of ``kind`` (one a form's ``accept`` names), for the demo's uploads."""
    if kind == "pdf":
        return f"{n}.pdf", demo_pdf()
    buf = io.BytesIO()
    if kind in ("jpg", "png"):
        Image.new("RGB", (160, 120), (40 + n * 30 % 200, 120, 160)).save(
            buf, "PNG" if kind == "png" else "JPEG"
        )
        return f"{n}.{kind}", buf.getvalue()
    main, body = {
        "docx": ("word/document.xml", "wordprocessingml.document"),
        "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet"),
        "pptx": ("ppt/presentation.xml", "presentationml.presentation"),
    }[kind]
    ct = f"application/vnd.openxmlformats-officedocument.{body}.main+xml"
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            f'org/package/2006/content-types"><Override PartName="/{main}" ContentType="{ct}"/>'
            "</Types>",
        )
        z.writestr(main, '<?xml version="1.0" encoding="UTF-8"?><demo/>')
    return f"{n}.{kind}", buf.getvalue()


def _value(f, org: Org, topics: list[str]):
    if f.type == "text":
        if f.pattern:
            candidates = [org.postcode, "310012", "https://www.example.edu.cn", "2020", org.name]
            return next((c for c in candidates if c and re.fullmatch(f.pattern, c)), "")
        named = "名称" in f.label or "单位" in f.label
        return org.name if named else f"{f.label}（示例）"[: f.max_length]
    if f.type == "longtext":
        target = f.target_chars or max(f.min_chars or 0, 200)
        n = max(f.min_chars or 0, min(target, (f.max_chars or target)))
        text = SENTENCE * (n // len(SENTENCE) + 2)
        return (
            text[: max(n, f.min_chars or 0) + 10]
            if not f.max_chars
            else text[: min(f.max_chars, n + 10)]
        )
    if f.type == "number":
        low = int(f.min) if f.min is not None else 0
        high = int(f.max) if f.max is not None else low + 1000
        return str(max(low, min(high, 50)))
    if f.type == "choice":
        return [f.options[0].value] if f.multiple else f.options[0].value
    if f.type == "topic":
        return topics[0] if topics else ""
    if f.type == "date":
        return "2026-12-31"
    if f.type == "phone":
        return "13800138000" if f.kind != "landline" else "0371-66329808"
    if f.type == "email":
        return "contact@example.edu.cn"
    if f.type == "bool":
        return "on"
    return ""


def form_post(form, org: Org, topics: list[str]) -> QueryDict:
    q = QueryDict(mutable=True)
    for f in form.all_fields():
        if f.type in ("attachment", "members"):
            continue
        if f.type == "group":
            q[f"f-{f.key}-rows"] = "1"
            for sub in f.fields:
                value = _value(sub, org, topics)
                if isinstance(value, list):
                    q.setlist(f"f-{f.key}-0-{sub.key}", value)
                else:
                    q[f"f-{f.key}-0-{sub.key}"] = value
            continue
        value = _value(f, org, topics)
        if isinstance(value, list):
            q.setlist(f"f-{f.key}", value)
        else:
            q[f"f-{f.key}"] = value
    return q


def _scope_for(org: Org, actor: Actor) -> Scope:
    membership = Membership.objects.filter(org=org, role=Role.APPLICANT).first()
    if membership is not None:
        return Scope.for_membership(membership)
    return Scope.acting_as(org, Role.APPLICANT)


def make_application(
    programme: Programme,
    category_code: str,
    org: Org,
    *,
    submit: bool,
    members: int = 0,
    answers: dict[str, str] | None = None,
) -> Application | None:
    """Start, fill, attach and (optionally) submit one application; None where rules forbid it.
    ``answers``: form fields given instead of the generic filler's (a topic, a number)."""
    membership = (
        Membership.objects.filter(org=org, role=Role.APPLICANT).select_related("user").first()
    )
    actor = Actor(user=membership.user if membership else None, org=org)
    scope = _scope_for(org, actor)
    category = programme.parsed.category(category_code)
    form = programme.parsed.form_for(category)
    try:
        app = services.application_start(
            programme=programme, category_code=category_code, scope=scope, actor=actor
        )
        post = form_post(form, org, category.topics)
        for key, value in (answers or {}).items():
            post[f"f-{key}"] = value
        services.application_save_draft(application=app, post=post, scope=scope, actor=actor)
        if members:
            candidates, _field = services.member_candidates(app)
            urban = list(
                candidates.filter(locality__in=["urban", "town"]).values_list("pk", flat=True)[
                    : members // 2
                ]
            )
            rural = list(
                candidates.filter(locality="rural").values_list("pk", flat=True)[
                    : members - len(urban)
                ]
            )
            services.application_set_members(
                application=app, org_ids=urban + rural, scope=scope, actor=actor
            )
        if submit:
            _fit_choices(app, form, scope, actor)
        app.refresh_from_db()
        _attach_files(app, form, scope, actor)
        if submit:
            services.application_submit(application=app, scope=scope, actor=actor)
        return app
    except services.ApplicationError as exc:
        log.info(
            "demo: %s %s %s not created: %s %s",
            programme.code,
            category_code,
            org.name,
            exc.message,
            exc.errors,
        )
        return None


def _fit_choices(app: Application, form, scope: Scope, actor: Actor) -> None:
    """Pick, field by field, the choice that leaves the fewest submission rules failing.

    The generic filler takes first options; a programme's rules may tie a choice to the
    category (Zhejiang's 类别 box), so try the options the way a careful applicant would.
    """
    # The rules as the draft reads now: the files come after, and the full check reads the
    # rules of a complete form only.
    failed = services.rule_failures(app)
    if not failed:
        return
    for f in form.all_fields():
        if f.type != "choice" or f.multiple:
            continue
        best = (len(failed), app.data.get(f.key))
        for option in f.options:
            q = QueryDict(mutable=True)
            q[f"f-{f.key}"] = option.value
            services.application_save_draft(application=app, post=q, scope=scope, actor=actor)
            app.refresh_from_db()
            failed = services.rule_failures(app)
            if len(failed) < best[0]:
                best = (len(failed), option.value)
            if not failed:
                return
        q = QueryDict(mutable=True)
        q[f"f-{f.key}"] = best[1] or ""
        services.application_save_draft(application=app, post=q, scope=scope, actor=actor)
        app.refresh_from_db()


def _schools(parent_code: str, n: int, **filters) -> list[Org]:
    parent = Org.objects.filter(code=parent_code).first()
    if parent is None:
        return []
    return list(
        Org.objects.filter(
            subtree_q(parent.path), kind=OrgKind.SCHOOL, is_active=True, **filters
        ).order_by("code")[:n]
    )


def load_demo(*, actor: Actor) -> list[Application]:
    made: list[Application | None] = []
    henan = Programme.objects.filter(code="henan-tencent-2019").first()
    if henan is not None:
        for i, school in enumerate(_schools("410100", 14, stages__contains=",primary,")):
            made.append(make_application(henan, "school", school, submit=i % 4 != 3))
        for school in _schools("410181", 3):
            made.append(make_application(henan, "school", school, submit=True))
        county = Org.objects.filter(code="410122").first()
        if county is not None:
            made.append(make_application(henan, "region", county, submit=True, members=10))
    for code, category, parent, n in (
        ("zhejiang-smart-education-2019", "k12", "330106", 6),  # 西湖区: its reviewer acts
        ("quanzhou-smart-campus-2018", "school", "350582", 6),  # 晋江市: its reviewer acts
        ("hengyang-informatization-pilots-2018", "unit", "430400", 4),
    ):
        programme = Programme.objects.filter(code=code).first()
        if programme is None or programme.parsed.category(category) is None:
            continue
        # Schools that teach (a kindergarten is outside these categories' 学段).
        for i, school in enumerate(_schools(parent, n, stages__contains=",primary,")):
            made.append(make_application(programme, category, school, submit=i != 0))
    zhejiang = Programme.objects.filter(code="zhejiang-smart-education-2019").first()
    if zhejiang is not None and zhejiang.parsed.category("higher_ed") is not None:
        for uni in Org.objects.filter(kind=OrgKind.UNIVERSITY, parent__code="330000").order_by(
            "code"
        )[:3]:
            made.append(make_application(zhejiang, "higher_ed", uni, submit=True))
    return [a for a in made if a is not None]
