"""``[notice]``: the notice's full text and attachments, read beside the programme file, kept
with the programme, shown and downloadable on the public call page; files that are missing,
outside the programme's directory or not what their names say are refused at their line."""

from __future__ import annotations

import io
import json
import os

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from openpyxl import Workbook

from edupilot.programmes import loader
from edupilot.programmes.models import Programme, ProgrammeDocument

PROGRAMMES = settings.EDUPILOT_PROGRAMMES_DIR
HENAN = PROGRAMMES / "henan-tencent-smart-campus-2019.toml"
NOTICE = '[notice]\ntext = "notices/henan-tencent-2019/通知.txt"'

pytestmark = pytest.mark.django_db


def load(path):
    call_command("programme", "load", str(path), "--open-now", verbosity=0)


def variant(tmp_path, notice: str, files: dict[str, bytes] | None = None):
    """The Henan file in ``tmp_path`` with ``notice`` in place of its [notice] table and its
    own files beside it."""
    text = HENAN.read_text(encoding="utf-8")
    start = text.index("[notice]")
    end = text.index("\n[period]")
    text = text[:start] + notice + "\n" + text[end:]
    text = text.replace('code = "henan-tencent-2019"', 'code = "henan-notice-test"', 1)
    path = tmp_path / "programme" / "henan.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    for name, content in (files or {}).items():
        target = path.parent / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return path


def xlsx_bytes() -> bytes:
    wb = Workbook()
    wb.active["A1"] = "名额"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_the_notice_is_kept_and_shown_on_the_public_call_page(seeded, client):
    load(HENAN)
    programme = Programme.objects.get(code="henan-tencent-2019")
    docs = list(programme.documents.order_by("role", "position"))
    assert [(d.role, d.position) for d in docs] == [
        ("attachment", 0),
        ("attachment", 1),
        ("text", 0),
    ]
    page = client.get(reverse("programmes_public:detail", args=[programme.code]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "通知全文" in html and "区域试点，面向省辖市所辖县（市、区）或省直管县（市）" in html
    assert "附件1：省辖市、直管县（市）推荐名额分配表" in html

    url = reverse("programmes_public:file", args=[programme.code, "attachment", 0])
    assert url in html
    download = client.get(url)  # anonymous: the notice is public
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download.content == (PROGRAMMES / "notices/henan-tencent-2019/附件1.txt").read_bytes()
    again = client.get(url, HTTP_IF_NONE_MATCH=download["ETag"])
    assert again.status_code == 304
    missing = reverse("programmes_public:file", args=[programme.code, "attachment", 9])
    assert client.get(missing).status_code == 404
    assert (
        client.get(reverse("programmes_public:file", args=["nope", "text", 0])).status_code == 404
    )


def test_an_inactive_programme_serves_no_files(seeded, client):
    load(HENAN)
    Programme.objects.filter(code="henan-tencent-2019").update(is_active=False)
    url = reverse("programmes_public:file", args=["henan-tencent-2019", "text", 0])
    assert client.get(url).status_code == 404


def test_programme_show_lists_the_notice_files(seeded):
    load(HENAN)
    out = io.StringIO()
    call_command("programme", "show", "henan-tencent-2019", "--format", "json", stdout=out)
    notice = json.loads(out.getvalue())["notice"]
    assert [d["file"] for d in notice] == ["附件1.txt", "附件2.txt", "通知.txt"]
    text = io.StringIO()
    call_command("programme", "show", "henan-tencent-2019", stdout=text)
    assert "通知全文：通知.txt" in text.getvalue()


def test_office_files_and_images_are_accepted_by_their_content(seeded, tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    path = variant(
        tmp_path,
        '[notice]\ntext = "n/正文.txt"\n'
        '[[notice.attachments]]\ntitle = "附件1：名额表"\nfile = "n/附件1.xlsx"\n'
        '[[notice.attachments]]\ntitle = "附件2：示意图"\nfile = "n/附件2.png"\n',
        {"n/正文.txt": "各县区：\n现将有关事项通知如下。\n".encode(), "n/附件1.xlsx": xlsx_bytes(),
         "n/附件2.png": png},
    )  # fmt: skip
    load(path)
    docs = ProgrammeDocument.objects.filter(programme__code="henan-notice-test")
    assert sorted(d.content_type for d in docs) == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "image/png",
        "text/plain; charset=utf-8",
    ]


def test_changing_an_attachment_changes_the_programme(seeded, tmp_path):
    notice = '[notice]\n[[notice.attachments]]\ntitle = "附件1"\nfile = "a.txt"\n'
    path = variant(tmp_path, notice, {"a.txt": "第一版".encode()})
    load(path)
    first = Programme.objects.get(code="henan-notice-test").source_sha256
    (path.parent / "a.txt").write_text("第二版", encoding="utf-8")
    load(path)
    programme = Programme.objects.get(code="henan-notice-test")
    assert programme.source_sha256 != first
    assert bytes(programme.documents.get().content).decode() == "第二版"


@pytest.mark.parametrize(
    ("notice", "files", "field", "message"),
    [
        ('[notice]\ntext = "missing.txt"', {}, "notice.text", "找不到文件 missing.txt"),
        ('[notice]\ntext = "../outside.txt"', {}, "notice.text", "不能用 .. 跳出该目录"),
        ('[notice]\ntext = "/etc/passwd"', {}, "notice.text", "相对于项目文件所在目录"),
        ('[notice]\ntext = "a.pdf"', {"a.pdf": b"%PDF-1.4\n"}, "notice.text", "须是 UTF-8 编码的 .txt"),
        ('[notice]\ntext = "a.txt"', {"a.txt": "各县（市、区）教育局：".encode("gbk")}, "notice.text", "不是 UTF-8 编码"),
        ('[notice]\ntext = "a.txt"', {"a.txt": b"ab\x00cd"}, "notice.text", "控制字符"),
        ('[notice]\ntext = "a.txt"', {"a.txt": b""}, "notice.text", "文件是空的"),
        ('[notice]\n[[notice.attachments]]\ntitle = "附件1"\nfile = "a.pdf"',
         {"a.pdf": b"<html>not a pdf</html>"}, "notice.attachments[1].file", "不是扩展名 .pdf"),
        ('[notice]\n[[notice.attachments]]\ntitle = "附件1"\nfile = "a.docx"',
         {"a.docx": b"PK\x03\x04 broken"}, "notice.attachments[1].file", "不是扩展名 .docx"),
        ('[notice]\n[[notice.attachments]]\ntitle = "附件1"\nfile = "a.exe"',
         {"a.exe": b"MZ"}, "notice.attachments[1].file", "不支持的文件类型 .exe"),
        ('[notice]\n[[notice.attachments]]\ntitle = ""\nfile = "a.txt"',
         {"a.txt": b"x"}, "notice.attachments[1].title", "不能为空"),
        ('[notice]\ntexts = "a.txt"', {}, "notice.texts", "不认识的字段"),
    ],
)  # fmt: skip
def test_bad_notice_files_are_refused_at_their_line(
    seeded, tmp_path, notice, files, field, message
):
    path = variant(tmp_path, notice, files)
    _, errors = loader.validate(path)
    assert len(errors) == 1, errors
    error = errors[0]
    assert error.field == field and message in error.message, error
    lines = path.read_text(encoding="utf-8").splitlines()
    assert error.line is not None and field.split(".")[-1].split("[")[0] in lines[error.line - 1]
    assert not Programme.objects.filter(code="henan-notice-test").exists()


def test_a_symlink_out_of_the_programme_directory_is_refused(seeded, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("不应公开", encoding="utf-8")
    path = variant(tmp_path, '[notice]\ntext = "link.txt"')
    os.symlink(secret, path.parent / "link.txt")
    _, errors = loader.validate(path)
    assert [e.field for e in errors] == ["notice.text"]
    assert "以外" in errors[0].message
