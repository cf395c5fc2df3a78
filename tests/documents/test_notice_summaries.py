"""Summary tables (汇总表) as XLSX: per reviewing org, the notice's columns, rank order, scope."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from edupilot.core.jobs import job_start
from edupilot.core.models import Job, JobState
from edupilot.documents import summaries
from edupilot.orgs.models import Role
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


@pytest.fixture
def zhejiang(seeded):
    return load("zhejiang-smart-education-2019.toml")


@pytest.fixture
def henan(seeded):
    return load("henan-tencent-smart-campus-2019.toml")


@pytest.fixture
def hengyang(seeded):
    return load("hengyang-informatization-pilots-2018.toml")


def summary_url(programme, key, **params):
    url = reverse("documents:summary", args=[programme.code, key])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def zj_school(zhejiang, county, name, leader):
    who = school_in(org(county), name=name)
    return submit_as(
        who,
        zhejiang,
        "k12",
        unit_type="school",
        unit_name=name,
        leader_name=leader,
        leader_post="校长",
        contact_name=f"{leader[0]}老师",
        address=f"{county}学院路1号",
    )


def test_city_table_has_the_notice_layout_in_rank_order(client, zhejiang):
    """Zhejiang attachment 3, filled by 杭州市 for what it recommends."""
    a = zj_school(zhejiang, "西湖区", "杭州市西湖区甲校", "甲校长")
    b = zj_school(zhejiang, "拱墅区", "杭州市拱墅区乙校", "乙校长")
    c = zj_school(zhejiang, "西湖区", "杭州市西湖区丙校", "丙校长")
    recommend(a, reviewer("西湖区"))
    recommend(c, reviewer("西湖区"))
    recommend(b, reviewer("拱墅区"))
    city = reviewer("杭州市")
    city.user.full_name = "杭州填表人"
    city.user.save(update_fields=["full_name"])
    recommend(a, city)
    recommend(b, city, rank=1)  # 乙 first, then 甲; 丙 still waits at the city
    response = login(client, city).get(summary_url(zhejiang, "city_summary"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    ws = workbook(body(response))
    rows = sheet_rows(ws)
    assert rows[0][0] == "浙江省区域和学校整体推进智慧教育综合试点申报汇总表"
    assert rows[1][0].startswith("申报单位（盖章）：杭州市") and "填表人：杭州填表人" in rows[1][0]
    # Grouped header: 试点工作负责人 over 姓名/职务/联系电话/电子邮箱, the rest merged down.
    assert rows[2][:6] == (
        "试点单位",
        "试点类别（区域/学校）",
        "试点选题",
        "通讯地址",
        "邮编",
        "试点工作负责人",
    )
    assert rows[3][5:9] == ("姓名", "职务", "联系电话", "电子邮箱")
    assert rows[2][9] == "试点工作联系人" and rows[2][13] == "备注"
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"F3:I3", "J3:M3", "A3:A4", "N3:N4"} <= merged
    data = rows[4:]
    assert [r[0] for r in data] == ["杭州市拱墅区乙校", "杭州市西湖区甲校"]
    assert data[0][1] == "中小学校（含中职）试点"
    assert data[0][3] == "拱墅区学院路1号" and data[0][4] == "310000"
    assert data[0][5:7] == ("乙校长", "校长") and data[0][9] == "乙老师"
    assert data[0][13] is None


def test_each_org_gets_its_own_table_and_cannot_cross(client, henan):
    zz = school_in(org("金水区"), name="郑州市金水区汇总小学")
    kf = school_in(org("龙亭区"), name="开封市龙亭区汇总小学")
    a = submit_as(zz, henan, "school", school_name=zz.org.name)
    b = submit_as(kf, henan, "school", school_name=kf.org.name)
    zhengzhou, kaifeng = reviewer("郑州市"), reviewer("开封市")
    recommend(a, zhengzhou)
    recommend(b, kaifeng)

    login(client, zhengzhou)
    rows = sheet_rows(workbook(body(client.get(summary_url(henan, "city_school_summary")))))
    names = [r[1] for r in rows[4:]]
    assert names == ["郑州市金水区汇总小学"]
    assert rows[4][0] == 1 and rows[4][2] == "金水区"  # 推荐排序, 所在县（市、区）
    # Another city's table by URL: 404, no data. Its own "all" is its own subtree only.
    assert (
        client.get(summary_url(henan, "city_school_summary", org=org("开封市").pk)).status_code
        == 404
    )
    rows = sheet_rows(
        workbook(body(client.get(summary_url(henan, "city_school_summary", org="all"))))
    )
    assert [r[2] for r in rows[5:]] == ["郑州市金水区汇总小学"]

    # A county below the city cannot take the city's table; another province sees nothing.
    login(client, reviewer("金水区"))
    assert (
        client.get(summary_url(henan, "city_school_summary", org=org("郑州市").pk)).status_code
        == 404
    )
    login(client, reviewer("杭州市"))
    assert client.get(summary_url(henan, "city_school_summary")).status_code == 404
    # Applicants and experts have no summary tables.
    login(client, zz)
    assert client.get(summary_url(henan, "city_school_summary")).status_code == 404
    login(client, reviewer("郑州市", Role.EXPERT))
    assert client.get(summary_url(henan, "city_school_summary")).status_code == 404

    # The province: one city's table, or all of them with the recommending org in front.
    province = reviewer("410000", Role.PROGRAMME_ADMIN)
    login(client, province)
    rows = sheet_rows(
        workbook(body(client.get(summary_url(henan, "city_school_summary", org=org("开封市").pk))))
    )
    assert [r[1] for r in rows[4:]] == ["开封市龙亭区汇总小学"]
    rows = sheet_rows(
        workbook(body(client.get(summary_url(henan, "city_school_summary", org="all"))))
    )
    assert rows[2][0] == "汇总范围：河南省辖区内各推荐单位" and rows[3][0] == "推荐单位"
    assert [(r[0], r[2]) for r in rows[5:]] == [
        ("郑州市", "郑州市金水区汇总小学"),
        ("开封市", "开封市龙亭区汇总小学"),
    ]
    page = client.get(reverse("documents:index")).content.decode()
    assert "河南省第二期“腾讯智慧校园”试点学校推荐汇总表" in page
    assert f"org={org('开封市').pk}" in page


def test_county_bureau_lists_its_own_bid_on_its_table(client, hengyang):
    """Hengyang attachment 1: the county bureau's table holds the bids it passes on, its own too."""
    county = org("耒阳市")
    school = school_in(county, name="耒阳市信息化实验学校")
    a = submit_as(
        school, hengyang, "unit", applicant_name=school.org.name, project_name="网络联校应用"
    )
    bureau = reviewer(county, Role.APPLICANT)
    submit_as(
        bureau, hengyang, "county", applicant_name="耒阳市教育局", project_name="区域智慧教育"
    )
    recommend(a, reviewer(county))
    rows = sheet_rows(
        workbook(body(login(client, reviewer(county)).get(summary_url(hengyang, "county_summary"))))
    )
    assert rows[1][0] == "县市区教育局名称（盖章）：耒阳市"
    assert rows[2] == ("序号", "申报单位", "申报类别", "申报项目名称", "申报负责人")
    assert [r[:2] for r in rows[3:]] == [(1, "耒阳市信息化实验学校"), (2, "耒阳市教育局")]
    assert rows[3][3] == "网络联校应用" and rows[3][2]


def test_large_tables_run_in_the_background(
    client, henan, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(summaries, "DIRECT_MAX_ROWS", 1)
    city = reviewer("郑州市")
    for name in ("郑州市金水区后台一小", "郑州市金水区后台二小"):
        who = school_in(org("金水区"), name=name)
        recommend(submit_as(who, henan, "school", school_name=name), city)
    login(client, city)
    page = client.get(summary_url(henan, "city_school_summary"))
    assert page.status_code == 200 and "后台生成" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(summary_url(henan, "city_school_summary"), {"org": org("郑州市").pk})
    job = Job.objects.get(created_by=city.user)
    assert response.status_code == 302 and response.url == reverse("core:job_detail", args=[job.pk])
    assert job.state == JobState.DONE, job.error
    assert job.done == job.total == 2
    rows = sheet_rows(workbook(body(client.get(reverse("core:job_download", args=[job.pk])))))
    assert [r[1] for r in rows[4:]] == ["郑州市金水区后台一小", "郑州市金水区后台二小"]
    # Another city's table by POST: 404 and no job.
    response = client.post(summary_url(henan, "city_school_summary"), {"org": org("开封市").pk})
    assert response.status_code == 404
    assert Job.objects.filter(created_by=city.user).count() == 1
    # A job started with such parameters anyway re-enters the starter's scope and fails.
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(
            "documents.summary_xlsx",
            actor=city.actor,
            scope=city.scope,
            params={
                "programme": henan.code,
                "table": "city_school_summary",
                "org": str(org("开封市").pk),
            },
        )
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "无权查看" in job.error_public
    assert not job.result_path


def test_export_queries_do_not_grow_with_rows(henan):
    city = reviewer("郑州市")
    spec = summaries.access_summary_spec(henan, "city_school_summary")
    target = summaries.summary_target(city.scope, None)

    def count_queries():
        export = summaries.SummaryExport(scope=city.scope, spec=spec, target=target)
        with CaptureQueriesContext(connection) as ctx:
            rows = list(export.rows())
        return len(rows), len(ctx.captured_queries)

    for _ in range(2):
        who = school_in(org("金水区"))
        recommend(submit_as(who, henan, "school", school_name=who.org.name), city)
    n2, q2 = count_queries()
    for _ in range(4):
        who = school_in(org("二七区"))
        recommend(submit_as(who, henan, "school", school_name=who.org.name), city)
    n6, q6 = count_queries()
    assert (n2, n6) == (2, 6)
    assert q2 == q6 <= 4
