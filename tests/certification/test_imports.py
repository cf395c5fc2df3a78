"""Imports from other systems: matching, row report, provenance, idempotence, cut-off, freeze."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from edupilot.audit.models import AuditEvent
from edupilot.certification import services
from edupilot.certification.models import ImportRun, ImportState

from .conftest import GOOD, acting, export_rows, scope_for, xlsx_bytes


def test_code_then_name_matching_and_bad_rows(hz):
    content = export_rows(
        [
            ("HZXH001", "西湖区第一小学", GOOD),
            ("", "上城区第一小学", {**GOOD, "ZJ-02": "百兆"}),  # by exact name; a bad cell
            ("WRONG", "杭州市第一中学", GOOD),  # unknown code, the exact name still matches
            ("HZXH003", "西湖区实验幼儿园", GOOD),  # a kindergarten
            ("X999", "不存在的学校", GOOD),
            ("HZXH001", "西湖区第一小学", GOOD),  # the same school twice
            ("", "西湖区第一小", GOOD),  # not an exact name
        ]
    )
    started = hz.import_file(content)
    run = started.run
    assert run.state == ImportState.DONE
    assert (run.total_rows, run.matched_rows) == (7, 3)
    issues = {(i.row, i.message) for i in run.issues.all()}
    assert (3, "ZJ-02：“百兆”不是数字") in issues
    assert (5, "幼儿园不参加智慧校园认定，未导入") in issues
    assert any(row == 6 and "X999" in m for row, m in issues)
    assert (7, "与第 2 行是同一所学校，已忽略本行") in issues
    assert any(row == 8 and "西湖区第一小" in m for row, m in issues)
    # Matched rows imported everything else, with provenance.
    xh = hz.entry(hz.xh_primary)
    assert xh.data["ZJ-02"] == [1000.0, f"i{run.pk}", "2099-08-31"]
    sc = hz.entry(hz.sc_primary)
    assert "ZJ-02" not in sc.data and sc.data["ZJ-01"][0] is True
    assert hz.entry(hz.cd_senior).data["ZJ-07"][0] == "深度融合"
    assert run.sha256 == hashlib.sha256(content).hexdigest()
    assert run.imported_by == hz.city_admin and run.importer_org == hz.city
    event = AuditEvent.objects.get(action="certification.import", object_id=str(run.pk))
    assert event.after["sha256"] == run.sha256 and event.after["issues"] == 5
    # Assessment follows the import: Xihu's school meets Xihu's standard.
    assert xh.provisional == "pass"
    assert sc.provisional == "incomplete"


def test_reimporting_the_same_file_changes_nothing(hz):
    content = export_rows([("HZXH001", "西湖区第一小学", GOOD)])
    first = hz.import_file(content)
    entry = hz.entry(hz.xh_primary)
    events = AuditEvent.objects.count()
    second = hz.import_file(content)
    assert not second.created and second.run.pk == first.run.pk
    assert ImportRun.objects.count() == 1 and AuditEvent.objects.count() == events
    again = hz.entry(hz.xh_primary)
    assert again.data == entry.data and again.updated_at == entry.updated_at


def test_values_are_kept_as_of_the_cutoff(hz):
    with pytest.raises(services.Refused, match="晚于本批次的数据统计截止日"):
        hz.import_file(export_rows([("HZXH001", "", GOOD)]), as_of=dt.date(2099, 9, 1))
    # An export dated later (but within the cut-off) wins over an earlier one, whatever
    # the order they are imported in.
    newer = export_rows([("HZXH001", "", {**GOOD, "ZJ-02": 2000})])
    older = export_rows([("HZXH001", "", {**GOOD, "ZJ-02": 500})])
    hz.import_file(newer, as_of=dt.date(2099, 8, 30), name="aug30.xlsx")
    hz.import_file(older, as_of=dt.date(2099, 7, 1), name="jul1.xlsx")
    assert hz.entry(hz.xh_primary).data["ZJ-02"][0] == 2000


def test_a_frozen_batch_takes_no_imports(hz):
    hz.import_file(export_rows([("HZXH001", "", GOOD)]))
    before = hz.entry(hz.xh_primary).data
    services.batch_freeze(batch=hz.batch, **acting(hz.city_admin, hz.city))
    with pytest.raises(services.Refused, match="冻结"):
        hz.import_file(export_rows([("HZXH001", "", {**GOOD, "ZJ-02": 1})]), name="late.xlsx")
    assert hz.entry(hz.xh_primary).data == before


def test_a_run_started_before_a_freeze_writes_nothing(hz):
    content = export_rows([("HZXH001", "", GOOD)])
    started = services.import_prepare(
        batch=hz.batch,
        source=hz.source,
        content=content,
        filename="x.xlsx",
        as_of=None,
        **acting(hz.city_admin, hz.city),
    )
    services.batch_freeze(batch=hz.batch, **acting(hz.city_admin, hz.city))
    run = services.import_execute(run=started.run, scope=scope_for(hz.city_admin, hz.city))
    assert run.state == ImportState.FAILED and "冻结" in run.message
    assert hz.entry(hz.xh_primary).data == {}


def test_a_district_imports_only_its_own_schools(hz):
    content = export_rows([("HZXH001", "", GOOD), ("HZSC001", "", GOOD), ("HZCD001", "", GOOD)])
    started = hz.import_file(content, user=hz.xihu_reviewer, org_=hz.xihu)
    assert started.run.matched_rows == 1
    assert hz.entry(hz.sc_primary).data == {} and hz.entry(hz.cd_senior).data == {}
    # Outside its area it learns nothing about the other schools: they simply do not match.
    messages = list(started.run.issues.values_list("message", flat=True))
    assert all("未匹配" in m for m in messages) and len(messages) == 2
    # Another province's bureau may not import into Hangzhou's batch at all.
    with pytest.raises(services.Refused):
        hz.import_file(
            content, user=hz.henan_reviewer, org_=hz.henan_reviewer.memberships.get().org
        )


def test_csv_in_gbk_and_a_missing_key_column(hz):
    text = "学校标识码,学校名称,ZJ-02列\r\nHZXH001,西湖区第一小学,1000\r\n"
    hz.import_file(text.encode("gb18030"), name="导出.csv")
    assert hz.entry(hz.xh_primary).data["ZJ-02"][0] == 1000
    run = hz.import_file(xlsx_bytes([["代码", "名称"], ["HZXH001", "x"]]), name="bad.xlsx").run
    assert run.state == ImportState.FAILED and "学校代码列“学校标识码”" in run.message
    # A mapped column that the file lacks is reported and the rest imports.
    run = hz.import_file(
        xlsx_bytes([["学校标识码", "学校名称", "ZJ-01列"], ["HZXH002", "", "否"]]), name="part.xlsx"
    ).run
    assert run.state == ImportState.DONE and hz.entry(hz.xh_junior).data["ZJ-01"][0] is False
    assert run.issues.filter(row=1, message__contains="文件中没有列“ZJ-02列”").exists()
