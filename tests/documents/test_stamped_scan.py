"""The stamped-form loop: a printed form carries a QR code; its stamped scan is checked on upload.

The scan is made as a scanner would: the rendered form rasterised by pdfium, turned by a
couple of degrees and speckled with Pillow, and wrapped back into a PDF of JPEG pages. It is
uploaded through the applicant's real edit page; the server reads the code in its bounded
inspection child (pdfcheck) and checks it against the application (applications.formcode).
"""

from __future__ import annotations

import io
import random

import pypdfium2 as pdfium
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageDraw

from edupilot.applications import services as app_services
from edupilot.applications.formcode import FormCode, ScanRefused, parse_code
from edupilot.applications.models import Attachment, ScanCheck
from edupilot.applications.pdfcheck import inspect_scan
from edupilot.documents import pdf
from tests.conftest import org
from tests.review.conftest import valid_post

from .test_notice_support import body, load, login, pdf_text, reviewer, school_in, squeeze

pytestmark = pytest.mark.django_db


@pytest.fixture
def henan(seeded):
    return load("henan-tencent-smart-campus-2019.toml")


def scanned(data: bytes, *, degrees: float = 2.5, blank_code: bool = False, dpi: int = 150):
    """The PDF as a scanner returns it: pages as slightly turned, speckled JPEG pictures."""
    rng = random.Random(7)
    pages = []
    doc = pdfium.PdfDocument(data)
    for page in doc:
        image = page.render(scale=dpi / 72).to_pil().convert("L")
        if blank_code:
            # Nothing readable where the code was (cut off, or a form from elsewhere).
            ImageDraw.Draw(image).rectangle((0, 0, image.width, int(image.height * 0.12)), 255)
        draw = ImageDraw.Draw(image)
        for _ in range(image.width * image.height // 400):
            x, y = rng.randrange(image.width), rng.randrange(image.height)
            draw.point((x, y), fill=rng.choice((0, 90, 200)))
        pages.append(image.rotate(degrees, expand=True, fillcolor=255, resample=Image.BICUBIC))
    doc.close()
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=pages[1:], quality=80)
    return out.getvalue()


def form_pdf(client, app, **params) -> bytes:
    url = reverse("documents:application_form", args=[app.pk])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    response = client.get(url)
    assert response.status_code == 200
    return body(response)


def start_draft(henan, name, parent="金水区"):
    school = school_in(org(parent), name=name)
    app = app_services.application_start(
        programme=henan, category_code="school", scope=school.scope, actor=school.actor
    )
    post = valid_post(henan, "school", school_name=name)
    app_services.application_save_draft(
        application=app, post=post, scope=school.scope, actor=school.actor
    )
    app.refresh_from_db()
    return school, app, post


def upload_scan(client, app, post, content: bytes):
    """The applicant's edit page, saving the same draft with the scan attached."""
    data = {k: post.getlist(k) for k in post}
    data.update(revision=str(app.revision), action="save")
    data["a-form_scan"] = SimpleUploadedFile("盖章申请表.pdf", content, "application/pdf")
    return client.post(reverse("applications:edit", args=[app.pk]), data)


def errors_of(response) -> str:
    return response.content.decode()


def test_the_printed_code_names_application_version_and_content(client, henan):
    school, app, _ = start_draft(henan, "郑州市金水区码一小")
    login(client, school)
    final = form_pdf(client, app)
    pages, codes = inspect_scan(_write(final))
    code = parse_code(codes[0])
    assert (code.application_id, code.version, code.draft) == (app.pk, 1, False)
    assert "第1版（尚未提交，盖章后扫描上传）" in squeeze(pdf_text(final))
    draft = form_pdf(client, app, draft=1)
    _, codes = inspect_scan(_write(draft))
    assert parse_code(codes[0]).draft
    assert "草稿" in pdf_text(draft) and "草稿（尚未提交）" in squeeze(pdf_text(draft))


def test_a_code_is_signed_so_it_cannot_be_altered_or_made_up(settings):
    text = FormCode(12, 2, False, "0123456789ABCDEF").text()
    assert parse_code(text) == FormCode(12, 2, False, "0123456789ABCDEF")
    with pytest.raises(ScanRefused, match="无法通过校验"):
        parse_code(text.replace(":12:2:", ":12:3:"))
    assert parse_code("https://example.com/other-qr") is None  # not ours: as no code
    # Paper printed before a key rotation still checks against the old key.
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "another-key-" + "x" * 40
    assert parse_code(text) is not None


def _write(data: bytes) -> str:
    import tempfile

    fh = tempfile.NamedTemporaryFile(suffix=".pdf", delete=False)  # noqa: SIM115
    fh.write(data)
    fh.close()
    return fh.name


def test_a_stamped_scan_of_the_current_form_is_accepted_and_verified(client, henan):
    school, app, post = start_draft(henan, "郑州市金水区码二小")
    login(client, school)
    response = upload_scan(client, app, post, scanned(form_pdf(client, app)))
    assert response.status_code == 302, errors_of(response)
    attachment = Attachment.objects.get(application=app, field_key="form_scan", is_current=True)
    assert attachment.scan_check == ScanCheck.VERIFIED
    page = client.get(reverse("applications:edit", args=[app.pk])).content.decode()
    assert "已核验" in page
    form_url = reverse("documents:application_form", args=[app.pk])
    assert f'href="{form_url}"' in page and f'href="{form_url}?draft=1"' in page
    # Submitted: the version keeps what the check said.
    app.refresh_from_db()
    version = app_services.application_submit(
        application=app, scope=school.scope, actor=school.actor
    )
    assert version.attachments[0]["scan_check"] == "verified"
    page = client.get(reverse("applications:version", args=[app.pk, 1])).content.decode()
    assert "二维码已核验" in page


def test_a_scan_of_an_older_version_is_refused_saying_which(client, henan):
    school, app, post = start_draft(henan, "郑州市金水区码三小")
    login(client, school)
    upload_scan(client, app, post, scanned(form_pdf(client, app)))
    app.refresh_from_db()
    app_services.application_submit(application=app, scope=school.scope, actor=school.actor)
    first = form_pdf(client, app, version=1)
    app_services.application_withdraw(application=app, scope=school.scope, actor=school.actor)
    app.refresh_from_db()
    before = Attachment.objects.filter(application=app).count()
    response = upload_scan(client, app, post, scanned(first))
    assert "这是第1版的表格，当前为第2版，请重新打印并盖章" in errors_of(response)
    assert Attachment.objects.filter(application=app).count() == before


def test_a_draft_print_or_changed_content_is_refused(client, henan):
    school, app, post = start_draft(henan, "郑州市金水区码四小")
    login(client, school)
    response = upload_scan(client, app, post, scanned(form_pdf(client, app, draft=1)))
    assert "草稿打印件" in errors_of(response)
    printed = scanned(form_pdf(client, app))
    post = post.copy()
    post["f-principal"] = "新校长"
    response = upload_scan(client, app, post, printed)
    assert "申报内容又有修改" in errors_of(response)
    assert not Attachment.objects.filter(application=app, field_key="form_scan").exists()


def test_a_scan_of_another_application_is_refused_without_naming_it(client, henan):
    other, other_app, _ = start_draft(henan, "郑州市二七区别校", parent="二七区")
    login(client, other)
    theirs = scanned(form_pdf(client, other_app))
    school, app, post = start_draft(henan, "郑州市金水区码五小")
    login(client, school)
    response = upload_scan(client, app, post, theirs)
    text = errors_of(response)
    assert "这份表格属于另一份申报，不是本申报的表格" in text
    assert "二七区别校" not in text


def test_a_scan_without_a_readable_code_is_accepted_with_a_warning_for_reviewers(client, henan):
    school, app, post = start_draft(henan, "郑州市金水区码六小")
    login(client, school)
    response = upload_scan(client, app, post, scanned(form_pdf(client, app), blank_code=True))
    assert response.status_code == 302
    attachment = Attachment.objects.get(application=app, field_key="form_scan", is_current=True)
    assert attachment.scan_check == ScanCheck.NO_CODE
    app.refresh_from_db()
    app_services.application_submit(application=app, scope=school.scope, actor=school.actor)
    county = reviewer("金水区")
    login(client, county)
    page = client.get(reverse("review:detail", args=[app.pk])).content.decode()
    assert "未识别到二维码" in page


def test_a_form_is_rendered_once_and_served_again_until_its_content_changes(client, henan):
    school, app, post = start_draft(henan, "郑州市金水区码七小")
    login(client, school)
    before = pdf.render_count
    first = form_pdf(client, app)
    assert form_pdf(client, app) == first and pdf.render_count == before + 1
    form_pdf(client, app, draft=1)
    assert pdf.render_count == before + 2  # the draft print is another file
    post = post.copy()
    post["f-principal"] = "新校长"
    app_services.application_save_draft(
        application=app, post=post, scope=school.scope, actor=school.actor
    )
    assert form_pdf(client, app) != first and pdf.render_count == before + 3
