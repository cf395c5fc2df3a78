"""The quota allocation table (名额分配表) as XLSX: every bucket, its derivation and its use."""

from __future__ import annotations

import pytest
from django.urls import reverse

from edupilot.audit.services import Actor
from edupilot.orgs.models import Role
from edupilot.programmes.models import QuotaAllocation
from edupilot.programmes.services import quota_override
from tests.conftest import org

from .test_notice_support import (
    body,
    load,
    login,
    recommend,
    reviewer,
    school_in,
    sheet_rows,
    submit_as,
    workbook,
)

pytestmark = pytest.mark.django_db

HEADER = (
    "序号", "类别", "名额层级", "单位", "名额表所列名称", "核算方式", "核算依据数", "公式计算",
    "通知名额表", "人工调整", "调整理由", "调整人", "调整时间", "有效名额", "已推荐", "剩余", "推导",
)  # fmt: skip


@pytest.fixture
def henan(seeded):
    return load("henan-tencent-smart-campus-2019.toml")


@pytest.fixture
def zhejiang(seeded):
    return load("zhejiang-smart-education-2019.toml")


def url(programme, **params):
    u = reverse("documents:quotas", args=[programme.code])
    return u + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_issuer_gets_every_bucket_with_totals_use_and_override(client, henan):
    province = reviewer("410000", Role.PROGRAMME_ADMIN)
    allocation = QuotaAllocation.objects.get(
        programme=henan, category="school", holder=org("开封市"), direct=False
    )
    quota_override(
        allocation=allocation,
        value=12,
        reason="开封市申报学校较多，经研究增加 2 个",
        actor=Actor(user=province.user, org=province.org),
    )
    city = reviewer("郑州市")
    who = school_in(org("金水区"))
    recommend(submit_as(who, henan, "school", school_name=who.org.name), city)

    response = login(client, province).get(url(henan))
    assert response.status_code == 200
    rows = sheet_rows(workbook(body(response)))
    assert rows[0][0] == "河南省第二期中小学校“腾讯智慧校园”试点推荐名额分配表"
    assert rows[1][0].startswith("发文单位：河南省电化教育馆")
    assert rows[2] == HEADER
    data = rows[3:]
    totals = [r for r in data if r[3] == "合计"]
    # Region and school, 28 holders each (17 cities, 济源 and the ten province-administered
    # counties), each closed by a total as in attachment 1: 29 and 218 (+2 by the override).
    assert [(t[1], t[13]) for t in totals] == [("区域试点", 29), ("学校试点", 220)]
    assert len(data) == 2 * 28 + 2
    zz = next(r for r in data if r[1] == "学校试点" and r[3] == "郑州市")
    assert zz[5] == "名额表" and zz[8] == 15 and zz[13] == 15 and zz[14] == 1 and zz[15] == 14
    kf = next(r for r in data if r[1] == "学校试点" and r[3] == "开封市")
    assert kf[8] == 10 and kf[9] == 12 and kf[13] == 12
    assert kf[10] == "开封市申报学校较多，经研究增加 2 个" and kf[11] and kf[12] is not None
    assert totals[1][14] == 1
    # One category only.
    rows = sheet_rows(workbook(body(client.get(url(henan, category="region")))))
    assert {r[1] for r in rows[3:]} == {"区域试点"}


def test_a_city_sees_only_its_own_rows(client, henan):
    rows = sheet_rows(workbook(body(login(client, reviewer("郑州市")).get(url(henan)))))
    assert rows[2][0] == "本表只列出本单位及下级单位的名额。"
    assert {r[3] for r in rows[4:]} == {"郑州市", "合计"}


def test_formula_quotas_show_basis_computed_and_declared(client, zhejiang):
    rows = sheet_rows(
        workbook(body(login(client, reviewer("330000", Role.PROGRAMME_ADMIN)).get(url(zhejiang))))
    )
    wz = next(r for r in rows[3:] if r[1] == "区域试点" and r[3] == "温州市")
    assert wz[5] == "按比例核算" and wz[6] is not None and wz[7] is not None and wz[8] == 3
    assert "20" in (wz[16] or "")
    totals = [r for r in rows[3:] if r[3] == "合计"]
    assert [t[13] for t in totals] == [20, 60]


@pytest.mark.parametrize(
    "who",
    [
        lambda: school_in(org("金水区")),  # an applicant
        lambda: reviewer("金水区"),  # a county: Henan's quotas are held at city level
        lambda: reviewer("杭州市"),  # another province
    ],
)
def test_no_quota_table_out_of_scope(client, henan, who):
    response = login(client, who()).get(url(henan))
    assert response.status_code == 404
