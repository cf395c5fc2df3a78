"""The applicant's path through the Henan school pilot, with the bad inputs along it."""

import datetime as dt

import pytest
from django.http import QueryDict

from edupilot.applications import services
from edupilot.applications.models import Application, ApplicationVersion, AppState, Attachment, Blob
from edupilot.audit.services import audit_verify
from edupilot.orgs.models import Org
from edupilot.programmes.models import ParticipantEntry, ParticipantList
from tests.conftest import make_school, org, pdf_bytes

from .conftest import SCHOOL_FORM, Who, upload


def post(data: dict) -> QueryDict:
    q = QueryDict(mutable=True)
    for k, v in data.items():
        if isinstance(v, list):
            q.setlist(k, v)
        else:
            q[k] = v
    return q


def start(who, programme, category="school"):
    return services.application_start(
        programme=programme, category_code=category, scope=who.scope, actor=who.actor
    )


def fill(who, app, data=SCHOOL_FORM, **extra):
    return services.application_save_draft(
        application=app, post=post({**data, **extra}), scope=who.scope, actor=who.actor
    )


def attach(who, app, field="form_scan", f=None):
    return services.application_attach(
        application=app, field_key=field, upload=f or upload(), scope=who.scope, actor=who.actor
    )


def submit(who, app, now=None):
    return services.application_submit(application=app, scope=who.scope, actor=who.actor, now=now)


def test_start_prefills_from_the_org(school, henan):
    app = start(school, henan)
    assert app.state == AppState.DRAFT
    assert app.data["school_name"] == school.org.name
    assert app.data["bandwidth_mbps"] == 100
    assert start(school, henan).pk == app.pk  # starting again opens the same draft


def test_draft_keeps_invalid_typed_values_and_reports_them(school, henan):
    app = start(school, henan)
    result = fill(
        school,
        app,
        **{
            "f-student_count": "一千二",
            "f-contact_mobile": "12345",
            "f-contact_email": "not-an-email",
        },
    )
    app.refresh_from_db()
    assert app.data["student_count"] == "一千二"  # kept as typed
    assert app.data["contact_mobile"] == "12345"
    assert set(result.errors) == {"student_count", "contact_mobile", "contact_email"}
    assert "数字" in result.errors["student_count"][0]
    assert "手机号码" in result.errors["contact_mobile"][0]


def test_long_text_counts_chinese_characters(school, henan):
    app = start(school, henan)
    result = fill(school, app, **{"f-guarantees": "abc 123 短"})
    assert result.ok
    with pytest.raises(services.ApplicationError) as exc:
        attach(school, app)
        submit(school, app)
    assert "至少 100 个汉字（现有 1 个）" in exc.value.errors["guarantees"][0]


def test_fake_pdf_is_rejected_and_changes_nothing(school, henan):
    app = start(school, henan)
    fill(school, app)
    good = attach(school, app)
    app.refresh_from_db()
    revision = app.revision
    fake = upload("申请表.pdf", b"GIF89a this is a picture renamed to .pdf" * 10)
    with pytest.raises(services.ApplicationError, match="不是 PDF"):
        attach(school, app, f=fake)
    truncated = upload("申请表.pdf", pdf_bytes()[:-40])
    with pytest.raises(services.ApplicationError, match="不是完整的 PDF"):
        attach(school, app, f=truncated)
    app.refresh_from_db()
    assert app.revision == revision
    assert list(Attachment.objects.filter(application=app, is_current=True)) == [good]
    assert Blob.objects.count() == 1


def test_oversized_file_is_rejected(school, henan, settings):
    app = start(school, henan)
    big = upload("scan.pdf", pdf_bytes() + b"%" + b"x" * (21 * 1024 * 1024) + b"\n%%EOF\n")
    with pytest.raises(services.ApplicationError, match="超过 20 MB"):
        attach(school, app, f=big)
    assert not Attachment.objects.filter(application=app).exists()


def test_same_file_is_stored_once_and_replacement_keeps_history(school, other_school, henan):
    a1, a2 = start(school, henan), start(other_school, henan)
    content = pdf_bytes(pages=2)
    attach(school, a1, f=upload(content=content))
    attach(other_school, a2, f=upload(content=content))
    assert Blob.objects.count() == 1
    attach(school, a1, f=upload("新扫描件.pdf", pdf_bytes(pages=3)))
    assert Attachment.objects.filter(application=a1).count() == 2
    assert list(
        Attachment.objects.filter(application=a1, is_current=True).values_list(
            "filename", flat=True
        )
    ) == ["新扫描件.pdf"]


def test_submit_freezes_a_version_and_routes_to_the_city(school, henan):
    app = start(school, henan)
    fill(school, app)
    attach(school, app)
    version = submit(school, app)
    app.refresh_from_db()
    assert app.state == AppState.SUBMITTED and version.number == 1
    assert [s["org_name"] for s in app.chain] == ["郑州市", "河南省"]
    assert app.current_org.name == "郑州市"
    assert version.data["principal"] == "王校长"
    assert version.attachments[0]["filename"] == "申请表.pdf"
    with pytest.raises(services.ApplicationError, match="不能修改"):
        fill(school, app, **{"f-principal": "改名"})
    assert audit_verify().ok


def test_province_administered_county_and_direct_schools_have_shorter_chains(henan):
    gongyi = Who(make_school(org("巩义市"), name="巩义市第一小学"))
    direct = Who(make_school(org("410000"), name="河南省实验小学"))
    for who, expected in ((gongyi, ["巩义市", "河南省"]), (direct, ["河南省"])):
        app = start(who, henan)
        fill(who, app, **{"f-school_name": who.org.name})
        attach(who, app)
        submit(who, app)
        app.refresh_from_db()
        assert [s["org_name"] for s in app.chain] == expected


def test_incomplete_form_is_refused_with_every_missing_field(school, henan):
    app = start(school, henan)
    fill(school, app, **{"f-principal": "", "f-plan": ""})
    with pytest.raises(services.ApplicationError) as exc:
        submit(school, app)
    assert {"principal", "plan", "form_scan"} <= set(exc.value.errors)
    app.refresh_from_db()
    assert app.state == AppState.DRAFT and app.version == 0
    assert not ApplicationVersion.objects.filter(application=app).exists()


def test_late_submission_is_refused_with_the_deadline(school, henan):
    app = start(school, henan)
    fill(school, app)
    attach(school, app)
    late = henan.closes_at + dt.timedelta(seconds=1)
    with pytest.raises(
        services.ApplicationError, match=r"截止时间 \d{4}-\d{2}-\d{2} \d{2}:\d{2}（北京时间）已过"
    ):
        submit(school, app, now=late)
    app.refresh_from_db()
    assert app.state == AppState.DRAFT
    # Exactly at the deadline is still in time.
    submit(school, app, now=henan.closes_at)


def test_withdraw_then_resubmit_makes_a_second_version(school, henan):
    app = start(school, henan)
    fill(school, app)
    attach(school, app)
    submit(school, app)
    services.application_withdraw(application=app, scope=school.scope, actor=school.actor)
    app.refresh_from_db()
    assert app.state == AppState.WITHDRAWN and app.current_org is None
    fill(school, app, **{"f-principal": "赵校长"})
    v2 = submit(school, app)
    assert v2.number == 2
    assert [v.data["principal"] for v in app.versions.order_by("number")] == ["王校长", "赵校长"]


def test_no_withdrawal_once_review_started(school, henan):
    app = start(school, henan)
    fill(school, app)
    attach(school, app)
    submit(school, app)
    Application.objects.filter(pk=app.pk).update(review_started_at=henan.opens_at)
    app.refresh_from_db()
    with pytest.raises(services.ApplicationError, match="审核已经开始"):
        services.application_withdraw(application=app, scope=school.scope, actor=school.actor)


def test_stale_draft_is_not_overwritten(school, henan):
    app = start(school, henan)
    fill(school, app)
    app.refresh_from_db()
    old_revision = app.revision
    fill(school, app, **{"f-principal": "窗口一"})
    with pytest.raises(services.StaleDraft):
        services.application_save_draft(
            application=app,
            post=post({**SCHOOL_FORM, "f-principal": "窗口二"}),
            scope=school.scope,
            actor=school.actor,
            revision=old_revision,
        )
    app.refresh_from_db()
    assert app.data["principal"] == "窗口一"


def _list(code, *orgs, status=""):
    plist = ParticipantList.objects.get(code=code)
    for o in orgs:
        ParticipantEntry.objects.create(plist=plist, org=o, status=status)


def test_phase_one_participants_and_similar_product_users_see_why_they_cannot_apply(
    school, other_school, henan
):
    from edupilot.applications.selectors import choices_for_org

    _list("henan_tencent_phase1", school.org)
    _list("henan_similar_product", other_school.org)
    msgs = {c.category.code: [f.message for f in c.failures] for c in choices_for_org(school.org)}
    assert msgs["school"] == ["已被批准为第一批试点的学校不得重复申报。"]
    with pytest.raises(services.ApplicationError, match="第一批试点"):
        start(school, henan)
    msgs = {
        c.category.code: [f.message for f in c.failures] for c in choices_for_org(other_school.org)
    }
    assert msgs["school"] == ["已使用省电化教育馆之前推荐的同类产品的学校原则上不得申报。"]


def test_kindergarten_and_other_province_are_not_offered(henan):
    from edupilot.applications.selectors import choices_for_org

    kg = make_school(org("金水区"), name="金水区幼儿园", stages=",kindergarten,")
    choices = choices_for_org(kg)
    assert [f.message for c in choices for f in c.failures] == [
        "本类别面向的学段：小学、初中、高中、教学点；本单位登记的学段不在其中。"
    ]
    hz = make_school(org("330106"), name="杭州市西湖区小学")
    assert not [c for c in choices_for_org(hz) if c.programme.code == "henan-tencent-2019"]
    with pytest.raises(services.ApplicationError):
        start(Who(hz), henan)


# --- region bids -------------------------------------------------------------------------


def region_schools(county: Org, urban: int, rural: int) -> list[Org]:
    out = [
        make_school(county, name=f"{county.name}城区第{i}小学", locality="urban")
        for i in range(urban)
    ]
    out += [
        make_school(county, name=f"{county.name}乡村第{i}小学", locality="rural")
        for i in range(rural)
    ]
    return out


REGION_FORM = {
    "f-region_name": "中牟县",
    "f-lead_unit": "中牟县教育局",
    "f-lead_person": "张局长",
    "f-contact_name": "刘老师",
    "f-contact_mobile": "13900139000",
    "f-plan": "区域整体推进智慧校园建设，" * 40,
}


def test_region_bid_must_cover_eight_schools_or_thirty_percent_urban_and_rural(henan):
    county = org("中牟县")
    schools = region_schools(county, urban=10, rural=10)  # 20 schools: 30 % is 6, so 6 suffice
    bureau = Who(county)
    app = start(bureau, henan, "region")
    fill(bureau, app, REGION_FORM)
    attach(bureau, app)
    services.application_set_members(
        application=app, org_ids=[s.pk for s in schools[:5]], scope=bureau.scope, actor=bureau.actor
    )
    with pytest.raises(services.ApplicationError) as exc:
        submit(bureau, app)
    assert "不少于域内中小学校总数的30%（或不少于8所）" in exc.value.message
    assert "兼顾城乡" in exc.value.message  # five urban schools, no rural one
    services.application_set_members(
        application=app,
        org_ids=[s.pk for s in schools[7:13]],
        scope=bureau.scope,
        actor=bureau.actor,
    )
    submit(bureau, app)
    app.refresh_from_db()
    assert [s["org_name"] for s in app.chain] == ["郑州市", "河南省"]


def test_school_in_a_region_bid_cannot_bid_as_a_school_and_vice_versa(henan):
    county = org("中牟县")
    schools = region_schools(county, urban=5, rural=5)
    bureau = Who(county)
    solo = Who(schools[0])
    # A school that already bid on its own cannot be named in the region bid.
    app_s = start(solo, henan)
    fill(solo, app_s, **{"f-school_name": solo.org.name})
    attach(solo, app_s)
    submit(solo, app_s)
    app = start(bureau, henan, "region")
    fill(bureau, app, REGION_FORM)
    attach(bureau, app)
    services.application_set_members(
        application=app, org_ids=[s.pk for s in schools], scope=bureau.scope, actor=bureau.actor
    )
    with pytest.raises(services.ApplicationError, match="不可重复"):
        submit(bureau, app)
    services.application_set_members(
        application=app,
        org_ids=[s.pk for s in schools[1:9]],
        scope=bureau.scope,
        actor=bureau.actor,
    )
    submit(bureau, app)
    # And a school named in the submitted region bid may not start a school bid.
    member = Who(schools[2])
    with pytest.raises(services.ApplicationError, match="区域试点申报"):
        start(member, henan)


def test_members_outside_the_subtree_are_refused(henan):
    bureau = Who(org("中牟县"))
    elsewhere = make_school(org("金水区"))
    app = start(bureau, henan, "region")
    with pytest.raises(services.ApplicationError, match="管辖范围"):
        services.application_set_members(
            application=app, org_ids=[elsewhere.pk], scope=bureau.scope, actor=bureau.actor
        )
    assert not app.members.exists()


def test_another_org_cannot_act_on_an_application(school, other_school, henan):
    app = start(school, henan)
    with pytest.raises(services.ApplicationError, match="只有申报单位"):
        fill(other_school, app)
    with pytest.raises(services.ApplicationError):
        attach(other_school, app)


def test_partial_save_leaves_other_fields_alone(school, henan):
    app = start(school, henan)
    fill(school, app)
    services.application_save_draft(
        application=app,
        post=post({"f-principal": "只改这一项"}),
        scope=school.scope,
        actor=school.actor,
    )
    app.refresh_from_db()
    assert app.data["principal"] == "只改这一项"
    assert app.data["school_type"] == ["primary"] and app.data["contact_mobile"] == "13800138000"
    # A full form that unticks every box does clear the multiple choice (one the org tree
    # does not fill: school_type is locked to the record's stages while it has some).
    school.org.stages = ""
    school.org.save()
    services.application_save_draft(
        application=app,
        post=post({"f-school_type__present": "1"}),
        scope=school.scope,
        actor=school.actor,
    )
    app.refresh_from_db()
    assert app.data["school_type"] == []


def test_one_editor_never_conflicts_with_itself(school, henan):
    """An autosave still in flight when the applicant clicks submit must not block it."""
    app = start(school, henan)
    app.refresh_from_db()
    seen = app.revision
    services.application_save_draft(
        application=app,
        post=post({"f-principal": "自动保存"}),
        scope=school.scope,
        actor=school.actor,
        revision=seen,
        editor="tab-1",
    )
    # The same page posts again with the revision it rendered with: accepted.
    services.application_save_draft(
        application=app,
        post=post({"f-principal": "点击提交"}),
        scope=school.scope,
        actor=school.actor,
        revision=seen,
        editor="tab-1",
    )
    # Another page with that old revision is a real conflict.
    with pytest.raises(services.StaleDraft):
        services.application_save_draft(
            application=app,
            post=post({"f-principal": "另一个窗口"}),
            scope=school.scope,
            actor=school.actor,
            revision=seen,
            editor="tab-2",
        )
    app.refresh_from_db()
    assert app.data["principal"] == "点击提交"
