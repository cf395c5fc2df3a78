"""Defects seen in the browser (issue 11 §6): the applicant's form."""

from edupilot.applications.models import Application
from edupilot.orgs.models import Role
from tests.conftest import org

from .conftest import SCHOOL_FORM, Who


def test_submit_shows_type_errors_and_missing_fields_at_once(client, school, henan):
    client.force_login(school.user)
    client.post("/applications/start/", {"programme": henan.code, "category": "school"})
    app = Application.objects.get(applicant_org=school.org)
    post = {
        **SCHOOL_FORM,
        "f-student_count": "很多",  # a type error
        "f-principal": "",  # a required field left empty
        "revision": str(app.revision),
        "action": "submit",
    }
    html = client.post(f"/applications/{app.pk}/edit/", post).content.decode()
    assert "“学生数”应为数字" in html
    assert "“校长姓名”为必填项" in html
    assert 'href="#field-principal"' in html and 'href="#field-form_scan"' in html
    # Each message once, although the stored value is checked again at submission.
    assert html.count("<li>“学生数”应为数字</li>") == 1


def test_a_saved_region_draft_picks_members_without_being_told_to_save_first(client, henan):
    county = Who(org("中牟县"), Role.APPLICANT)
    client.force_login(county.user)
    client.post("/applications/start/", {"programme": henan.code, "category": "region"})
    app = Application.objects.get(applicant_org=county.org)
    page = client.get(f"/applications/{app.pk}/edit/").content.decode()
    assert "请先保存草稿" not in page
    assert 'name="goto" value="members"' in page
    # The button saves what was typed on the way to the member list.
    r = client.post(
        f"/applications/{app.pk}/edit/",
        {"f-contact_name": "张老师", "revision": str(app.revision), "goto": "members"},
    )
    assert r.status_code == 302 and r["Location"] == f"/applications/{app.pk}/members/"
    app.refresh_from_db()
    assert app.data.get("contact_name") == "张老师"
