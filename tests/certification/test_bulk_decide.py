"""Issue 11 §6: a district decides several schools at once, each checked as on its page.

Per school, not all-or-nothing: a school that may not take the conclusion is reported with
the reason and left as it was; every decision is audited on its own entry."""

from __future__ import annotations

from django.urls import reverse

from edupilot.audit.models import AuditEvent
from edupilot.certification.models import EntryState

from .conftest import GOOD, export_rows


def url(name, *args):
    return reverse(f"certification:{name}", args=args)


def test_bulk_decision_decides_each_school_and_reports_the_refused(hz, client):
    hz.import_file(export_rows([("HZXH001", "", GOOD)]))
    client.force_login(hz.xihu_reviewer)
    page = client.get(url("entry_list", hz.batch.pk)).content.decode()
    entries = [hz.entry(s) for s in (hz.xh_primary, hz.xh_junior)]
    for e in entries:
        assert f'name="sel" value="{e.pk}"' in page
    r = client.post(
        url("entries_decide", hz.batch.pk),
        {"sel": [e.pk for e in entries], "decision": "certified", "opinion": "各项达标"},
        follow=True,
    )
    html = r.content.decode()
    assert "已对 1 所学校作出认定结论" in html and "：西湖区第一小学" in html
    # The junior school has no data: not certifiable, said so, left undecided.
    assert "西湖区第二中学未作出结论" in html and "不能认定为智慧校园" in html
    assert hz.entry(hz.xh_primary).decision == "certified"
    assert hz.entry(hz.xh_primary).state == EntryState.DECIDED
    assert hz.entry(hz.xh_junior).decision == ""
    audited = AuditEvent.objects.filter(action="certification.decide").values_list(
        "object_id", flat=True
    )
    assert list(audited) == [str(entries[0].pk)]
    # The same two with a conclusion both may take: both decided, one event each.
    client.post(
        url("entries_decide", hz.batch.pk),
        {"sel": [e.pk for e in entries], "decision": "deferred", "opinion": "待补充数据"},
    )
    assert {hz.entry(s).decision for s in (hz.xh_primary, hz.xh_junior)} == {"deferred"}
    assert AuditEvent.objects.filter(action="certification.decide").count() == 3


def test_bulk_decision_checks_the_permission_per_school(hz, client):
    hz.import_file(export_rows([("HZXH001", "", GOOD), ("HZCD001", "", GOOD)]))
    client.force_login(hz.city_reviewer)
    district, direct = hz.entry(hz.xh_primary), hz.entry(hz.cd_senior)
    page = client.get(url("entry_list", hz.batch.pk)).content.decode()
    assert f'name="sel" value="{direct.pk}"' in page
    assert f'name="sel" value="{district.pk}"' not in page  # the city may not decide it
    r = client.post(
        url("entries_decide", hz.batch.pk),
        {"sel": [district.pk, direct.pk], "decision": "certified", "opinion": "达标"},
        follow=True,
    )
    html = r.content.decode()
    assert "由西湖区认定" in html
    assert hz.entry(hz.xh_primary).decision == ""
    assert hz.entry(hz.cd_senior).decision == "certified"


def test_bulk_decision_outside_the_scope_is_404_and_changes_nothing(hz, client):
    client.force_login(hz.xihu_reviewer)
    own, other = hz.entry(hz.xh_primary), hz.entry(hz.sc_primary)
    r = client.post(
        url("entries_decide", hz.batch.pk),
        {"sel": [own.pk, other.pk], "decision": "not_certified", "opinion": "x"},
    )
    assert r.status_code == 404
    assert hz.entry(hz.xh_primary).decision == ""
    # A conclusion and an opinion are required, in Chinese.
    r = client.post(
        url("entries_decide", hz.batch.pk),
        {"sel": [own.pk], "decision": "", "opinion": ""},
        follow=True,
    )
    assert "请选择认定结论并填写认定意见" in r.content.decode()
    assert hz.entry(hz.xh_primary).decision == ""
