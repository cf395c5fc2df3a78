"""Defects seen in the browser (issue 11 §6): the applicant's form."""

from edupilot.applications.models import Application
from edupilot.orgs.models import Role
from tests.conftest import make_school, org

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


def _quanzhou_school(stages=",primary,", parent="晋江市"):
    from edupilot.orgs.models import Locality

    s = make_school(org(parent), stages=stages, locality=Locality.TOWN)
    return Who(s)


def _start(client, who, code, category="school"):
    client.force_login(who.user)
    client.post("/applications/start/", {"programme": code, "category": category})
    return Application.objects.get(applicant_org=who.org)


def test_a_primary_school_cannot_declare_itself_a_secondary_school(client, programmes):
    who = _quanzhou_school()
    app = _start(client, who, "quanzhou-smart-campus-2018")
    assert app.data["school_type"] == ["primary"]  # prefilled from the org tree
    page = client.get(f"/applications/{app.pk}/edit/").content.decode()
    assert 'name="f-school_type"' not in page  # shown, not typed
    client.post(
        f"/applications/{app.pk}/edit/",
        {"f-school_type": ["secondary"], "revision": str(app.revision), "action": "save"},
    )
    app.refresh_from_db()
    assert app.data["school_type"] == ["primary"]
    # The record corrected later: the submission carries the record's value.
    who.org.stages = ",primary,junior,"
    who.org.save()
    from edupilot.applications import services

    services._refresh_locked(app)
    assert app.data["school_type"] == ["secondary", "primary"]


def test_area_comes_from_the_org_tree_not_free_text(client, programmes):
    who = _quanzhou_school()
    app = _start(client, who, "quanzhou-smart-campus-2018")
    assert app.data["area"] == "晋江市"
    client.post(
        f"/applications/{app.pk}/edit/",
        {"f-area": "随便写的地区", "revision": str(app.revision), "action": "save"},
    )
    app.refresh_from_db()
    assert app.data["area"] == "晋江市"
    page = client.get(f"/applications/{app.pk}/edit/").content.decode()
    assert 'name="f-area"' not in page and "晋江市" in page
    # A city-direct school is 市直, as the form's help says.
    direct = _quanzhou_school(parent="泉州市")
    assert _start(client, direct, "quanzhou-smart-campus-2018").data["area"] == "市直"


def test_a_school_the_tree_knows_no_stages_of_still_types_them(programmes):
    from edupilot.applications import prefill
    from edupilot.programmes.models import Programme

    spec = Programme.objects.get(code="quanzhou-smart-campus-2018").parsed
    form = spec.form_for(spec.category("school"))
    known = _quanzhou_school().org
    unknown = _quanzhou_school(stages="").org
    assert prefill.locked_values(form, known) == {"school_type": ["primary"], "area": "晋江市"}
    assert prefill.locked_values(form, unknown) == {"area": "晋江市"}
