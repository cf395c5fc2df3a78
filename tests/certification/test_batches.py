"""Batches: who is in scope, who is exempt, who certifies whom."""

from __future__ import annotations

import datetime as dt

import pytest

from edupilot.audit.models import AuditEvent
from edupilot.certification import selectors, services
from edupilot.certification.models import EntryState
from tests.conftest import make_school

from .conftest import SYSTEM, acting, scope_for, xlsx_bytes


def test_roster_scope_certifiers_and_exemptions(hz):
    entries = {e.school_id: e for e in hz.batch.entries.all()}
    # Kindergartens never enter; a school of another city never enters.
    assert hz.xh_kinder.pk not in entries
    assert hz.ningbo_school.pk not in entries
    # Each district certifies its own schools; the city its city-direct schools.
    assert entries[hz.xh_primary.pk].certifier == hz.xihu
    assert entries[hz.sc_primary.pk].certifier == hz.shangcheng
    assert entries[hz.cd_senior.pk].certifier == hz.city
    # The title holder is certified automatically and kept out of the queue.
    exempt = entries[hz.cd_exempt.pk]
    assert exempt.state == EntryState.EXEMPT and exempt.exempt_title == hz.title
    assert exempt.is_certified and exempt.is_final
    queue = selectors.queue_for(scope_for(hz.city_reviewer, hz.city), hz.batch)
    assert set(queue.values_list("school_id", flat=True)) == {hz.cd_senior.pk, hz.cd_vocational.pk}


def test_exempt_schools_are_not_assessed(hz):
    services.assess_entries(batch=hz.batch)
    exempt = hz.entry(hz.cd_exempt)
    assert exempt.provisional == "pending" and exempt.assessed_at is None
    assert hz.entry(hz.cd_senior).assessed_at is not None


def test_a_batch_refuses_kindergartens_and_late_cutoffs(hz):
    kwargs = dict(
        owner=hz.city,
        name="x",
        standard=hz.standards["zj-sc-2022"],
        **acting(hz.city_admin, hz.city),
    )
    with pytest.raises(services.Refused, match="幼儿园"):
        services.batch_create(
            code="k",
            certification_date=dt.date(2025, 9, 30),
            cutoff=dt.date(2025, 8, 31),
            stages=["primary", "kindergarten"],
            **kwargs,
        )
    with pytest.raises(services.Refused, match="不能晚于认定时间"):
        services.batch_create(
            code="late",
            certification_date=dt.date(2025, 9, 1),
            cutoff=dt.date(2025, 9, 2),
            **kwargs,
        )
    with pytest.raises(services.Refused, match="附加标准"):
        services.batch_create(
            code="vc",
            certification_date=dt.date(2025, 9, 1),
            cutoff=dt.date(2025, 8, 31),
            **{**kwargs, "standard": hz.standards["moe-vc-2020"]},
        )


def test_only_the_owner_admin_creates_batches(hz):
    with pytest.raises(services.Refused, match="项目管理员"):
        services.batch_create(
            owner=hz.city,
            code="hz-2025",
            name="第二批",
            certification_date=dt.date(2025, 9, 30),
            cutoff=dt.date(2025, 8, 31),
            standard=hz.standards["zj-sc-2022"],
            **acting(hz.xihu_admin, hz.xihu),
        )


def test_importing_a_title_list_exempts_its_holders(hz):
    content = xlsx_bytes([["学校代码", "学校名称", "状态"], ["HZSC001", "上城区第一小学", "2023"]])
    report = services.titles_import(
        plist=hz.title,
        content=content,
        filename="示范校.xlsx",
        replace=False,
        **acting(hz.city_admin, hz.city),
    )
    assert report.count("created") == 1
    entry = hz.entry(hz.sc_primary)
    assert entry.state == EntryState.EXEMPT and entry.exempt_title == hz.title
    # Importing the same list again changes nothing.
    again = services.titles_import(
        plist=hz.title,
        content=content,
        filename="示范校.xlsx",
        replace=False,
        **acting(hz.city_admin, hz.city),
    )
    assert not again.changed
    # A district cannot import the city's title list.
    with pytest.raises(services.Refused):
        services.titles_import(
            plist=hz.title,
            content=content,
            filename="x.xlsx",
            replace=False,
            **acting(hz.xihu_admin, hz.xihu),
        )


def test_a_decided_school_is_not_exempted_later(hz):
    entry = hz.entry(hz.sc_primary)
    services.entry_decide(
        entry=entry,
        decision="deferred",
        opinion="数据不全，下批再认定",
        **acting(hz.sc_reviewer, hz.shangcheng),
    )
    services.titles_import(
        plist=hz.title,
        content=xlsx_bytes([["学校代码"], ["HZSC001"]]),
        filename="t.xlsx",
        replace=False,
        **acting(hz.city_admin, hz.city),
    )
    assert hz.entry(hz.sc_primary).state == EntryState.DECIDED


def test_new_schools_join_an_open_batch_and_not_a_frozen_one(hz):
    late = make_school(hz.xihu, "西湖区新建小学", code="HZXH099", stages=",primary,")
    report = services.batch_sync_roster(batch=hz.batch, **acting(hz.city_admin, hz.city))
    assert report.added == 1 and hz.entry(late).certifier == hz.xihu
    services.batch_freeze(batch=hz.batch, **acting(hz.city_admin, hz.city))
    with pytest.raises(services.Refused, match="冻结"):
        services.batch_sync_roster(batch=hz.batch, **acting(hz.city_admin, hz.city))


def test_district_standard_must_derive_from_the_batch_standard(hz):
    with pytest.raises(services.Refused, match="派生标准"):
        services.batch_adopt_standard(
            batch=hz.batch,
            certifier=hz.shangcheng,
            standard=hz.standards["moe-vc-2020"],
            **SYSTEM,
        )
    # Xihu's own admin set Xihu's standard; nobody else may set it for them.
    with pytest.raises(services.Refused, match="项目管理员"):
        services.batch_adopt_standard(
            batch=hz.batch,
            certifier=hz.xihu,
            standard=hz.standards["hz-xihu-2024"],
            **acting(hz.city_admin, hz.city),
        )
    assert AuditEvent.objects.filter(action="certification.standard_adopt").count() == 1
