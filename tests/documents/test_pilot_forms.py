"""The pilot period's paper forms (a report, acceptance materials) with the opinion boxes of the
levels that handle them, read back from the PDF; scope; the issuer's acceptance results."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from edupilot.pilots import acceptance as acc
from edupilot.pilots import services
from tests.conftest import pdf_bytes
from tests.pilots.conftest import issuer_admin, make_pilot
from tests.pilots.submissions_world import build
from tests.pilots.test_acceptance import _panel, _score

from .test_notice_support import body, label_column_text, load, pdf_text, sheet_rows, squeeze
from .test_notice_support import workbook as read_workbook

pytestmark = pytest.mark.django_db

APRIL = {"f-progress": "完成平台部署，开展教师培训两次。", "f-users": "320"}


@pytest.fixture
def qz(seeded):
    return build()


@pytest.fixture
def quanzhou(seeded):
    return load("quanzhou-smart-campus-2018.toml")


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def url(sub, **query) -> str:
    u = reverse("documents:pilot_submission", args=[sub.pk])
    return u + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def in_order(text: str, *parts: str) -> bool:
    at = [text.find(p) for p in parts]
    return all(i >= 0 for i in at) and at == sorted(at)


def _report(w, *, accept_reason=None):
    sub, _ = services.submission_save(
        pilot=w.pilots[0], stage_key="monthly", period="2026-04", post=APRIL,
        scope=w.scope("school0"), actor=w.actor("school0"),
    )  # fmt: skip
    if accept_reason is not None:
        services.submission_submit(
            submission=sub, scope=w.scope("school0"), actor=w.actor("school0")
        )
        services.submission_accept(
            submission=sub, scope=w.scope("county0"), actor=w.actor("county0"), reason=accept_reason
        )
    sub.refresh_from_db()
    return sub


def test_report_prints_fields_values_and_the_supervisors_decision(qz):
    sub = _report(qz, accept_reason="进展良好，同意。")
    response = client_for(qz.users["county0"]).get(url(sub))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    data = body(response)
    text = squeeze(pdf_text(data))
    assert "月度工作进展（2026年4月）" in text or "月度工作进展" in text
    assert in_order(text, "填报单位（盖章）：泉州试点甲小学", "本月工作进展", "完成平台部署")
    assert "320" in text
    assert in_order(text, "进展良好，同意。", "审核结果：审核通过")
    assert "第1版" in text
    labels = squeeze(label_column_text(data))
    assert in_order(labels, "填报单位意见", "督导单位审核意见")
    assert "验收专家组意见" not in labels


def test_a_draft_prints_with_blank_boxes(qz):
    sub = _report(qz)
    data = body(client_for(qz.users["school0"]).get(url(sub)))
    text = squeeze(pdf_text(data))
    assert "草稿（尚未提交）" in text and "审核结果" not in text
    assert in_order(squeeze(label_column_text(data)), "填报单位意见", "督导单位审核意见")
    # A version that does not exist: 404, as a bad version number.
    assert client_for(qz.users["school0"]).get(url(sub, version=3)).status_code == 404
    assert client_for(qz.users["school0"]).get(url(sub, version="x")).status_code == 404


def test_a_submission_form_is_rendered_once_until_it_changes(qz):
    from edupilot.documents import pdf

    sub = _report(qz)
    school = client_for(qz.users["school0"])
    before = pdf.render_count
    first = body(school.get(url(sub)))
    assert body(school.get(url(sub))) == first and pdf.render_count == before + 1
    services.submission_save(
        pilot=qz.pilots[0], stage_key="monthly", period="2026-04",
        post={**APRIL, "f-users": "321"}, scope=qz.scope("school0"), actor=qz.actor("school0"),
    )  # fmt: skip
    assert body(school.get(url(sub))) != first and pdf.render_count == before + 2


@pytest.mark.parametrize("key", ["school1", "county1"])
def test_another_orgs_submission_is_404(qz, key):
    sub = _report(qz)
    assert client_for(qz.users[key]).get(url(sub)).status_code == 404


def test_submission_page_links_the_pdf(qz):
    sub = _report(qz)
    page = client_for(qz.users["school0"]).get(reverse("pilots:submission", args=[sub.pk]))
    assert url(sub) in page.content.decode()


def _graded_acceptance(programme):
    pilot, unit = make_pilot(programme)
    stage = pilot.spec.stage_of("acceptance")
    sub, _ = services.submission_save(
        pilot=pilot, stage_key=stage.key, post={"f-summary": "两年试点工作总结。"},
        scope=unit.scope, actor=unit.actor,
    )  # fmt: skip
    upload = SimpleUploadedFile("总结.pdf", pdf_bytes(), content_type="application/pdf")
    services.submission_attach(
        submission=sub, field_key=services.material_key("summary"), upload=upload,
        scope=unit.scope, actor=unit.actor,
    )  # fmt: skip
    services.submission_submit(submission=sub, scope=unit.scope, actor=unit.actor)
    boss = issuer_admin(programme)
    (e1, r1), (e2, r2) = _panel(programme, pilot, boss)
    _score(e1, r1, "38", "36", "18")  # 92
    _score(e2, r2, "30", "30", "10")  # 70
    acc.acceptance_decide(
        submission=sub, grade="excellent", opinion="成效显著。", scope=boss.scope, actor=boss.actor
    )
    sub.refresh_from_db()
    return pilot, sub, boss, (e1, e2)


def test_acceptance_prints_the_panel_and_the_issuers_decision(quanzhou):
    pilot, sub, boss, _experts = _graded_acceptance(quanzhou)
    data = body(client_for(boss.user).get(url(sub)))
    text = squeeze(pdf_text(data))
    assert in_order(text, "情况说明", "两年试点工作总结。", "试点工作总结", "总结.pdf")
    assert "2位专家提交评分，平均分81.00（得分率81.00%），按分数段建议等级：合格。" in text
    assert "验收等级：优秀。成效显著。" in text
    labels = squeeze(label_column_text(data))
    assert in_order(
        labels, "填报单位意见", "督导单位审核意见", "验收专家组意见", "发文单位验收结论"
    )


def test_acceptance_results_table(quanzhou):
    pilot, sub, boss, (e1, e2) = _graded_acceptance(quanzhou)
    honours = reverse("pilots:honours", args=[quanzhou.pk])
    xlsx = reverse("documents:pilot_acceptance", args=[quanzhou.pk])
    assert xlsx in client_for(boss.user).get(honours).content.decode()
    rows = sheet_rows(read_workbook(body(client_for(boss.user).get(xlsx))))
    assert rows[0][0].endswith("验收结果汇总表")
    assert rows[1][:6] == ("序号", "单位", "类别", "试点状态", "验收等级", "平均分")
    row = rows[2]
    assert row[1] == pilot.unit.name and row[3] == "已通过验收" and row[4] == "优秀"
    assert (row[5], row[6]) == (81, 81)
    assert row[7] == "、".join(e.user.display_name for e in (e1, e2))
    assert row[8] is not None
    # Not for the unit's county: the issuer's own table.
    county = client_for(make_county_reviewer(pilot).user)
    assert county.get(xlsx).status_code == 404


def make_county_reviewer(pilot):
    from tests.review.conftest import reviewer

    return reviewer(pilot.unit.parent)


def test_a_returned_version_prints_the_reason(qz):
    sub = _report(qz)
    services.submission_submit(submission=sub, scope=qz.scope("school0"), actor=qz.actor("school0"))
    services.submission_return(
        submission=sub, scope=qz.scope("county0"), actor=qz.actor("county0"), reason="请补充数据"
    )
    c = client_for(qz.users["county0"])
    assert "退回修改" not in squeeze(pdf_text(body(c.get(url(sub))))), "the draft is printed"
    text = squeeze(pdf_text(body(c.get(url(sub, version=1)))))
    assert in_order(text, "退回修改：请补充数据", "审核结果：退回修改")
