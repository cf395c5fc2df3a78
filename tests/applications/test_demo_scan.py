"""The demo's applications carry stamped scans that the upload check reads as this
application's current form (a reviewer opening a demo application sees "verified", not
"未识别到二维码" on every one)."""

from __future__ import annotations

import pytest

from edupilot.applications import demo
from edupilot.applications.formcode import VERIFIED
from edupilot.applications.models import AppState, Attachment
from edupilot.orgs.models import OrgKind
from edupilot.programmes.models import Programme
from tests.conftest import make_school, make_user, org

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("submit", [True, False], ids=["submitted", "draft"])
def test_a_demo_applications_stamped_scan_is_verified(programmes, submit):
    school = make_school(org("410102"))
    make_user(school)
    henan = Programme.objects.get(code="henan-tencent-2019")
    app = demo.make_application(henan, "school", school, submit=submit)
    assert app is not None
    app.refresh_from_db()
    assert (app.state == AppState.DRAFT) is not submit
    form = henan.parsed.form_for(henan.parsed.category("school"))
    stamped = [
        f.key for f in form.all_fields() if f.type == "attachment" and f.kind == "stamped_form"
    ]
    scans = Attachment.objects.filter(application=app, field_key__in=stamped)
    assert scans.exists()
    assert {a.scan_check for a in scans} == {VERIFIED}


@pytest.mark.parametrize("category", ["k12", "higher_ed"])
def test_a_choice_a_rule_ties_to_the_category_is_fitted_before_the_files(programmes, category):
    """Zhejiang's 类别 box must match the category (a submission rule): the demo's filler picks
    the option that passes, so its applications reach the reviewers instead of staying drafts."""
    zhejiang = Programme.objects.get(code="zhejiang-smart-education-2019")
    parent = org("330106") if category == "k12" else org("330000")
    unit = make_school(parent)
    if category == "higher_ed":
        unit.kind = OrgKind.UNIVERSITY
        unit.save()
    make_user(unit)
    app = demo.make_application(zhejiang, category, unit, submit=True)
    assert app is not None
    app.refresh_from_db()
    assert app.state != AppState.DRAFT  # a university's goes straight to the province
    assert app.data["unit_type"] in (
        ("school", "vocational") if category == "k12" else ("higher_ed",)
    )
