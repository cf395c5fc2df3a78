import datetime as dt

import pytest

from edupilot.audit.models import AuditEvent
from edupilot.core.errors import Refused
from edupilot.core.models import Notification
from edupilot.orgs.models import Role
from edupilot.pilots import inspections as ins
from edupilot.pilots.models import InspectionState
from tests.review.conftest import reviewer

from .conftest import issuer_admin, make_pilot

pytestmark = pytest.mark.django_db


def test_schedule_record_respond_close(quanzhou):
    pilot, unit = make_pilot(quanzhou)
    boss = issuer_admin(quanzhou)
    i = ins.inspection_schedule(
        pilot=pilot, mode="site", scheduled_for=dt.date(2030, 5, 6), team="张三、李四",
        scope=boss.scope, actor=boss.actor,
    )  # fmt: skip
    assert i.state == InspectionState.SCHEDULED
    assert Notification.objects.filter(recipient=unit.user, event="pilot.inspection").exists()
    i = ins.inspection_record(
        inspection=i, findings="平台使用率偏低。", demands="提高教师使用率。",
        scope=boss.scope, actor=boss.actor, now=dt.datetime(2030, 5, 6, 2, tzinfo=dt.UTC),
    )  # fmt: skip
    assert i.state == InspectionState.RECTIFYING
    assert i.rectify_by == dt.date(2030, 6, 5)  # rectify_days = 30 from the file
    with pytest.raises(Refused, match="试点单位"):
        ins.inspection_respond(inspection=i, response="x", scope=boss.scope, actor=boss.actor)
    with pytest.raises(Refused, match="整改情况"):
        ins.inspection_respond(inspection=i, response="  ", scope=unit.scope, actor=unit.actor)
    i = ins.inspection_respond(
        inspection=i, response="已组织全员培训。", scope=unit.scope, actor=unit.actor
    )
    assert i.state == InspectionState.ANSWERED
    assert Notification.objects.filter(recipient=boss.user, event="pilot.inspection.respond")
    i = ins.inspection_close(
        inspection=i, conclusion="仍不到位。", again=True, scope=boss.scope, actor=boss.actor
    )
    assert i.state == InspectionState.RECTIFYING
    i = ins.inspection_respond(
        inspection=i, response="再整改。", scope=unit.scope, actor=unit.actor
    )
    i = ins.inspection_close(
        inspection=i, conclusion="整改到位。", scope=boss.scope, actor=boss.actor
    )
    assert i.state == InspectionState.CLOSED and i.closed_at
    actions = set(
        AuditEvent.objects.filter(object_type="pilots.inspection").values_list("action", flat=True)
    )
    assert {
        "pilot.inspection.schedule",
        "pilot.inspection.close",
        "pilot.inspection.demand_again",
    } <= actions


def test_record_without_demands_closes(quanzhou):
    pilot, _unit = make_pilot(quanzhou)
    sup = reviewer(pilot.supervisor)
    i = ins.inspection_schedule(
        pilot=pilot, mode="document", scheduled_for=dt.date(2030, 5, 6), team="王五",
        scope=sup.scope, actor=sup.actor,
    )  # fmt: skip
    i = ins.inspection_record(inspection=i, findings="良好。", scope=sup.scope, actor=sup.actor)
    assert i.state == InspectionState.CLOSED
    with pytest.raises(Refused, match="已结束"):
        ins.inspection_record(inspection=i, findings="again", scope=sup.scope, actor=sup.actor)


def test_who_may_schedule_and_bad_input(quanzhou):
    pilot, unit = make_pilot(quanzhou)
    sibling = reviewer(pilot.unit.parent)  # the county is the supervisor or above it
    boss = issuer_admin(quanzhou)
    with pytest.raises(Refused, match="督导单位"):
        ins.inspection_schedule(pilot=pilot, mode="site", scheduled_for=dt.date(2030, 1, 1),
                                team="x", scope=unit.scope, actor=unit.actor)  # fmt: skip
    with pytest.raises(Refused, match="检查方式"):
        ins.inspection_schedule(pilot=pilot, mode="phone", scheduled_for=dt.date(2030, 1, 1),
                                team="x", scope=boss.scope, actor=boss.actor)  # fmt: skip
    with pytest.raises(Refused, match="检查日期"):
        ins.inspection_schedule(pilot=pilot, mode="site", scheduled_for=None,
                                team="x", scope=boss.scope, actor=boss.actor)  # fmt: skip
    assert not pilot.inspections.exists()
    expert = reviewer(pilot.unit.parent, Role.EXPERT)
    with pytest.raises(Refused):
        ins.inspection_schedule(pilot=pilot, mode="site", scheduled_for=dt.date(2030, 1, 1),
                                team="x", scope=expert.scope, actor=expert.actor)  # fmt: skip
    assert sibling  # a reviewer of the unit's parent may (it is the supervisor's lineage)


def test_the_answer_carries_evidence_files_seen_in_scope_only(quanzhou, client):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from edupilot.pilots import evidence
    from edupilot.pilots.models import InspectionEvidence
    from tests.conftest import pdf_bytes

    pilot, unit = make_pilot(quanzhou)
    other, other_unit = make_pilot(quanzhou)
    boss = issuer_admin(quanzhou)
    i = ins.inspection_schedule(
        pilot=pilot, mode="document", scheduled_for=dt.date(2030, 5, 6), team="张三",
        scope=boss.scope, actor=boss.actor,
    )  # fmt: skip
    i = ins.inspection_record(
        inspection=i, findings="数据未对接。", demands="完成对接并报送佐证。",
        scope=boss.scope, actor=boss.actor,
    )  # fmt: skip

    def pdf(name):
        return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")

    # A fake PDF refuses the whole answer: no file and no text are kept.
    fake = SimpleUploadedFile("假.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    with pytest.raises(Refused):
        evidence.inspection_answer(
            inspection=i, response="已对接。", uploads=[pdf("a.pdf"), fake],
            scope=unit.scope, actor=unit.actor,
        )  # fmt: skip
    i.refresh_from_db()
    assert i.state == InspectionState.RECTIFYING and not i.response
    assert not InspectionEvidence.objects.exists()

    i = evidence.inspection_answer(
        inspection=i, response="已完成数据对接。", uploads=[pdf("对接截图.pdf")],
        scope=unit.scope, actor=unit.actor,
    )  # fmt: skip
    assert i.state == InspectionState.ANSWERED
    (e,) = InspectionEvidence.objects.filter(inspection=i)
    url = reverse("pilots:inspection_evidence", args=[e.pk])
    client.force_login(boss.user)
    assert "对接截图.pdf" in client.get(reverse("pilots:detail", args=[pilot.pk])).text
    got = client.get(url)
    assert got.status_code == 200 and got["Content-Type"] == "application/pdf"
    client.force_login(other_unit.user)  # another pilot's school: not its file
    assert client.get(url).status_code == 404
