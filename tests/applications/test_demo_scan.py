"""The demo's applications carry stamped scans that the upload check reads as this
application's current form (a reviewer opening a demo application sees "verified", not
"未识别到二维码" on every one)."""

from __future__ import annotations

import pytest

from edupilot.applications import demo
from edupilot.applications.formcode import VERIFIED
from edupilot.applications.models import AppState, Attachment
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
