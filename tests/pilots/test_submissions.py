"""Plans and reports: drafts, submit / return / resubmit / accept with versions kept, lateness,
scope (404 across pilots), the pages and the acceptance hand-in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from edupilot.audit.models import AuditEvent
from edupilot.core.errors import Denied
from edupilot.core.models import Notification
from edupilot.pilots import services
from edupilot.pilots.models import PilotState, Submission, SubmissionVersion
from edupilot.programmes.pilot_schema import ReportsStage
from edupilot.programmes.schema_base import SHANGHAI
from tests.conftest import pdf_bytes
from tests.pilots.submissions_world import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def qz(seeded):
    return build()


APRIL = {"f-progress": "完成平台部署，开展教师培训两次。", "f-users": "320"}


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def save(w, key="school0", period="2026-04", post=None, pilot=0, now=None):
    return services.submission_save(
        pilot=w.pilots[pilot],
        stage_key="monthly",
        period=period,
        post=post if post is not None else APRIL,
        scope=w.scope(key),
        actor=w.actor(key),
        now=now or at(2026, 4, 20),
    )


def test_stage_form_defaults_to_a_required_summary():
    stage = ReportsStage(kind="reports", key="q", name="季度报告", cadence="quarterly")
    (f,) = stage_fields = list(services.stage_form(stage).all_fields())
    assert (f.key, f.type, f.required, f.label) == ("summary", "longtext", True, "情况说明")
    assert len(stage_fields) == 1


def test_draft_made_lazily_with_due_and_keeps_what_was_typed(qz):
    sub, result = save(qz, post={"f-progress": "进展", "f-users": "三百"})
    assert not result.ok and "users" in result.errors
    sub.refresh_from_db()
    assert sub.state == "draft" and sub.kind == "reports"
    assert (sub.period, sub.period_start, sub.period_end) == (
        "2026-04",
        dt.date(2026, 4, 1),
        dt.date(2026, 4, 30),
    )
    assert sub.due_at == at(2026, 4, 25, 23, 59, 59)
    assert sub.data["users"] == "三百"  # kept as typed
    assert AuditEvent.objects.filter(
        action="pilot_submission.create", object_id=str(sub.pk)
    ).exists()


def test_refusals(qz):
    with pytest.raises(services.SubmissionError, match="不在试点周期内"):
        save(qz, period="2031-01")
    with pytest.raises(services.SubmissionError, match="尚未开始"):
        save(qz, period="2026-06", now=at(2026, 4, 20))
    with pytest.raises(Denied):
        save(qz, key="county0")
    with pytest.raises(Denied):  # another school of the same county
        save(qz, key="school1")
    assert not Submission.objects.exists()


def test_submit_return_resubmit_accept_keeps_versions_and_first_time(qz):
    sub, _ = save(qz, post={"f-progress": ""})
    with pytest.raises(services.SubmissionError) as exc:
        services.submission_submit(
            submission=sub, scope=qz.scope("school0"), actor=qz.actor("school0")
        )
    assert "progress" in exc.value.errors
    save(qz)
    services.submission_submit(
        submission=sub, scope=qz.scope("school0"), actor=qz.actor("school0"), now=at(2026, 4, 24)
    )
    sub.refresh_from_db()
    assert sub.state == "submitted" and sub.version == 1
    assert Notification.objects.filter(
        recipient=qz.users["county0"], event="pilot.submission_submitted"
    ).exists()
    # The other county may not decide; the school may not either (403).
    for key in ("county1", "school0"):
        with pytest.raises(Denied):
            services.submission_accept(submission=sub, scope=qz.scope(key), actor=qz.actor(key))
    with pytest.raises(services.SubmissionError, match="请填写退回理由"):
        services.submission_return(
            submission=sub, scope=qz.scope("county0"), actor=qz.actor("county0"), reason="  "
        )
    services.submission_return(
        submission=sub,
        scope=qz.scope("county0"),
        actor=qz.actor("county0"),
        reason="请补充培训人数。",
        now=at(2026, 4, 26),
    )
    sub.refresh_from_db()
    assert sub.state == "returned" and sub.reason == "请补充培训人数。"
    n = Notification.objects.get(recipient=qz.users["school0"], event="pilot.submission_returned")
    assert "请补充培训人数" in n.body
    save(qz, post={"f-progress": "完成平台部署，培训教师 85 人。"}, now=at(2026, 4, 27))
    # The city (the issuer, above the supervising county) accepts the resubmission.
    services.submission_submit(
        submission=sub, scope=qz.scope("school0"), actor=qz.actor("school0"), now=at(2026, 4, 28)
    )
    services.submission_accept(
        submission=sub, scope=qz.scope("city_admin"), actor=qz.actor("city_admin"), reason="好"
    )
    sub.refresh_from_db()
    assert sub.state == "accepted" and sub.version == 2
    assert sub.first_submitted_at == at(2026, 4, 24) and not sub.is_late  # the return does not
    versions = list(
        SubmissionVersion.objects.filter(submission=sub).values_list(
            "number", "outcome", "reason", "data__progress"
        )
    )
    assert versions == [
        (1, "returned", "请补充培训人数。", "完成平台部署，开展教师培训两次。"),
        (2, "accepted", "好", "完成平台部署，培训教师 85 人。"),
    ]
    with pytest.raises(services.SubmissionError):
        save(qz)  # accepted: no more edits


def test_late_first_submission(qz):
    sub, _ = save(qz, now=at(2026, 4, 26))
    services.submission_submit(
        submission=sub, scope=qz.scope("school0"), actor=qz.actor("school0"), now=at(2026, 4, 26)
    )
    sub.refresh_from_db()
    assert sub.is_late


def test_attachment_through_the_blob_store_and_in_the_version(qz):
    from django.core.files.uploadedfile import SimpleUploadedFile

    sub, _ = save(qz)
    bad = SimpleUploadedFile("x.pdf", b"not a pdf", content_type="application/pdf")
    with pytest.raises(services.SubmissionError):
        services.submission_attach(
            submission=sub,
            field_key="evidence",
            upload=bad,
            scope=qz.scope("school0"),
            actor=qz.actor("school0"),
        )
    good = SimpleUploadedFile("培训照片.pdf", pdf_bytes(), content_type="application/pdf")
    services.submission_attach(
        submission=sub,
        field_key="evidence",
        upload=good,
        scope=qz.scope("school0"),
        actor=qz.actor("school0"),
    )
    services.submission_submit(submission=sub, scope=qz.scope("school0"), actor=qz.actor("school0"))
    (v,) = SubmissionVersion.objects.filter(submission=sub)
    assert [a["filename"] for a in v.attachments] == ["培训照片.pdf"]


def test_acceptance_hand_in_opens_the_acceptance_and_return_reopens(qz):
    pilot = qz.pilots[0]
    stage = pilot.spec.stage_of("acceptance")  # Quanzhou's 评估考核: no fields, a summary
    assert not stage.fields
    sub, _ = services.submission_save(
        pilot=pilot,
        stage_key=stage.key,
        post={"f-summary": "两年试点工作总结。"},
        scope=qz.scope("school0"),
        actor=qz.actor("school0"),
        now=at(2027, 12, 1),
    )
    # The file's materials are upload slots: the required 试点工作总结 is missing.
    with pytest.raises(services.SubmissionError) as refused:
        services.submission_submit(
            submission=sub, scope=qz.scope("school0"), actor=qz.actor("school0")
        )
    assert "试点工作总结" in str(refused.value.errors)
    for m in stage.materials:
        services.submission_attach(
            submission=sub,
            field_key=services.material_key(m.key),
            upload=SimpleUploadedFile(f"{m.name}.pdf", pdf_bytes(), content_type="application/pdf"),
            scope=qz.scope("school0"),
            actor=qz.actor("school0"),
        )
    services.submission_submit(submission=sub, scope=qz.scope("school0"), actor=qz.actor("school0"))
    pilot.refresh_from_db()
    assert pilot.state == PilotState.ACCEPTANCE
    who = "city_admin" if stage.approver == "issuer" else "county0"
    sub.refresh_from_db()
    ok, reason = services.can_accept_submission(qz.scope(who), sub)
    assert not ok and "评定验收等级" in reason
    services.submission_return(
        submission=sub, scope=qz.scope(who), actor=qz.actor(who), reason="材料不全"
    )
    pilot.refresh_from_db()
    assert pilot.state == PilotState.ACTIVE


# --- pages and scope ----------------------------------------------------------------------------


def client_for(w, key) -> Client:
    c = Client()
    c.force_login(w.users[key])
    return c


def test_pages_scope_and_buttons(qz):
    sub, _ = save(qz, now=dt.datetime.now(tz=SHANGHAI).replace(year=2026, month=4, day=20))
    other, _ = save(qz, key="school2", pilot=2)
    school = client_for(qz, "school0")
    page = school.get(reverse("pilots:detail", args=[qz.pilots[0].pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "月度工作进展" in html and "2026-04-25" in html
    assert school.get(reverse("pilots:submission", args=[sub.pk])).status_code == 200
    # A school never sees another pilot's submissions; a county only its own pilots'.
    assert school.get(reverse("pilots:submission", args=[other.pk])).status_code == 404
    county = client_for(qz, "county0")
    assert county.get(reverse("pilots:submission", args=[sub.pk])).status_code == 200
    assert county.get(reverse("pilots:submission", args=[other.pk])).status_code == 404
    # Fill and submit through the page; then the county sees 通过 / 退回.
    r = school.post(reverse("pilots:submission", args=[sub.pk]), {**APRIL, "action": "submit"})
    assert r.status_code == 302
    html = county.get(reverse("pilots:submission", args=[sub.pk])).content.decode()
    assert "审核通过" in html and "退回修改" in html
    r = county.post(reverse("pilots:submission_return", args=[sub.pk]), {"reason": ""})
    assert r.status_code == 302
    sub.refresh_from_db()
    assert sub.state == "submitted"  # no reason: refused, nothing changed
    county.post(reverse("pilots:submission_return", args=[sub.pk]), {"reason": "补充数据"})
    sub.refresh_from_db()
    assert sub.state == "returned"


def test_new_form_page_and_bad_input_kept(qz):
    school = client_for(qz, "school0")
    url = reverse("pilots:submission_new", args=[qz.pilots[0].pk, "plan"])
    assert school.get(url).status_code == 200
    r = school.post(
        url,
        {
            "f-results": "预期成果",
            "f-budget-rows": "1",
            "f-budget-0-item": "设备",
            "f-budget-0-amount": "很多",
            "action": "save",
        },
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert "很多" in html and "应为数字" in html
    assert Submission.objects.get(stage="plan").data["results"] == "预期成果"
    assert client_for(qz, "county0").get(url).status_code == 403
    assert (
        school.get(reverse("pilots:submission_new", args=[qz.pilots[2].pk, "plan"])).status_code
        == 404
    )
