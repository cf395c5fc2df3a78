"""Corrections, site verification, decisions, filing and the public list."""

from __future__ import annotations

import datetime as dt

import pytest

from edupilot.audit.models import AuditEvent
from edupilot.certification import selectors, services
from edupilot.certification.models import (
    Batch,
    CorrectionState,
    EntryState,
    Evidence,
    Filing,
    Provisional,
    Verdict,
)
from edupilot.core.models import Notification
from tests.conftest import pdf_bytes

from .conftest import GOOD, acting, export_rows

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_school_corrects_its_data_before_the_cutoff(hz):
    hz.import_file(export_rows([("HZXH001", "", {**GOOD, "ZJ-02": 500})]))
    entry = hz.entry(hz.xh_primary)
    assert entry.provisional == Provisional.FAIL
    school = acting(hz.xh_school_user, hz.xh_primary)
    with pytest.raises(services.Refused, match="证明材料"):
        services.correction_file(
            entry=entry,
            indicator="ZJ-02",
            raw_value="1000",
            reason="已扩容",
            evidence=[],
            **school,
        )
    with pytest.raises(services.Refused, match="不是 PDF 或图片"):
        services.correction_file(
            entry=entry,
            indicator="ZJ-02",
            raw_value="1000",
            reason="已扩容",
            evidence=[("合同.docx", b"PK\x03\x04...")],
            **school,
        )
    with pytest.raises(services.Refused, match="不是数字"):
        services.correction_file(
            entry=entry,
            indicator="ZJ-02",
            raw_value="千兆",
            reason="已扩容",
            evidence=[("合同.pdf", pdf_bytes())],
            **school,
        )
    correction = services.correction_file(
        entry=entry,
        indicator="ZJ-02",
        raw_value="1000",
        reason="8月已扩容至千兆",
        evidence=[("扩容合同.pdf", pdf_bytes()), ("机房照片.png", PNG)],
        **school,
    )
    assert correction.current_value == 500 and correction.proposed_value == 1000
    assert Evidence.objects.filter(correction=correction).count() == 2
    # The district that certifies the school hears of it; another district does not.
    assert Notification.objects.filter(
        recipient=hz.xihu_reviewer, event="certification.correction_filed"
    ).exists()
    assert not Notification.objects.filter(recipient=hz.sc_reviewer).exists()
    # Another school, or a district that does not certify it, cannot file or decide it.
    with pytest.raises(services.Refused):
        services.correction_file(
            entry=entry,
            indicator="ZJ-02",
            raw_value="1",
            reason="x",
            evidence=[("a.pdf", pdf_bytes())],
            **acting(hz.sc_school_user, hz.sc_primary),
        )
    with pytest.raises(services.Refused, match="西湖区认定"):
        services.correction_decide(
            correction=correction,
            accept=True,
            response="",
            **acting(hz.sc_reviewer, hz.shangcheng),
        )
    with pytest.raises(services.Refused, match="理由"):
        services.correction_decide(
            correction=correction,
            accept=False,
            response="",
            **acting(hz.xihu_reviewer, hz.xihu),
        )
    services.correction_decide(
        correction=correction,
        accept=True,
        response="合同属实",
        **acting(hz.xihu_reviewer, hz.xihu),
    )
    entry.refresh_from_db()
    assert entry.data["ZJ-02"][0] == 1000 and entry.data["ZJ-02"][1] == f"c{correction.pk}"
    assert entry.provisional == Provisional.PASS
    event = AuditEvent.objects.get(action="certification.correction_decide")
    assert event.after["state"] == CorrectionState.ACCEPTED and event.actor == hz.xihu_reviewer
    told = Notification.objects.get(
        recipient=hz.xh_school_user, event="certification.correction_decided"
    )
    assert "已采纳" in told.title and told.body == "合同属实"
    # A later import does not overwrite a value the bureau accepted from the school.
    hz.import_file(export_rows([("HZXH001", "", {**GOOD, "ZJ-02": 300})]), name="again.xlsx")
    assert hz.entry(hz.xh_primary).data["ZJ-02"][0] == 1000


def test_no_corrections_after_the_cutoff(hz):
    Batch.objects.filter(pk=hz.batch.pk).update(cutoff=dt.date(2020, 8, 31))
    entry = hz.entry(hz.xh_primary)
    with pytest.raises(services.Refused, match="已过数据统计截止日"):
        services.correction_file(
            entry=entry,
            indicator="ZJ-02",
            raw_value="1000",
            reason="x",
            evidence=[("a.pdf", pdf_bytes())],
            **acting(hz.xh_school_user, hz.xh_primary),
        )


def test_site_verification_overturns_and_the_result_updates(hz):
    hz.import_file(export_rows([("HZCD001", "", GOOD)]))
    entry = hz.entry(hz.cd_senior)
    assert entry.provisional == Provisional.PASS
    city = acting(hz.city_reviewer, hz.city)
    # A district reviewer cannot be put on the city's team; an expert can.
    with pytest.raises(services.Refused, match="不能加入核查组"):
        services.visit_assign(
            entry=entry, team=[hz.xihu_reviewer], team_note="", planned_for=None, **city
        )
    visit = services.visit_assign(
        entry=entry,
        team=[hz.expert],
        team_note="市专家组",
        planned_for=dt.date(2099, 9, 10),
        **city,
    )
    assigned = Notification.objects.get(recipient=hz.expert, event="certification.visit_assigned")
    assert entry.school.name in assigned.title and "2099-09-10" in assigned.body
    expert = acting(hz.expert, hz.expert.memberships.get().org)
    with pytest.raises(services.Refused, match="理由"):
        services.finding_record(
            visit=visit,
            indicator="ZJ-13",
            met=False,
            observed="",
            reason="",
            evidence=[],
            **expert,
        )
    confirm = services.finding_record(
        visit=visit,
        indicator="ZJ-02",
        met=True,
        observed="千兆光纤",
        reason="",
        evidence=[],
        **expert,
    )
    assert confirm.verdict == Verdict.CONFIRM
    overturn = services.finding_record(
        visit=visit,
        indicator="ZJ-13",
        met=False,
        observed="未完成等级保护备案",
        reason="现场未见等保备案证明",
        evidence=[("现场.png", PNG)],
        **expert,
    )
    assert overturn.verdict == Verdict.OVERTURN
    entry.refresh_from_db()
    assert entry.provisional == Provisional.FAIL
    view = selectors.entry_view(entry)
    row = next(r for r in view.sections[0].rows if r.indicator.code == "ZJ-13")
    assert row.status == "unmet" and row.source_text == "实地核查"
    # No decision while the visit is open; then not "certified" on a failed result.
    with pytest.raises(services.Refused, match="实地核查尚未完成"):
        services.entry_decide(entry=entry, decision="not_certified", opinion="x", **city)
    services.visit_complete(visit=visit, summary="等保未落实", **expert)
    with pytest.raises(services.Refused, match="不能认定为智慧校园"):
        services.entry_decide(entry=entry, decision="certified", opinion="x", **city)
    services.entry_decide(
        entry=entry, decision="not_certified", opinion="网络安全等级保护未落实", **city
    )
    assert hz.entry(hz.cd_senior).state == EntryState.DECIDED


def test_district_files_its_decisions_in_one_step(hz):
    hz.import_file(export_rows([("HZXH001", "", GOOD), ("HZXH002", "", {**GOOD, "ZJ-01": "否"})]))
    xihu = acting(hz.xihu_reviewer, hz.xihu)
    with pytest.raises(services.Refused, match="尚未作出认定结论"):
        services.filing_submit(batch=hz.batch, org=hz.xihu, note="", **xihu)
    services.entry_decide(
        entry=hz.entry(hz.xh_primary), decision="certified", opinion="各项达标", **xihu
    )
    services.entry_decide(
        entry=hz.entry(hz.xh_junior),
        decision="deferred",
        opinion="网络未全覆盖，下批认定",
        **xihu,
    )
    # Shangcheng cannot file for Xihu; the city does not file at all.
    with pytest.raises(services.Refused):
        services.filing_submit(
            batch=hz.batch, org=hz.xihu, note="", **acting(hz.sc_reviewer, hz.shangcheng)
        )
    with pytest.raises(services.Refused, match="无需报备"):
        services.filing_submit(
            batch=hz.batch, org=hz.city, note="", **acting(hz.city_admin, hz.city)
        )
    filing = services.filing_submit(batch=hz.batch, org=hz.xihu, note="西湖区第一批", **xihu)
    assert (filing.total, filing.certified, filing.deferred) == (2, 1, 1)
    assert set(hz.batch.entries.filter(certifier=hz.xihu).values_list("state", flat=True)) == {
        EntryState.FILED
    }
    with pytest.raises(services.Refused, match="已报备"):
        services.filing_submit(batch=hz.batch, org=hz.xihu, note="", **xihu)
    # Filed conclusions are final.
    with pytest.raises(services.Refused, match="已报备"):
        services.entry_decide(
            entry=hz.entry(hz.xh_primary), decision="deferred", opinion="x", **xihu
        )
    assert Filing.objects.count() == 1


def test_city_returns_a_filing_and_the_district_files_again(hz):
    hz.import_file(export_rows([("HZXH001", "", GOOD), ("HZXH002", "", GOOD)]))
    xihu = acting(hz.xihu_reviewer, hz.xihu)
    city = acting(hz.city_reviewer, hz.city)
    for school in (hz.xh_primary, hz.xh_junior):
        services.entry_decide(
            entry=hz.entry(school), decision="certified", opinion="各项达标", **xihu
        )
    first = services.filing_submit(batch=hz.batch, org=hz.xihu, note="", **xihu)
    # The city's bureau hears of the filing.
    assert Notification.objects.filter(
        recipient=hz.city_reviewer, event="certification.filed"
    ).exists()

    # Only the batch owner may send it back, and only with a reason.
    for who in (xihu, acting(hz.sc_reviewer, hz.shangcheng)):
        with pytest.raises(services.Refused, match="只有杭州市可以退回报备"):
            services.filing_return(filing=first, reason="x", **who)
    with pytest.raises(services.Refused, match="退回理由"):
        services.filing_return(filing=first, reason="  ", **city)
    assert hz.entry(hz.xh_junior).state == EntryState.FILED

    services.filing_return(filing=first, reason="西湖区第一初中网络覆盖存疑，请复核", **city)
    first.refresh_from_db()
    assert first.returned_at and first.returned_by == hz.city_reviewer
    assert {hz.entry(s).state for s in (hz.xh_primary, hz.xh_junior)} == {EntryState.DECIDED}
    assert hz.entry(hz.xh_junior).filing_id is None
    note = Notification.objects.get(
        recipient=hz.xihu_reviewer, event="certification.filing_returned"
    )
    assert "网络覆盖存疑" in note.body
    assert AuditEvent.objects.filter(action="certification.filing_return").count() == 1
    with pytest.raises(services.Refused, match="已被退回"):
        services.filing_return(filing=first, reason="again", **city)

    # The district changes its conclusion and files again; the returned filing is history.
    services.entry_decide(
        entry=hz.entry(hz.xh_junior), decision="deferred", opinion="复核后暂缓", **xihu
    )
    second = services.filing_submit(batch=hz.batch, org=hz.xihu, note="复核后", **xihu)
    assert (second.certified, second.deferred) == (1, 1)
    assert Filing.objects.filter(batch=hz.batch, org=hz.xihu).count() == 2
    assert Filing.objects.filter(batch=hz.batch, org=hz.xihu, returned_at=None).get() == second

    # Once the batch is published, results are final.
    admin = acting(hz.city_admin, hz.city)
    services.batch_freeze(batch=hz.batch, **admin)
    services.batch_publish(batch=hz.batch, **admin)
    with pytest.raises(services.Refused, match="已公布"):
        services.filing_return(filing=second, reason="x", **city)
    assert hz.entry(hz.xh_primary).state == EntryState.FILED


def test_public_list_has_final_certified_schools_and_no_people(hz):
    hz.import_file(
        export_rows(
            [
                ("HZXH001", "", GOOD),
                ("HZXH002", "", GOOD),
                ("HZCD001", "", GOOD),
                ("HZSC001", "", GOOD),
            ]
        )
    )
    xihu = acting(hz.xihu_reviewer, hz.xihu)
    city = acting(hz.city_reviewer, hz.city)
    services.entry_decide(
        entry=hz.entry(hz.xh_primary),
        decision="certified",
        opinion="达标，联系人张三 13800000000",
        **xihu,
    )
    services.entry_decide(
        entry=hz.entry(hz.xh_junior), decision="not_certified", opinion="x", **xihu
    )
    services.filing_submit(batch=hz.batch, org=hz.xihu, note="", **xihu)
    services.entry_decide(
        entry=hz.entry(hz.cd_senior), decision="certified", opinion="达标", **city
    )
    # Shangcheng decided but has not filed: not final, not public.
    services.entry_decide(
        entry=hz.entry(hz.sc_primary),
        decision="certified",
        opinion="达标",
        **acting(hz.sc_reviewer, hz.shangcheng),
    )
    admin = acting(hz.city_admin, hz.city)
    with pytest.raises(services.Refused, match="先冻结"):
        services.batch_publish(batch=hz.batch, **admin)
    services.batch_freeze(batch=hz.batch, **admin)
    services.batch_publish(batch=hz.batch, **admin)
    rows = selectors.public_list(Batch.objects.get(pk=hz.batch.pk))
    assert [(r["school"], r["district"], r["basis"]) for r in rows] == [
        ("杭州市第一中学", "市直属", "认定"),  # ordered by district, then school code
        ("杭州市示范中学", "市直属", "自动认定（杭州市智慧教育示范校）"),
        ("西湖区第一小学", "西湖区", "认定"),
    ]
    text = repr(rows)
    assert "张三" not in text and "13800000000" not in text and "xh_reviewer" not in text
