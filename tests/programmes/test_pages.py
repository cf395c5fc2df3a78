"""Programme, quota and list pages: who sees what, overrides and list imports through the UI."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse, reverse_lazy

from edupilot.audit.models import AuditEvent
from edupilot.orgs.models import Role
from edupilot.programmes.models import ParticipantEntry, ParticipantList, Programme
from tests.conftest import make_school, make_user, org

HENAN = "henan-tencent-2019"
QUANZHOU = "quanzhou-smart-campus-2018"
ZHEJIANG = "zhejiang-smart-education-2019"
HANGZHOU = "hangzhou-smart-campus-certification-2023"
HENGYANG = "hengyang-informatization-pilots-2018"

USERS = {
    # name: (org, role)
    "platform": ("410000", Role.PLATFORM_ADMIN),
    "henan": ("410000", Role.PROGRAMME_ADMIN),
    "zhengzhou": ("410100", Role.PROGRAMME_ADMIN),
    "gongyi": ("410181", Role.PROGRAMME_ADMIN),  # province-administered county
    "quanzhou": ("350500", Role.PROGRAMME_ADMIN),
    "jinjiang": ("350582", Role.PROGRAMME_ADMIN),
    "hengyang_county": ("430421", Role.PROGRAMME_ADMIN),
    "hangzhou": ("330100", Role.PROGRAMME_ADMIN),
    "reviewer": ("410100", Role.REVIEWER),
    "applicant": ("410100", Role.APPLICANT),
    "expert": ("410100", Role.EXPERT),
}


@pytest.fixture
def users(programmes):
    return {
        name: make_user(org(code), role, username=f"p-{name}")
        for name, (code, role) in USERS.items()
    }


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


def visible_codes(client, user) -> set[str]:
    response = get(client, user, reverse("programmes:list"))
    assert response.status_code == 200
    return {r["programme"].code for r in response.context["rows"]}


def test_anonymous_is_sent_to_login(client, programmes):
    for url in (
        reverse("programmes:list"),
        reverse("programmes:detail", args=[HENAN]),
        reverse("programmes:lists"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", ["reviewer", "applicant", "expert"])
def test_other_roles_are_refused_with_a_reason(client, users, name):
    for url in (
        reverse("programmes:list"),
        reverse("programmes:detail", args=[HENAN]),
        reverse("programmes:quotas", args=[HENAN]),
        reverse("programmes:lists"),
    ):
        response = get(client, users[name], url)
        assert response.status_code == 403
        assert "项目管理员" in response.content.decode()


@pytest.mark.parametrize(
    "name, expected",
    [
        ("platform", {HENAN, QUANZHOU, ZHEJIANG, HANGZHOU, HENGYANG}),
        ("henan", {HENAN}),  # issued it
        ("zhengzhou", {HENAN}),  # holds a quota
        ("gongyi", {HENAN}),
        ("quanzhou", {QUANZHOU}),
        ("jinjiang", {QUANZHOU}),
        ("hengyang_county", set()),  # Hengyang's notice gives no quotas
        ("hangzhou", {HANGZHOU, ZHEJIANG}),
    ],
)
def test_programme_list_is_scoped(client, users, name, expected):
    assert visible_codes(client, users[name]) == expected


@pytest.mark.parametrize(
    "name, code",
    [
        ("henan", QUANZHOU),  # another province
        ("zhengzhou", ZHEJIANG),
        ("quanzhou", HENAN),
        ("jinjiang", HENGYANG),
        ("hengyang_county", HENGYANG),
        ("hangzhou", HENAN),
    ],
)
def test_out_of_scope_programmes_are_404(client, users, name, code):
    for page in ("detail", "quotas"):
        response = get(client, users[name], reverse(f"programmes:{page}", args=[code]))
        assert response.status_code == 404
        assert code.encode() not in response.content


def test_quota_rows_are_limited_to_the_subtree_unless_managing(client, users):
    url = reverse("programmes:quotas", args=[HENAN])
    response = get(client, users["zhengzhou"], url)
    assert response.status_code == 200
    holders = {
        ln.row.holder.name
        for cq in response.context["overview"]
        for s in cq.sections
        for ln in s.lines
    }
    assert holders == {"郑州市"}
    body = response.content.decode()
    assert "开封市" not in body and "调整</a>" not in body
    response = get(client, users["henan"], url)
    rows = [ln for cq in response.context["overview"] for s in cq.sections for ln in s.lines]
    assert len(rows) == 56
    assert "通知公布合计 218" in response.content.decode()


def test_zhejiang_quota_page_shows_the_formula_differences(client, users):
    response = get(
        client,
        users["platform"],
        reverse("programmes:quotas", args=[ZHEJIANG]) + "?category=region",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "县（市、区）数 × 20%" in body
    assert "通知发布时 89" in body and "合计 90" in body
    assert "龙港市" in body


def test_detail_page_shows_rules_chain_and_forms(client, users):
    response = get(client, users["quanzhou"], reverse("programmes:detail", args=[QUANZHOU]))
    body = response.content.decode()
    assert response.status_code == 200
    p = Programme.objects.get(code=QUANZHOU)
    assert p.level_deadline("school", "county").strftime("%Y-%m-%d") in body  # shifted
    assert "学校互联网出口带宽小学、幼儿园不低于30M，初中校不低于50M。" in body
    assert "机制创新和保障措施" in body and "约 3000 字" in body
    assert "专家组意见" in body
    assert "演示数据" in body
    hangzhou = get(client, users["hangzhou"], reverse("programmes:detail", args=[HANGZHOU]))
    assert "第二批" in hangzhou.content.decode() and "2025-08-31" in hangzhou.content.decode()


def test_override_through_the_page(client, users):
    p = Programme.objects.get(code=QUANZHOU)
    zone = p.quotas.get(holder__code="350500-KFQ")
    url = reverse("programmes:quota_override", args=[QUANZHOU, zone.pk])
    admin = users["quanzhou"]
    assert get(client, admin, url).status_code == 200
    response = client.post(url, {"value": "2", "reason": "   "})
    assert response.status_code == 400
    assert "调整名额必须填写理由" in response.content.decode()
    assert 'value="2"' in response.content.decode()  # what was typed is kept
    zone.refresh_from_db()
    assert zone.override is None
    response = client.post(url, {"value": "2", "reason": "开发区学校另行分配"})
    assert response.status_code == 302
    zone.refresh_from_db()
    assert (zone.override, zone.effective, zone.overridden_by) == (2, 2, admin)
    event = AuditEvent.objects.get(action="quota.override", object_id=str(zone.pk))
    assert event.actor == admin and event.actor_org == org("350500")
    page = get(client, admin, reverse("programmes:quotas", args=[QUANZHOU])).content.decode()
    assert "开发区学校另行分配" in page


def test_quota_holders_may_not_override(client, users):
    p = Programme.objects.get(code=QUANZHOU)
    own = p.quotas.get(holder__code="350582")
    url = reverse("programmes:quota_override", args=[QUANZHOU, own.pk])
    client.force_login(users["jinjiang"])
    response = client.post(url, {"value": "20", "reason": "想多报"})
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.override is None and own.effective == 9


def test_override_of_another_programmes_row_is_404(client, users):
    henan_row = Programme.objects.get(code=HENAN).quotas.first()
    client.force_login(users["quanzhou"])
    url = reverse("programmes:quota_override", args=[QUANZHOU, henan_row.pk])
    assert client.post(url, {"value": "1", "reason": "x"}).status_code == 404
    url = reverse("programmes:quota_override", args=[HENAN, henan_row.pk])
    assert client.post(url, {"value": "1", "reason": "x"}).status_code == 404
    henan_row.refresh_from_db()
    assert henan_row.override is None


def test_list_pages_are_scoped(client, users):
    phase1 = ParticipantList.objects.get(code="henan_tencent_phase1")
    zz_school = make_school(org("410102"))
    kf_school = make_school(org("410202"))
    for school in (zz_school, kf_school):
        ParticipantEntry.objects.create(plist=phase1, org=school, status="试点")
    url = reverse("programmes:list_detail", args=["henan_tencent_phase1"])
    response = get(client, users["zhengzhou"], url)
    assert response.status_code == 200
    assert [e.org for e in response.context["entries"]] == [zz_school]
    assert not response.context["manage"]
    response = get(client, users["henan"], url)
    assert {e.org for e in response.context["entries"]} == {zz_school, kf_school}
    assert response.context["manage"]
    assert get(client, users["quanzhou"], url).status_code == 404
    listing = get(client, users["zhengzhou"], reverse("programmes:lists"))
    assert {pl.code for pl, _ in listing.context["lists"]} == {
        "henan_tencent_phase1",
        "henan_similar_product",
    }


def test_list_import_through_the_page(client, users):
    url = reverse("programmes:list_import", args=["hengyang_unfinished_pilots"])
    csv = "机构名称,状态,备注\n衡阳县,未验收,2016年省级试点\n耒阳市,,\n".encode()
    hengyang_admin = make_user(org("430400"), Role.PROGRAMME_ADMIN)
    client.force_login(hengyang_admin)
    response = client.post(url, {"file": SimpleUploadedFile("list.csv", csv)})
    assert response.status_code == 200
    assert "新增 2" in response.content.decode()
    assert ParticipantEntry.objects.filter(plist__code="hengyang_unfinished_pilots").count() == 2
    response = client.post(url, {"file": SimpleUploadedFile("list.csv", csv)})
    assert "未变 2" in response.content.decode()
    bad = "机构名称,状态\n衡阳懸,\n".encode()
    response = client.post(url, {"file": SimpleUploadedFile("bad.csv", bad)})
    assert response.status_code == 400
    assert "第 2 行" in response.content.decode()
    # Someone who may read the list but not manage it cannot import.
    client.force_login(users["jinjiang"])
    response = client.post(url, {"file": SimpleUploadedFile("list.csv", csv)})
    assert response.status_code == 404  # Hengyang's list is not even visible to Quanzhou
    assert ParticipantEntry.objects.filter(plist__code="hengyang_unfinished_pilots").count() == 2


def test_nav_shows_programme_pages_to_admins_only(client, users):
    body = get(client, users["quanzhou"], reverse("programmes:list")).content.decode()
    assert f'href="{reverse("programmes:lists")}"' in body
    client.force_login(users["applicant"])
    response = client.get(reverse("core:home"), follow=True)
    assert f'href="{reverse("programmes:list")}"' not in response.content.decode()


@pytest.mark.parametrize(
    "name, url, cap",
    [
        ("platform", reverse_lazy("programmes:list"), 8),
        ("platform", reverse_lazy("programmes:detail", args=[ZHEJIANG]), 8),
        # One count query for all holders of a formula, whatever their number.
        ("platform", reverse_lazy("programmes:quotas", args=[ZHEJIANG]), 15),
        ("henan", reverse_lazy("programmes:quotas", args=[HENAN]), 13),
        ("platform", reverse_lazy("programmes:lists"), 17),  # one count per list (9 lists)
        ("henan", reverse_lazy("programmes:list_detail", args=["henan_tencent_phase1"]), 14),
    ],
)
def test_busy_pages_use_a_bounded_number_of_queries(
    client, users, django_assert_max_num_queries, name, url, cap
):
    client.force_login(users[name])
    client.get(url)  # warm the session
    with django_assert_max_num_queries(cap):
        assert client.get(url).status_code == 200
