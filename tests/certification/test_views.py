"""Pages by URL: scope (404 outside it), permission (403 inside it), outputs."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader
from python_calamine import CalamineWorkbook

from edupilot.certification import services
from edupilot.certification.models import Batch, EntryState, ImportRun
from edupilot.core.models import Job, JobState
from tests.conftest import pdf_bytes

from .conftest import GOOD, acting, export_rows


def url(name, *args):
    return reverse(f"certification:{name}", args=args)


def login(client, user):
    client.force_login(user)
    return client


def test_district_cannot_reach_other_districts_or_city_direct_schools(hz, client):
    login(client, hz.xihu_reviewer)
    for school in (hz.sc_primary, hz.cd_senior):
        entry = hz.entry(school)
        response = client.get(url("entry_detail", entry.pk))
        assert response.status_code == 404 and school.name not in response.content.decode()
        response = client.post(
            url("entry_decide", entry.pk), {"decision": "certified", "opinion": "越权"}
        )
        assert response.status_code == 404
        assert hz.entry(school).decision == ""
        for name in ("certificate", "visit_assign", "correction_file"):
            assert client.get(url(name, entry.pk)).status_code in (404, 405)
    # Its own school is fine; the list shows only its own schools.
    assert client.get(url("entry_detail", hz.entry(hz.xh_primary).pk)).status_code == 200
    page = client.get(url("entry_list", hz.batch.pk)).content.decode()
    assert (
        "西湖区第一小学" in page and "上城区第一小学" not in page and "杭州市第一中学" not in page
    )


def test_city_sees_district_schools_but_may_not_certify_them(hz, client):
    hz.import_file(export_rows([("HZXH001", "", GOOD), ("HZCD001", "", GOOD)]))
    login(client, hz.city_reviewer)
    entry = hz.entry(hz.xh_primary)
    assert client.get(url("entry_detail", entry.pk)).status_code == 200
    response = client.post(
        url("entry_decide", entry.pk), {"decision": "certified", "opinion": "市代认定"}
    )
    assert response.status_code == 403
    assert "由西湖区认定" in response.content.decode()
    assert hz.entry(hz.xh_primary).decision == ""
    # Its own city-direct school it certifies.
    direct = hz.entry(hz.cd_senior)
    response = client.post(
        url("entry_decide", direct.pk), {"decision": "certified", "opinion": "各项达标"}
    )
    assert response.status_code == 302
    assert hz.entry(hz.cd_senior).decision == "certified"


def test_service_refuses_a_district_certifying_outside_its_schools(hz):
    xihu = acting(hz.xihu_reviewer, hz.xihu)
    for school, reason in ((hz.sc_primary, "由上城区认定"), (hz.cd_senior, "市直属学校")):
        with pytest.raises(services.Refused, match=reason):
            services.entry_decide(
                entry=hz.entry(school), decision="not_certified", opinion="x", **xihu
            )
        with pytest.raises(services.Refused):
            services.visit_assign(
                entry=hz.entry(school), team=[], team_note="x", planned_for=None, **xihu
            )


def test_other_province_and_other_schools_see_nothing(hz, client):
    login(client, hz.henan_reviewer)
    assert client.get(url("batch_detail", hz.batch.pk)).status_code == 404
    assert client.get(url("entry_list", hz.batch.pk)).status_code == 404
    assert client.get(url("entry_detail", hz.entry(hz.xh_primary).pk)).status_code == 404
    assert "杭州" not in client.get(url("home")).content.decode()
    client.logout()
    login(client, hz.sc_school_user)
    assert client.get(url("entry_detail", hz.entry(hz.xh_primary).pk)).status_code == 404
    assert client.get(url("entry_list", hz.batch.pk)).status_code == 404
    own = client.get(url("entry_detail", hz.entry(hz.sc_primary).pk))
    assert own.status_code == 200 and "上城区第一小学" in own.content.decode()
    # The batch page sends a school to its own entry.
    response = client.get(url("batch_detail", hz.batch.pk))
    assert response.status_code == 302 and response.url == url(
        "entry_detail", hz.entry(hz.sc_primary).pk
    )


def test_an_expert_sees_only_the_schools_it_verifies(hz, client):
    hz.import_file(export_rows([("HZCD001", "", GOOD)]))
    entry = hz.entry(hz.cd_senior)
    visit = services.visit_assign(
        entry=entry,
        team=[hz.expert],
        team_note="",
        planned_for=None,
        **acting(hz.city_reviewer, hz.city),
    )
    login(client, hz.expert)
    assert client.get(url("entry_detail", entry.pk)).status_code == 200
    assert client.get(url("entry_detail", hz.entry(hz.cd_vocational).pk)).status_code == 404
    response = client.post(
        url("finding_record", visit.pk),
        {
            "indicator": "ZJ-01",
            "met": "0",
            "reason": "无线未覆盖实验楼",
            "observed": "实验楼无信号",
        },
    )
    assert response.status_code == 302
    assert visit.findings.get().verdict == "overturn"
    assert client.get(url("my_visits")).content.decode().count("杭州市第一中学") == 1


def test_import_by_page_runs_as_a_job_and_reports_rows(
    hz, client, django_capture_on_commit_callbacks
):
    login(client, hz.city_admin)
    content = export_rows([("HZXH001", "", GOOD), ("BAD", "没有这所学校", GOOD)])
    upload = io.BytesIO(content)
    upload.name = "全国系统导出.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("import_list", hz.batch.pk), {"source": hz.source.pk, "file": upload}
        )
    job = Job.objects.get()
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response.url == url("import_detail", run.pk)
    assert job.state == JobState.DONE, job.error
    assert run.job_id == job.pk
    page = client.get(url("import_detail", run.pk)).content.decode()
    assert "没有这所学校" in page and run.sha256 in page
    # The row report is the job's result file.
    report = client.get(reverse("core:job_download", args=[job.pk]))
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(b"".join(report.streaming_content)))
        .get_sheet_by_index(0)
        .to_python()
    )
    assert any("没有这所学校" in str(cell) for row in rows for cell in row)
    # The same file again: nothing happens, and the user is told so.
    upload = io.BytesIO(content)
    upload.name = "全国系统导出.xlsx"
    response = client.post(
        url("import_list", hz.batch.pk), {"source": hz.source.pk, "file": upload}, follow=True
    )
    assert "此前已导入" in response.content.decode() and ImportRun.objects.count() == 1


def test_results_xlsx_per_district_and_for_the_city(hz, client, django_capture_on_commit_callbacks):
    hz.import_file(
        export_rows([("HZXH001", "", GOOD), ("HZSC001", "", GOOD), ("HZCD001", "", GOOD)])
    )

    def export(user, certifier=None):
        client.force_login(user)
        data = {"certifier": certifier} if certifier else {}
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url("batch_export", hz.batch.pk), data)
        job = Job.objects.filter(created_by=user).latest("pk")
        assert job.state == JobState.DONE, job.error
        content = b"".join(
            client.get(reverse("core:job_download", args=[job.pk])).streaming_content
        )
        rows = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
        return [r[3] for r in rows[2:]]

    city_rows = export(hz.city_reviewer)
    assert set(city_rows) == {
        "西湖区第一小学",
        "西湖区第二中学",
        "上城区第一小学",
        "杭州市第一中学",
        "杭州市职业高级中学",
        "杭州市示范中学",
    }
    assert export(hz.city_reviewer, hz.xihu.pk) == ["西湖区第一小学", "西湖区第二中学"]
    # A district's export holds its own schools even if it asks for another's.
    assert export(hz.xihu_reviewer) == ["西湖区第一小学", "西湖区第二中学"]
    assert export(hz.xihu_reviewer, hz.shangcheng.pk) == []


def test_certificate_and_unmet_report(hz, client):
    hz.import_file(export_rows([("HZCD001", "", GOOD), ("HZCD002", "", {**GOOD, "ZJ-04": 80})]))
    login(client, hz.city_reviewer)
    direct = hz.entry(hz.cd_senior)
    assert client.get(url("certificate", direct.pk)).status_code == 404  # not certified yet
    services.entry_decide(
        entry=direct,
        decision="certified",
        opinion="达标",
        **acting(hz.city_reviewer, hz.city),
    )
    response = client.get(url("certificate", direct.pk))
    assert response["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "杭州市第一中学" in text and "智慧校园" in text
    # The exempt school gets its certificate too.
    assert client.get(url("certificate", hz.entry(hz.cd_exempt).pk)).status_code == 200

    vocational = hz.entry(hz.cd_vocational)
    response = client.get(url("school_report", vocational.pk, "pdf"))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "ZJ-04" in text and "VC20-01" in text  # the vocational standard's gaps are listed too
    response = client.get(url("school_report", vocational.pk, "xlsx"))
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
        .get_sheet_by_index(0)
        .to_python()
    )
    codes = {r[2] for r in rows[2:]}
    assert "ZJ-04" in codes and "ZJ-01" not in codes


def test_evidence_stays_in_scope(hz, client):
    correction = services.correction_file(
        entry=hz.entry(hz.xh_primary),
        indicator="ZJ-02",
        raw_value="1000",
        reason="扩容",
        evidence=[("合同.pdf", pdf_bytes())],
        **acting(hz.xh_school_user, hz.xh_primary),
    )
    evidence = correction.evidence.get()
    login(client, hz.xihu_reviewer)
    assert client.get(url("evidence", evidence.pk)).content.startswith(b"%PDF")
    client.force_login(hz.sc_reviewer)
    assert client.get(url("evidence", evidence.pk)).status_code == 404


def test_public_pages(hz, client):
    assert (
        client.get(reverse("certification_public:batch", args=[hz.batch.code])).status_code == 404
    )
    Batch.objects.filter(pk=hz.batch.pk).update(state="published")
    page = client.get(reverse("certification_public:batch", args=[hz.batch.code])).content.decode()
    assert "杭州市示范中学" in page and "自动认定" in page
    assert "西湖区第一小学" not in page  # not decided, not public
    assert hz.batch.code in client.get(reverse("certification_public:index")).content.decode()


def test_entry_list_queries_do_not_grow_with_rows(hz, client, django_assert_max_num_queries):
    login(client, hz.city_reviewer)
    with django_assert_max_num_queries(14):
        assert client.get(url("entry_list", hz.batch.pk)).status_code == 200


def test_batch_pages_render_for_each_role(hz, client):
    for user in (hz.city_admin, hz.city_reviewer, hz.xihu_admin, hz.sc_reviewer):
        client.force_login(user)
        for name in ("batch_detail", "entry_list", "import_list", "filing"):
            assert client.get(url(name, hz.batch.pk)).status_code == 200, (user, name)
        assert client.get(url("home")).status_code == 200
        assert client.get(url("standard_list")).status_code == 200
        assert client.get(url("source_list")).status_code == 200
    assert EntryState.EXEMPT in hz.batch.entries.values_list("state", flat=True)


def test_standard_upload_page_shows_located_errors(hz, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    weak = (
        'code = "hz-weak"\ntitle = "弱"\nextends = "zj-sc-2022"\n'
        '[[overrides]]\ncode = "ZJ-02"\nbasic = 100\n'
    )
    login(client, hz.city_admin)
    response = client.post(
        url("standard_list"),
        {"file": SimpleUploadedFile("hz-weak.toml", weak.encode()), "load": "on"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "hz-weak.toml:6: overrides[1].basic" in page and "≥1000Mbps" in page
    client.force_login(hz.sc_reviewer)
    response = client.post(
        url("standard_list"), {"file": SimpleUploadedFile("hz-weak.toml", weak.encode())}
    )
    assert response.status_code == 403


def test_a_source_mapping_is_saved_from_a_sample_file(hz, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from edupilot.certification.models import DataSource

    from .conftest import xlsx_bytes

    login(client, hz.xihu_admin)
    sample = xlsx_bytes([["学校代码", "学校名称", "出口带宽", "备注"], ["X", "Y", 1, ""]])
    response = client.post(
        url("source_new"),
        {
            "code": "equipment",
            "name": "浙江省教育技术装备管理系统",
            "system": "equipment",
            "code_column": "学校代码",
            "name_column": "学校名称",
            "header_row": 1,
            "sample": SimpleUploadedFile("装备.xlsx", sample),
        },
    )
    source = DataSource.objects.get(code="equipment")
    assert response.status_code == 302 and source.owner == hz.xihu
    assert "出口带宽" in source.known_columns and source.mapping == []
    columns = source.known_columns
    data = {
        "code": "equipment",
        "name": "浙江省教育技术装备管理系统",
        "system": "equipment",
        "code_column": "学校代码",
        "name_column": "学校名称",
        "header_row": 1,
        "column": columns,
    }
    data[f"indicator_{columns.index('出口带宽')}"] = "ZJ-02"
    client.post(url("source_edit", source.pk), data)
    source.refresh_from_db()
    assert source.mapping == [{"column": "出口带宽", "indicator": "ZJ-02", "scale": 1.0}]
    # Another district cannot see or change it; the city cannot change it either.
    client.force_login(hz.sc_reviewer)
    assert client.get(url("source_edit", source.pk)).status_code == 404
    client.force_login(hz.city_admin)
    assert client.post(url("source_edit", source.pk), data).status_code == 404


def test_filing_page_returns_a_filing_for_the_city_only(hz, client):
    hz.import_file(export_rows([("HZXH001", "", GOOD), ("HZXH002", "", GOOD)]))
    xihu = acting(hz.xihu_reviewer, hz.xihu)
    for school in (hz.xh_primary, hz.xh_junior):
        services.entry_decide(entry=hz.entry(school), decision="certified", opinion="达标", **xihu)
    filing = services.filing_submit(batch=hz.batch, org=hz.xihu, note="", **xihu)
    form = {"action": "return", "filing": filing.pk, "reason": "请复核第一初中"}

    # The district cannot send its own filing back, by page or by a forged POST.
    login(client, hz.xihu_reviewer)
    assert "退回报备" not in client.get(url("filing", hz.batch.pk)).content.decode()
    response = client.post(url("filing", hz.batch.pk), form)
    assert response.status_code == 403
    filing.refresh_from_db()
    assert filing.returned_at is None

    login(client, hz.city_reviewer)
    assert "退回报备" in client.get(url("filing", hz.batch.pk)).content.decode()
    response = client.post(url("filing", hz.batch.pk), form)
    assert response.status_code == 302
    filing.refresh_from_db()
    assert filing.return_reason == "请复核第一初中"

    # The district sees why, and may file again.
    login(client, hz.xihu_reviewer)
    page = client.get(url("filing", hz.batch.pk)).content.decode()
    assert "退回了上次报备" in page and "请复核第一初中" in page and "一键报备" in page
