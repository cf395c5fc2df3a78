"""The public portal (公开信息): / for visitors, /public/ with search, a call's public page,
the member schools of a bid on a 公示, the refusal of personal data in a 公示's text, and the
Chinese error pages (DEBUG off, as in production)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views import defaults

from edupilot.applications.models import ApplicationMember
from edupilot.orgs.models import Role
from edupilot.selection import announcements as ann
from edupilot.selection import approval
from edupilot.selection.models import Announcement
from edupilot.selection.public_text import personal_data_in
from tests.conftest import make_school, org
from tests.selection.test_experts_support import henan_school, load_henan, who

pytestmark = pytest.mark.django_db

# The Henan notice's contact person: on the notice, never on the portal.
CONTACT = ["许恒娟", "0371-66329808", "hndjxtb@163.com"]


@pytest.fixture
def henan(programmes):
    return load_henan()


@pytest.fixture
def issuer(henan):
    return who("410000", Role.PROGRAMME_ADMIN)


@pytest.fixture
def published(henan, issuer):
    """A 公示 of one school, which names two member schools (as a region bid would)."""
    a1 = henan_school(henan, parent="金水区", name="郑州市金水区门户第一小学")
    approval.selection_decide(
        applications=[a1], outcome="approve", opinion="同意", scope=issuer.scope,
        actor=issuer.actor,
    )  # fmt: skip
    for name in ("郑州市金水区成员甲小学", "郑州市金水区成员乙小学"):
        ApplicationMember.objects.create(application=a1, org=make_school(org("金水区"), name=name))
    return ann.announcement_publish(programme=henan, scope=issuer.scope, actor=issuer.actor)


def test_visitors_get_the_portal_with_every_section(client, henan, published):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("征集通知", "公示", "最终名单", "智慧校园认定名单", henan.title, published.title):
        assert text in body, text
    assert reverse("public_index") in body and reverse("accounts:login") in body
    assert not [c for c in CONTACT if c in body]


def test_a_logged_in_user_still_goes_to_their_desk(client, henan):
    client.force_login(who("金水区", Role.REVIEWER).user)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "q,found",
    [
        ("门户第一", True),  # a listed unit's name
        ("成员甲", False),  # member schools are shown on the 公示, not searched
        ("腾讯智慧校园", True),  # the programme's title
        ("没有这个名字", False),
    ],
)
def test_public_search(client, published, q, found):
    response = client.get(reverse("public_index"), {"q": q, "section": "announcements"})
    assert response.status_code == 200
    assert (published.title in response.content.decode()) is found


@pytest.mark.parametrize("q", ["\x00", "门户\x00第一", "\x01\x02", "长" * 5000, "%_\\"])
def test_search_takes_any_text(client, published, q):
    response = client.get(reverse("public_index"), {"q": q})
    assert response.status_code == 200
    assert len(response.context["q"]) <= 50 and "\x00" not in response.context["q"]
    for name in ("selection_public:list", "certification_public:index", "programmes_public:list"):
        assert client.get(reverse(name), {"q": q}).status_code == 200


def test_a_call_has_a_public_page_without_its_contacts(client, henan):
    response = client.get(reverse("programmes_public:detail", args=[henan.code]))
    assert response.status_code == 200
    body = response.content.decode()
    assert henan.title in body and "河南省电化教育馆" in body
    assert "区域试点" in body and henan.parsed.summary[:20] in body
    assert not [c for c in CONTACT if c in body]
    assert client.get(reverse("programmes_public:detail", args=["nope"])).status_code == 404


def test_the_public_announcement_lists_member_schools(client, published):
    body = client.get(reverse("selection_public:detail", args=[published.pk])).content.decode()
    assert "郑州市金水区成员甲小学" in body and "郑州市金水区成员乙小学" in body
    assert "成员学校 2 所" in body


@pytest.mark.parametrize(
    "text",
    [
        "联系电话：13838001234",
        "联系电话：138 3800 1234",
        "咨询电话（0371）65901234",
        "电话 0371-65901234",
        "邮箱 hndjxtb@163.com",
        "身份证号 410105199001011234",
        "身份证号 41010519900101123X",
    ],
)
def test_personal_data_is_found(text):
    assert personal_data_in(text)


@pytest.mark.parametrize(
    "text",
    [
        "公示期 2019-10-08 至 2019-10-15，豫电教馆〔2018〕73号。",
        "共 218 所学校、29 个区域，名单编号 20191008001。",
        "",
    ],
)
def test_ordinary_text_is_not_personal_data(text):
    assert personal_data_in(text) == []


def test_publishing_refuses_personal_data_and_keeps_the_text(client, henan, issuer):
    a1 = henan_school(henan, parent="金水区", name="郑州市金水区拒绝小学")
    approval.selection_decide(
        applications=[a1], outcome="approve", opinion="同意", scope=issuer.scope,
        actor=issuer.actor,
    )  # fmt: skip
    client.force_login(issuer.user)
    intro = "如有异议请联系王老师，电话 13838001234。"
    url = reverse("selection:announcements", args=[henan.pk])
    response = client.post(url, {"title": "关于试点名单的公示", "intro": intro})
    assert response.status_code == 400
    body = response.content.decode()
    assert "不能包含电话号码" in body and intro in body and "关于试点名单的公示" in body
    assert not Announcement.objects.filter(programme=henan).exists()
    fields = {"title": "关于试点名单的公示", "intro": "请书面反映。"}
    assert "确认发布" in client.post(url, fields).content.decode()  # asked first
    assert not Announcement.objects.filter(programme=henan).exists()
    response = client.post(url, {**fields, "confirm": "yes"})
    assert response.status_code == 302
    assert Announcement.objects.filter(programme=henan).count() == 1


@pytest.fixture
def production(settings):
    settings.DEBUG = False


def test_404_is_in_chinese(client, production, seeded):
    response = client.get("/public/calls/no-such-call/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "页面不存在" in body and 'name="viewport"' in body and "no-such-call" not in body


def test_403_is_in_chinese(client, production, seeded):
    client.force_login(who("郑州市", Role.REVIEWER).user)  # a reviewer opens no batch
    response = client.get("/certification/batches/new/")
    assert response.status_code == 403
    assert "无权" in response.content.decode()


def test_500_needs_no_database(django_db_blocker, production):
    request = RequestFactory().get("/")
    with django_db_blocker.block():
        response = defaults.server_error(request)
    assert response.status_code == 500
    body = response.content.decode()
    assert "服务器出错" in body and 'name="viewport"' in body and "edupilot.css" in body
