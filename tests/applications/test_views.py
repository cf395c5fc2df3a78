"""Pages and API: the whole form over HTTP, scope crossings, and a constant number of queries."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from edupilot.applications.models import Application, AppState
from edupilot.orgs.models import Role
from tests.conftest import make_school, org

from .conftest import SCHOOL_FORM, Who, upload


def login(client, who):
    client.force_login(who.user)
    return client


def test_applicant_fills_uploads_and_submits_over_http(client, school, henan):
    login(client, school)
    home = client.get("/applications/")
    assert home.status_code == 200
    assert "河南省第二期中小学校“腾讯智慧校园”试点" in home.content.decode()
    r = client.post("/applications/start/", {"programme": henan.code, "category": "school"})
    app = Application.objects.get(applicant_org=school.org)
    assert r["Location"] == f"/applications/{app.pk}/edit/"
    page = client.get(r["Location"]).content.decode()
    assert "盖章的申请表（PDF）" in page and 'name="f-guarantees"' in page

    # A wrong field keeps what was typed and says what is wrong, in Chinese.
    bad = {**SCHOOL_FORM, "f-student_count": "很多", "revision": "0", "action": "save"}
    r = client.post(f"/applications/{app.pk}/edit/", bad)
    html = r.content.decode()
    assert r.status_code == 200
    assert "“学生数”应为数字" in html
    assert 'value="很多"' in html

    # A fake PDF is refused by content; the draft stays as it was.
    app.refresh_from_db()
    fake = upload("scan.pdf", b"not a pdf at all" * 100)
    r = client.post(
        f"/applications/{app.pk}/edit/",
        {**SCHOOL_FORM, "revision": str(app.revision), "action": "save", "a-form_scan": fake},
    )
    assert "不是 PDF 文件" in r.content.decode()
    assert not app.attachments.exists()

    app.refresh_from_db()
    r = client.post(
        f"/applications/{app.pk}/edit/",
        {**SCHOOL_FORM, "revision": str(app.revision), "action": "submit", "a-form_scan": upload()},
    )
    assert r.status_code == 302 and r["Location"] == f"/applications/{app.pk}/"
    app.refresh_from_db()
    assert app.state == AppState.SUBMITTED
    detail = client.get(r["Location"]).content.decode()
    assert "郑州市" in detail and "第 1 版" in detail


def test_autosave_returns_the_new_revision(client, school, henan):
    login(client, school)
    client.post("/applications/start/", {"programme": henan.code, "category": "school"})
    app = Application.objects.get(applicant_org=school.org)
    r = client.post(
        f"/applications/{app.pk}/autosave/",
        {"revision": str(app.revision), "f-principal": "自动保存"},
    )
    assert "已自动保存" in r.content.decode()
    app.refresh_from_db()
    assert app.data["principal"] == "自动保存"
    assert f'value="{app.revision}"' in r.content.decode()


def test_scope_crossings_get_404_and_no_data(client, submitted, other_school):
    att = submitted.attachments.get()
    urls = [
        f"/applications/{submitted.pk}/",
        f"/applications/{submitted.pk}/edit/",
        f"/applications/{submitted.pk}/versions/1/",
        f"/applications/{submitted.pk}/files/{att.pk}/",
        f"/api/v1/applications/{submitted.pk}",
    ]
    intruders = [
        other_school,  # a school of the same county
        Who(org("中原区"), Role.REVIEWER),  # another county of the same city
        Who(org("330100"), Role.REVIEWER),  # another province's city
        Who(org("巩义市"), Role.REVIEWER),  # a province-administered county, outside 郑州市
    ]
    for who in intruders:
        client.force_login(who.user)
        for url in urls:
            r = client.get(url)
            assert r.status_code == 404, (who.org.name, url, r.status_code)
            assert submitted.applicant_org.name.encode() not in r.content
        r = client.post(f"/applications/{submitted.pk}/withdraw/")
        assert r.status_code == 404
        listing = client.get("/api/v1/applications/").json()
        assert all(a["id"] != submitted.pk for a in listing["items"])
    submitted.refresh_from_db()
    assert submitted.state == AppState.SUBMITTED


def test_reviewers_up_the_tree_can_read(client, submitted):
    for who in (
        Who(org("金水区"), Role.REVIEWER),
        Who(org("郑州市"), Role.REVIEWER),
        Who(org("河南省"), Role.REVIEWER),
    ):
        client.force_login(who.user)
        assert client.get(f"/applications/{submitted.pk}/").status_code == 200
        assert (
            client.get(f"/api/v1/applications/{submitted.pk}").json()["applicant"]["name"]
            == submitted.applicant_org.name
        )
        # Reading is not editing: a reviewer cannot change the applicant's data.
        r = client.post(
            f"/applications/{submitted.pk}/edit/", {"f-principal": "x", "revision": "1"}
        )
        assert r.status_code == 404


def test_anonymous_is_sent_to_login(client, submitted):
    r = client.get(f"/applications/{submitted.pk}/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    assert client.get(f"/api/v1/applications/{submitted.pk}").status_code == 401


def test_application_page_issues_a_constant_number_of_queries(client, school, henan):
    from .test_flow import attach, fill, start, submit

    counts = []
    for n in (1, 6):
        who = school if n == 1 else Who(make_school(org("金水区")))
        app = start(who, henan)
        fill(who, app, **{"f-school_name": who.org.name})
        for i in range(n):
            attach(who, app, f=upload(f"第{i}页.pdf", content=None))
        submit(who, app)
        client.force_login(who.user)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/applications/{app.pk}/").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_member_page_lists_only_the_subtree(client, henan):
    county = org("中牟县")
    mine = make_school(county, name="中牟县第一小学")
    make_school(org("金水区"), name="金水区第九小学")
    bureau = Who(county)
    client.force_login(bureau.user)
    client.post("/applications/start/", {"programme": henan.code, "category": "region"})
    app = Application.objects.get(applicant_org=county)
    html = client.get(f"/applications/{app.pk}/members/").content.decode()
    assert mine.name in html and "金水区第九小学" not in html
    r = client.post(f"/applications/{app.pk}/members/", {"member": [str(mine.pk)]})
    assert r.status_code == 302
    assert list(app.members.values_list("org__name", flat=True)) == [mine.name]


def test_english_is_available(client, school):
    login(client, school)
    client.post("/i18n/setlang/", {"language": "en", "next": "/applications/"})
    html = client.get("/applications/").content.decode()
    assert re.search(r'<html lang="en"', html)


def test_applicant_sees_the_return_reasons_and_can_resubmit(client, submitted):
    from edupilot.review import services as review_services

    city = Who(org("郑州市"), Role.REVIEWER)
    review_services.review_return(
        application=submitted,
        scope=city.scope,
        actor=city.actor,
        reasons="请补充无线网络覆盖情况的说明。",
    )
    client.force_login(submitted.created_by)
    html = client.get(f"/applications/{submitted.pk}/").content.decode()
    assert "请补充无线网络覆盖情况的说明。" in html
    assert "已退回修改" in html
    assert f'href="/applications/{submitted.pk}/edit/"' in html


def test_moving_an_org_moves_its_applications_between_reviewers(client, submitted):
    from edupilot.audit.services import Actor
    from edupilot.orgs.services import org_move

    school = submitted.applicant_org
    old_county, new_county = Who(org("金水区"), Role.REVIEWER), Who(org("中原区"), Role.REVIEWER)
    org_move(org=school, new_parent=org("中原区"), actor=Actor.system())
    submitted.refresh_from_db()
    school.refresh_from_db()
    assert submitted.applicant_path == school.path and school.path.startswith(org("中原区").path)
    client.force_login(old_county.user)
    assert client.get(f"/applications/{submitted.pk}/").status_code == 404
    client.force_login(new_county.user)
    assert client.get(f"/applications/{submitted.pk}/").status_code == 200
