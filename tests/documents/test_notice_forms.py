"""Application forms as PDF, laid out like the notices' forms, with each level's opinion box.

Each PDF is read back the way a person would meet it: its pages rendered to pixels (Chinese
must render on this machine, not as blank boxes) and its text extracted.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from edupilot.applications import services as app_services
from edupilot.orgs.models import Locality, Role
from edupilot.selection import announcements as ann_services
from edupilot.selection import approval, scoring
from tests.conftest import make_school, org
from tests.selection.test_experts_support import expert_panel, score_by

from .test_notice_support import (
    body,
    dark_pixels,
    label_column_text,
    load,
    login,
    pdf_pages,
    pdf_text,
    recommend,
    reviewer,
    school_in,
    squeeze,
    submit_as,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def zhejiang(seeded):
    return load("zhejiang-smart-education-2019.toml")


@pytest.fixture
def henan(seeded):
    return load("henan-tencent-smart-campus-2019.toml")


@pytest.fixture
def quanzhou(seeded):
    return load("quanzhou-smart-campus-2018.toml")


PLAN = "\n".join(
    f"第{i}部分：西湖区实验学校围绕智慧课堂、数据治理与教师发展开展试点，形成可推广的经验和案例。"
    for i in range(1, 121)
)


def form_url(app, **params):
    url = reverse("documents:application_form", args=[app.pk])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


@pytest.fixture
def xihu_app(zhejiang):
    """A Zhejiang K-12 bid from 西湖区 with a long plan, recommended by the county."""
    school = school_in(org("西湖区"), name="杭州市西湖区智慧实验学校")
    app = submit_as(
        school,
        zhejiang,
        "k12",
        unit_type="school",
        unit_name="杭州市西湖区智慧实验学校",
        leader_name="周校长",
        plan=PLAN,
    )
    county = reviewer("西湖区")
    county.user.full_name = "西湖区审核员甲"
    county.user.save(update_fields=["full_name"])
    recommend(app, county, opinion="经审核，该校基础扎实，同意推荐。")
    return app, school, county


def test_form_pdf_prints_the_notice_form_with_long_text_in_full_and_opinions(client, xihu_app):
    app, school, county = xihu_app
    response = login(client, county).get(form_url(app))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    data = body(response)
    text = pdf_text(data)
    flat = squeeze(text)
    # The notice's title, the sections as the form has them, the typed values.
    assert "浙江省区域和学校整体推进智慧教育综合试点申报表" in text
    assert "申报单位（盖章）：杭州市西湖区智慧实验学校" in text
    for label in ("单位基本情况", "单位负责人", "项目联系人", "智慧教育试点方案", "周校长"):
        assert label in text
    # The choice as tick boxes: 中小学校 ticked, 区域 not.
    assert "■中小学校" in flat and "□区域" in flat
    # The 6,000-character plan, in full, over several pages.
    assert squeeze(PLAN) in flat
    assert pdf_pages(data) >= 3
    # The stamped scan is listed with its size and checksum.
    assert "申请表.pdf" in text and "SHA-256" in text
    # The county's box carries what it recorded; the city's box is still blank to sign.
    labels = label_column_text(data)
    assert "县（市、区）教育局意见" in labels and "设区市教育局意见" in labels
    assert "经审核，该校基础扎实，同意推荐。" in flat
    assert "西湖区审核员甲" in flat and "推荐排序第1名" in flat
    assert text.count("（公章）") == 2
    assert "第 1 版" in text
    # Chinese renders as ink, not blank boxes: the title band of page 1 is dark.
    assert dark_pixels(data) > 500


def test_the_applicant_prints_its_own_form_and_versions_are_checked(client, xihu_app):
    app, school, _ = xihu_app
    login(client, school)
    assert client.get(form_url(app, version=1)).status_code == 200
    assert client.get(form_url(app, version=2)).status_code == 404
    assert client.get(form_url(app, version="x")).status_code == 404


@pytest.mark.parametrize(
    "who",
    [
        lambda: school_in(org("西湖区"), name="杭州市西湖区另一所学校"),  # another school
        lambda: reviewer("拱墅区"),  # another county of the same city
        lambda: reviewer("宁波市"),  # another city
        lambda: reviewer("郑州市"),  # another province
        lambda: reviewer("西湖区", Role.EXPERT),  # an expert is not given forms by org
    ],
)
def test_out_of_scope_gets_404_and_no_pdf(client, xihu_app, who):
    app, _, _ = xihu_app
    response = login(client, who()).get(form_url(app))
    assert response.status_code == 404
    assert b"%PDF" not in response.content


def test_anonymous_is_sent_to_login(client, xihu_app):
    app, _, _ = xihu_app
    response = client.get(form_url(app))
    assert response.status_code == 302 and "login" in response.url


def test_a_draft_prints_with_blank_boxes_for_stamping_before_submission(client, henan):
    school = school_in(org("金水区"), name="郑州市金水区草稿小学")
    app = app_services.application_start(
        programme=henan, category_code="school", scope=school.scope, actor=school.actor
    )
    from tests.review.conftest import valid_post

    app_services.application_save_draft(
        application=app,
        post=valid_post(henan, "school", school_name="郑州市金水区草稿小学", principal="赵校长"),
        scope=school.scope,
        actor=school.actor,
    )
    response = login(client, school).get(form_url(app))
    data = body(response)
    text, labels = squeeze(pdf_text(data)), label_column_text(data)
    assert response.status_code == 200
    assert "河南省第二期“腾讯智慧校园”试点学校申请表" in text
    # The working copy prints as the version its submission will be, for stamping.
    assert "赵校长" in text and "第1版（尚未提交，盖章后扫描上传）" in text
    for title in ("学校意见", "省辖市、直管县（市）电教馆（中心）推荐意见", "省电化教育馆审定意见"):
        assert title in labels
    # Three boxes, none filled: no reviewer; blank date lines to write by hand in the three
    # boxes and on the 填报日期 line.
    assert "审核人" not in text
    assert "填报日期：年月日" in text and text.count("年月日") == 4
    # The detail page offers the download.
    page = client.get(reverse("applications:detail", args=[app.pk])).content.decode()
    assert form_url(app) in page


def test_region_bid_lists_its_member_schools(client, henan):
    county = org("中牟县")
    members = [
        make_school(county, name=f"中牟县试点{'城区' if i % 2 else '乡村'}学校{i}",
                    locality=Locality.URBAN if i % 2 else Locality.RURAL)
        for i in range(1, 9)
    ]  # fmt: skip
    applicant = reviewer(county, Role.APPLICANT)
    app = submit_as(applicant, henan, "region", members=members, region_name="中牟县")
    text = squeeze(pdf_text(body(login(client, applicant).get(form_url(app)))))
    assert "参加试点的学校（共8所）" in text
    for m in members:
        assert m.name in text
    assert "乡村" in text and "城区" in text


def test_expert_and_issuer_boxes_are_filled_for_the_issuer_only(client, quanzhou):
    """Quanzhou's form has four boxes: school, county, expert group, city."""
    school = school_in(org("晋江市"), name="晋江市实验中心小学")
    app = submit_as(school, quanzhou, "school", school_name="晋江市实验中心小学")
    recommend(app, reviewer("晋江市"), opinion="晋江市教育局同意推荐。")
    city = reviewer("泉州市", Role.PROGRAMME_ADMIN)
    scoring.expert_group_opinion_record(
        application=app,
        text="专家组认为该校方案可行，建议立项。",
        signed_by="专家甲、专家乙",
        scope=city.scope,
        actor=city.actor,
    )
    # The seed's panel needs all five scores before the city approves.
    score_by(app, expert_panel(quanzhou, city, 5), city)
    approval.selection_decide(
        applications=[app], outcome="approve", opinion="同意列为试点校。", scope=city.scope,
        actor=city.actor,
    )  # fmt: skip
    ann_services.announcement_publish(programme=quanzhou, scope=city.scope, actor=city.actor)

    data = body(login(client, city).get(form_url(app)))
    text = squeeze(pdf_text(data))
    assert "专家组意见" in label_column_text(data) and "专家组认为该校方案可行，建议立项。" in text
    assert "专家组成员：专家甲、专家乙" in text
    assert "晋江市教育局同意推荐。" in text
    assert "同意列为试点校。" in text and "审定结果：同意立项" in text

    data = body(login(client, school).get(form_url(app)))
    mine = squeeze(pdf_text(data))
    assert "专家组意见" in label_column_text(data)
    assert "专家组认为该校方案可行" not in mine and "专家甲" not in mine
    # The city's decision was published: the applicant sees it on its own form.
    assert "同意列为试点校。" in mine


def test_quanzhou_expert_group_box_is_filled_from_the_page_for_both_city_roles(client, quanzhou):
    """Issue 11 §6: the group's opinion recorded through the selection page is printed in the
    form's 专家组意见 box, for the city's programme admin and its reviewers alike, and a new
    record replaces it in the next download (the stored PDF is keyed by what it prints)."""
    school = school_in(org("晋江市"), name="晋江市专家组意见小学")
    app = submit_as(school, quanzhou, "school", school_name="晋江市专家组意见小学")
    recommend(app, reviewer("晋江市"), opinion="同意推荐。")
    admin = reviewer("泉州市", Role.PROGRAMME_ADMIN)
    url = reverse("selection:group_opinion", args=[app.pk])
    posted = {"text": "专家组一致认为该校基础扎实，建议立项。", "signed_by": "专家丙、专家丁"}
    assert login(client, admin).post(url, posted).status_code == 302
    for who in (admin, reviewer("泉州市")):
        text = squeeze(pdf_text(body(login(client, who).get(form_url(app)))))
        assert "专家组一致认为该校基础扎实，建议立项。" in text, who.scope.role
        assert "专家组成员：专家丙、专家丁" in text
    login(client, admin).post(url, {**posted, "text": "专家组复议：同意立项。"})
    text = squeeze(pdf_text(body(client.get(form_url(app)))))
    assert "专家组复议：同意立项。" in text and "建议立项。" not in text
    # The county that recommended it does not read the panel's working record.
    county = squeeze(pdf_text(body(login(client, reviewer("晋江市")).get(form_url(app)))))
    assert "专家组复议" not in county
