"""Evidence of other kinds: photos (JPG, PNG) and Office files (DOCX, XLSX, PPTX) where the
programme file accepts them, judged by content in a bounded child; counts enforced on submit
through the real pages; thumbnails for reviewers and experts, downloads for Office files.

The hostile files are the ones a careless or malicious upload brings: a program renamed
.jpg, a zip bomb named .docx, a macro document (.docm) renamed .docx, a PNG that decodes to
ten billion pixels, a Word file that fetches a remote template.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from edupilot.applications import services as app_services
from edupilot.applications.files import UploadRejected, blob_store
from edupilot.applications.models import Application, AppState, Attachment
from edupilot.applications.thumbs import thumb_name
from edupilot.audit.services import Actor
from edupilot.orgs.models import Locality, Role
from edupilot.programmes import loader
from edupilot.programmes.services import open_now_shift, programme_load
from edupilot.review import services as review
from tests.applications.conftest import Who
from tests.conftest import make_school, org
from tests.evidence import (
    docm_bytes,
    exe_bytes,
    image_bytes,
    many_entries_docx,
    ooxml_bytes,
    png_bomb,
    sample_bytes,
    sample_upload,
    xlsx_bytes,
    zip_bomb_docx,
)
from tests.review.conftest import valid_post

DOC = Path(__file__).resolve().parents[2] / "docs" / "programme-format.md"
BOUND_MB = 4  # the tests' Office bound (the default is 200 MB): the same check, a smaller bomb

EVIDENCE_FIELDS = """key = "photos"
type = "attachment"
kind = "photos"
label = "课堂教学照片"
accept = ["jpg", "png"]
min_count = 3
max_count = 5
max_mb = 5

[[forms.school.sections.fields]]
key = "office"
type = "attachment"
label = "建设方案（Word、Excel 或 PPT）"
accept = ["docx", "xlsx", "pptx"]
required = true
max_count = 2
"""


def example() -> str:
    return re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)[-1]


def programme_text() -> str:
    text = example()
    start = text.index('key = "form_scan"')
    end = text.index("[[forms.school.opinions]]")
    text = text[:start] + EVIDENCE_FIELDS + "\n" + text[end:]
    return text.replace('code = "example-smart-classroom"', 'code = "example-evidence"')


@pytest.fixture
def evidence_programme(seeded):
    parsed = loader.parse_text(programme_text(), "example-evidence.toml")
    assert loader.check_against_database(parsed) == []
    return programme_load(
        parsed=parsed, actor=Actor.system(), time_shift_days=open_now_shift(parsed)
    ).programme


@pytest.fixture(autouse=True)
def small_bounds(settings):
    settings.EDUPILOT_OFFICE_MAX_INFLATED_MB = BOUND_MB


def store(content: bytes, name: str, accept: list[str], max_mb: int = 20):
    return blob_store(SimpleUploadedFile(name, content), accept=accept, max_mb=max_mb)


# --- the content check ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ],
)
def test_real_files_of_each_kind_are_stored_with_their_type(db, kind, content_type):
    # One sample: openpyxl stamps the time, so two samples may differ in length.
    data = sample_bytes(kind)
    blob = store(data, f"材料.{kind}", [kind])
    assert blob.content_type == content_type and blob.size == len(data)


HOSTILE = [
    ("a program renamed .jpg", exe_bytes, "setup.jpg", ["jpg", "png"], "文件类型不在本栏目允许的范围内"),
    ("a zip bomb named .docx", lambda: zip_bomb_docx(BOUND_MB + 4), "方案.docx", ["docx"], "解压后的内容过大"),
    ("a zip of too many members", lambda: many_entries_docx(5100), "方案.docx", ["docx"], "文件数过多"),
    ("a .docm renamed .docx", docm_bytes, "方案.docx", ["docx"], "含有宏（VBA）"),
    ("a decompression-bomb PNG", png_bomb, "照片.png", ["png"], "像素过多"),
    ("a truncated JPEG", lambda: image_bytes("jpg", (400, 300))[:1500], "照片.jpg", ["jpg"], "无法作为图片读取"),
    ("a PNG named .jpg in a JPG-only field", lambda: image_bytes("png"), "照片.jpg", ["jpg"], "文件类型不在本栏目允许的范围内"),
    ("a photo in an Office field", lambda: image_bytes("jpg"), "方案.docx", ["docx", "xlsx"], "本栏目可上传：Word（DOCX）、Excel（XLSX）"),
    ("a Word file in an Excel-only field", lambda: ooxml_bytes("docx"), "表.xlsx", ["xlsx"], "文件类型不在本栏目允许的范围内"),
    ("a plain zip named .docx", lambda: _plain_zip(), "方案.docx", ["docx"], "不是 Word、Excel 或 PowerPoint 文件"),
    ("a remote template", lambda: ooxml_bytes("docx", rels=_REMOTE_TEMPLATE), "方案.docx", ["docx"], "引用了外部模板"),
    ("a member outside the archive", lambda: ooxml_bytes("docx", extra={"../../evil.xml": b"x"}), "方案.docx", ["docx"], "路径异常"),
    ("a PDF in a photo field", lambda: sample_bytes("pdf"), "照片.jpg", ["jpg"], "文件类型不在本栏目允许的范围内"),
]  # fmt: skip

_REMOTE_TEMPLATE = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/attachedTemplate" Target="http://example.invalid/t.dotm" '
    'TargetMode="External"/></Relationships>'
)


def _plain_zip() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "不是 Office 文件")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("content", "name", "accept", "message"),
    [pytest.param(c, n, a, m, id=why) for why, c, n, a, m in HOSTILE],
)
def test_hostile_files_are_refused_and_nothing_is_stored(db, content, name, accept, message):
    from edupilot.applications.models import Blob

    with pytest.raises(UploadRejected, match=message) as exc:
        store(content(), name, accept)
    assert name in str(exc.value)
    assert not Blob.objects.exists()


def test_the_pixel_bound_refuses_a_real_large_image(db, settings):
    settings.EDUPILOT_IMAGE_MAX_PIXELS = 100 * 100
    with pytest.raises(UploadRejected, match="像素过多"):
        store(image_bytes("png", (200, 120)), "大图.png", ["png"])
    assert store(image_bytes("png", (90, 90)), "小图.png", ["png"]).content_type == "image/png"


def test_a_photo_over_the_fields_size_is_refused(db):
    from edupilot.applications.models import Blob

    # A PNG with trailing bytes past 1 MB: the size is checked before the content.
    big = image_bytes("png", (300, 300)) + b"\0" * (1024 * 1024)
    with pytest.raises(UploadRejected, match="超过 1 MB 的限制"):
        store(big, "大照片.png", ["png"], max_mb=1)
    assert not Blob.objects.exists()


def test_a_pdf_only_field_keeps_its_pdf_message(db):
    with pytest.raises(UploadRejected, match="不是 PDF 文件"):
        store(image_bytes("png"), "扫描件.pdf", ["pdf"])
    # … and a field taking PDFs and photos checks a PDF as a PDF.
    assert store(sample_bytes("pdf"), "扫描件.pdf", ["pdf", "jpg"]).content_type.endswith("pdf")


# --- the programme file ---------------------------------------------------------------------


def test_the_file_names_unknown_kinds_with_line_and_field(tmp_path):
    text = programme_text().replace('accept = ["jpg", "png"]', 'accept = ["jpg", "exe"]')
    path = tmp_path / "notice.toml"
    path.write_text(text, encoding="utf-8")
    _, errors = loader.validate(path)
    (error,) = errors
    assert text.splitlines()[error.line - 1].strip() == 'accept = ["jpg", "exe"]'
    assert error.field.endswith(".accept[2]") and "不认识的文件类型 “exe”" in error.message
    assert "pdf、jpg、png、docx、xlsx、pptx" in error.message


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('accept = ["jpg", "png"]', 'accept = ["jpeg"]', "JPEG 照片写 jpg"),
        ('accept = ["jpg", "png"]', 'accept = ["png", "png"]', "文件类型重复"),
        ("min_count = 3\nmax_count = 5", "min_count = 6\nmax_count = 5", "min_count 不能大于"),
        ('key = "photos"\ntype = "attachment"\nkind = "photos"', 'key = "photos"\ntype = "attachment"\nkind = "stamped_form"', "只接受 PDF"),
    ],
)  # fmt: skip
def test_the_file_is_checked(tmp_path, old, new, message):
    text = programme_text()
    assert text.count(old) == 1
    path = tmp_path / "notice.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    _, errors = loader.validate(path)
    assert len(errors) == 1 and message in errors[0].message and errors[0].line


def test_programme_show_lists_the_kinds_and_counts(evidence_programme):
    out = io.StringIO()
    call_command("programme", "show", "example-evidence", "--format", "json", stdout=out)
    (category,) = json.loads(out.getvalue())["categories"]
    assert category["evidence"] == [
        {"key": "photos", "label": "课堂教学照片", "accept": ["jpg", "png"], "max_mb": 5,
         "min_count": 3, "max_count": 5},
        {"key": "office", "label": "建设方案（Word、Excel 或 PPT）",
         "accept": ["docx", "xlsx", "pptx"], "max_mb": 20, "min_count": 1, "max_count": 2},
    ]  # fmt: skip
    out = io.StringIO()
    call_command("programme", "show", "example-evidence", stdout=out)
    assert "材料：课堂教学照片（photos）JPG、PNG，每个 ≤5 MB，3–5 个" in out.getvalue()


# --- through the pages ----------------------------------------------------------------------


@pytest.fixture
def school(evidence_programme):
    s = make_school(
        org("衡阳县"), "衡阳县佐证测试小学", stages=",primary,", locality=Locality.URBAN
    )
    return Who(s, username="evid_school")


def _post(app: Application, **files) -> dict:
    post = valid_post(app.programme, "school", classrooms="3").dict()
    post.update({"revision": str(app.revision), "action": "save"})
    post.update(files)
    return post


def test_counts_and_refusals_through_the_real_views(client, school, evidence_programme):
    client.force_login(school.user)
    client.post("/applications/start/", {"programme": "example-evidence", "category": "school"})
    app = Application.objects.get(applicant_org=school.org)
    page = client.get(f"/applications/{app.pk}/edit/").content.decode()
    assert 'accept="image/jpeg,.jpg,.jpeg,image/png,.png"' in page
    assert "JPG、PNG 格式，单个文件不超过 5 MB" in page and "至少 3 个、最多 5 个文件" in page

    # Two photos and a Word file, and a program renamed .jpg: the program is refused, the rest kept.
    r = client.post(
        f"/applications/{app.pk}/edit/",
        _post(
            app,
            **{
                "a-photos": [
                    sample_upload("jpg", 1, "教室一.jpg"),
                    SimpleUploadedFile("教室二.jpg", exe_bytes()),
                    sample_upload("png", 2, "教室三.png"),
                ],
                "a-office": sample_upload("docx", 1, "建设方案.docx"),
            },
        ),
    )
    html = r.content.decode()
    assert "“教室二.jpg”的文件类型不在本栏目允许的范围内" in html
    assert sorted(app.attachments.values_list("filename", flat=True)) == [
        "建设方案.docx", "教室一.jpg", "教室三.png",
    ]  # fmt: skip

    # Submitting with two photos of the three needed: refused, saying how many; nothing lost.
    app.refresh_from_db()
    r = client.post(f"/applications/{app.pk}/edit/", {**_post(app), "action": "submit"})
    html = r.content.decode()
    assert "“课堂教学照片”至少需要 3 个文件，现有 2 个，还差 1 个" in html
    app.refresh_from_db()
    assert app.state == AppState.DRAFT and app.attachments.filter(is_current=True).count() == 3
    assert 'value="3"' in html  # what was typed is still there

    # A third and fourth photo, a fifth and sixth: the field holds at most five.
    app.refresh_from_db()
    r = client.post(
        f"/applications/{app.pk}/edit/",
        _post(app, **{"a-photos": [sample_upload("jpg", i) for i in (3, 4, 5, 6)]}),
    )
    assert "“课堂教学照片”最多 5 个文件，请先删除一个再上传。" in r.content.decode()
    photos = Attachment.objects.filter(application=app, field_key="photos", is_current=True)
    assert photos.count() == 5

    app.refresh_from_db()
    r = client.post(f"/applications/{app.pk}/edit/", {**_post(app), "action": "submit"})
    assert r.status_code == 302, r.content.decode()[-3000:]
    app.refresh_from_db()
    assert app.state == AppState.SUBMITTED
    files = app.versions.get().attachments
    assert {f["content_type"] for f in files} == {
        "image/jpeg", "image/png",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }  # fmt: skip


def test_reviewers_see_thumbnails_and_download_office_files(client, school, evidence_programme):
    from tests.review.conftest import submit_as

    app = submit_as(school, evidence_programme, "school", classrooms="3")
    photo = app.attachments.filter(field_key="photos").first()
    office = app.attachments.get(field_key="office")
    county = Who(org("衡阳县"), Role.REVIEWER, username="evid_county")
    client.force_login(county.user)
    html = client.get(f"/applications/{app.pk}/").content.decode()
    thumb_url = f"/applications/{app.pk}/files/{photo.pk}/thumb/"
    assert f'src="{thumb_url}"' in html
    assert html.count('class="thumb"') == 3

    r = client.get(thumb_url)
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r.content.startswith(b"\xff\xd8\xff")
    assert default_storage.exists(thumb_name(photo.blob)), "made once, then kept"
    assert client.get(thumb_url).content == r.content

    r = client.get(f"/applications/{app.pk}/files/{office.pk}/")
    assert r.status_code == 200
    assert r["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert r["Content-Disposition"].startswith("attachment;")
    assert r["X-Content-Type-Options"] == "nosniff"
    assert b"".join(r.streaming_content).startswith(b"PK\x03\x04")
    # A photo opens in the browser, with its own type; an Office file has no thumbnail.
    r = client.get(f"/applications/{app.pk}/files/{photo.pk}/")
    assert r["Content-Type"] == "image/jpeg" and r["Content-Disposition"].startswith("inline")
    assert client.get(f"/applications/{app.pk}/files/{office.pk}/thumb/").status_code == 404

    # The county moves it on; the page of another school's reviewer does not reach the thumb.
    review.review_recommend(
        application=app, scope=county.scope, actor=county.actor, opinion="同意推荐"
    )
    other = Who(org("耒阳市"), Role.REVIEWER, username="evid_other")
    client.force_login(other.user)
    assert client.get(thumb_url).status_code == 404


def test_a_renamed_file_gets_the_extension_of_its_content(school, evidence_programme):
    app = app_services.application_start(
        programme=evidence_programme, category_code="school", scope=school.scope,
        actor=school.actor,
    )  # fmt: skip
    attachment = app_services.application_attach(
        application=app, field_key="office", upload=SimpleUploadedFile("表格.docx", xlsx_bytes()),
        scope=school.scope, actor=school.actor,
    )  # fmt: skip
    assert attachment.filename == "表格.docx.xlsx"
    assert attachment.blob.content_type.endswith("spreadsheetml.sheet")


def test_the_operators_ceiling_bounds_every_field(db, settings):
    """EDUPILOT_MAX_UPLOAD_MB caps a field whose programme allows more (docs/deployment.md)."""
    settings.EDUPILOT_MAX_UPLOAD_MB = 1
    big = image_bytes("png", (300, 300)) + b"\0" * (1024 * 1024)
    with pytest.raises(UploadRejected, match="超过 1 MB 的限制"):
        store(big, "大照片.png", ["png"], max_mb=20)
