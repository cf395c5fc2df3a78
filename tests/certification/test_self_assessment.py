"""A school's self-assessment with its application to a batch (issue 10 §4), and the batch's
application gate: the programme file's ``[[batches]]`` says ``self_assessment = true`` and
``self_min_percent``/``self_min_score``; a school that submits none, or scores itself below
the gate, is not certified in that batch, whatever its data."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from edupilot.audit.models import AuditEvent
from edupilot.audit.services import Actor
from edupilot.certification import selfgate, services
from edupilot.certification.exports import BatchResultsExport
from edupilot.certification.models import Decision, Provisional, SelfAssessment
from edupilot.core.errors import Denied, Refused
from edupilot.programmes import loader
from edupilot.programmes.services import programme_load

from .conftest import GOOD, acting, export_rows, scope_for

pytestmark = pytest.mark.django_db

FILE = (
    Path(__file__).resolve().parents[2]
    / "programmes"
    / "examples"
    / "hangzhou-smart-campus-self-assessment-demo.toml"
)


@pytest.fixture
def gated(hz):
    """The Hangzhou scenario on a batch running the demo file's batch2 (gate: 60%)."""
    programme = programme_load(parsed=loader.parse_file(FILE), actor=Actor.system()).programme
    hz.batch = services.batch_create(
        owner=hz.city,
        code="hz-self",
        name="杭州市自评申报批次",
        certification_date=hz.batch.certification_date,
        cutoff=hz.batch.cutoff,
        standard=hz.standards["zj-sc-2022"],
        additional=[hz.standards["moe-vc-2020"]],
        programme=programme,
        programme_batch="batch2",
        **acting(hz.city_admin, hz.city),
    )
    services.batch_adopt_standard(
        batch=hz.batch,
        certifier=hz.xihu,
        standard=hz.standards["hz-xihu-2024"],
        **acting(hz.xihu_admin, hz.xihu),
    )
    hz.import_file(
        export_rows(
            [
                (hz.xh_primary.code, hz.xh_primary.name, GOOD),
                (hz.sc_primary.code, hz.sc_primary.name, GOOD),
                (hz.cd_senior.code, hz.cd_senior.name, GOOD),
            ]
        )
    )
    return hz


def scores(entry, share: float) -> dict[str, str]:
    """Every item at ``share`` of its maximum."""
    return {i.code: str((i.max * Decimal(str(share))).quantize(Decimal("0.01")))
            for i in services.self_items(entry)}  # fmt: skip


def submit(hz, entry, share, user=None, school=None):
    return services.self_assessment_save(
        entry=entry,
        scores=scores(entry, share),
        submit=True,
        **acting(user or hz.xh_school_user, school or entry.school),
    )


def decide(hz, entry, decision="certified"):
    return services.entry_decide(
        entry=entry, decision=decision, opinion="意见", **acting(hz.xihu_reviewer, hz.xihu)
    )


# --- the file ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("self_min_percent = 60 ", "self_min_percent = 160 ", "self_min_percent", "100"),
        (
            "self_assessment = true ",
            "self_assessment = false",
            "self_min_percent",
            "未要求学校自评",
        ),
        (
            "self_min_percent = 60 ",
            "self_min_percent = 60\nself_closes = 2025-10-31\n",
            "self_closes",
            "不能晚于认定结束日期",
        ),
        ("self_min_percent = 60 ", 'self_min_score = "六十"', "self_min_score", ""),
    ],
)
def test_a_bad_gate_is_refused_with_file_line_and_field(old, new, field, message):
    text = FILE.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    with pytest.raises(loader.ProgrammeFileInvalid) as exc:
        loader.parse_text(text, "gate.toml")
    e = exc.value.errors[0]
    assert e.field == f"batches[1].{field}", e
    assert e.line == text[: text.index(f"\n{field} =")].count("\n") + 2  # the field's line
    assert message in str(e) and "gate.toml" in str(e)


def test_programme_show_prints_the_batch_and_its_gate(gated):
    out = io.StringIO()
    call_command("programme", "show", "hangzhou-smart-campus-self-assessment-demo", stdout=out)
    assert "认定批次 batch2：第二批（学校自评申报）" in out.getvalue()
    assert "学校须提交自评；申报条件：自评得分率不低于 60%" in out.getvalue()
    out = io.StringIO()
    call_command(
        "programme", "show", "hangzhou-smart-campus-self-assessment-demo", "--format", "json",
        stdout=out,
    )  # fmt: skip
    assert '"self_min_percent": "60"' in out.getvalue()


def test_a_batch_names_only_a_batch_of_its_programme(gated):
    with pytest.raises(Refused, match="通知中没有批次 batch9"):
        services.batch_create(
            owner=gated.city, code="hz-x", name="x", certification_date=gated.batch.cutoff,
            cutoff=gated.batch.cutoff, standard=gated.standards["zj-sc-2022"],
            programme=gated.batch.programme, programme_batch="batch9",
            **acting(gated.city_admin, gated.city),
        )  # fmt: skip


# --- the gate, tried to be broken --------------------------------------------------------------


def test_a_school_without_a_self_assessment_is_not_certified(gated):
    entry = gated.entry(gated.xh_primary)
    assert entry.provisional == Provisional.FAIL
    assert entry.gate_reason.startswith("未提交自评")
    with pytest.raises(Refused, match="未提交自评.*不能在本批次认定为智慧校园"):
        decide(gated, entry)
    with pytest.raises(Refused, match="未提交自评"):
        services.visit_assign(
            entry=entry, team=[], team_note="核查组", planned_for=None,
            **acting(gated.xihu_reviewer, gated.xihu),
        )  # fmt: skip
    # Several at once: the same refusal, named per school.
    (outcome,) = services.entries_decide_bulk(
        entries=[entry], decision="certified", opinion="同意",
        **acting(gated.xihu_reviewer, gated.xihu),
    )  # fmt: skip
    assert not outcome.ok and "未提交自评" in outcome.message
    # A draft is not an application either.
    services.self_assessment_save(
        entry=entry, scores=scores(entry, 1), submit=False,
        **acting(gated.xh_school_user, gated.xh_primary),
    )  # fmt: skip
    services.assess_entries(batch=gated.batch, entry_ids=[entry.pk])
    entry.refresh_from_db()
    assert entry.gate_reason.startswith("未提交自评")
    with pytest.raises(Refused, match="未提交自评"):
        decide(gated, entry)
    entry.refresh_from_db()
    assert entry.decision == "" and entry.state == "queued"
    # Not certified, not held up: the bureau may still decide otherwise.
    assert decide(gated, entry, Decision.NOT_CERTIFIED).decision == Decision.NOT_CERTIFIED


def test_a_school_below_its_gate_is_not_certified_however_good_its_data(gated):
    entry = gated.entry(gated.xh_primary)
    sa = submit(gated, entry, 0.5)
    assert sa.percent == pytest.approx(50, abs=0.1)
    entry.refresh_from_db()
    assert entry.provisional == Provisional.FAIL and not entry.provisional_grade
    assert entry.gate_reason.startswith("自评未达到申报条件")
    assert "须不低于 60%" in entry.gate_reason
    with pytest.raises(Refused, match="自评未达到申报条件"):
        decide(gated, entry)
    # A re-assessment of the whole batch keeps it out too.
    services.batch_assess(batch=gated.batch, **acting(gated.xihu_reviewer, gated.xihu))
    entry.refresh_from_db()
    assert entry.provisional == Provisional.FAIL


def test_a_school_passing_its_gate_is_assessed_and_certified(gated):
    entry = gated.entry(gated.xh_primary)
    sa = submit(gated, entry, 0.8)
    assert sa.submitted_at and sa.total == sa.max_total * Decimal("0.8")
    entry.refresh_from_db()
    assert entry.gate_reason == "" and entry.provisional == Provisional.PASS
    assert decide(gated, entry).decision == Decision.CERTIFIED
    assert AuditEvent.objects.filter(action="certification.self_submit").exists()
    # Decided: the self-assessment can no longer change.
    with pytest.raises(Refused, match="已作出结论"):
        submit(gated, entry, 0.1)


def test_only_the_school_itself_fills_it_in(gated):
    entry = gated.entry(gated.xh_primary)
    with pytest.raises(Denied):
        submit(gated, entry, 1, user=gated.xihu_reviewer, school=gated.xihu)
    with pytest.raises(Denied):
        submit(gated, entry, 1, user=gated.sc_school_user, school=gated.sc_primary)
    assert not SelfAssessment.objects.exists()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("999", "之间，不能为 999"),
        ("-1", "之间"),
        ("八分", "应为数字"),
        ("1\x002", "控制字符"),
        ("NaN", "应为数字"),
        ("1.234", "两位小数"),
        ("", "请为"),
    ],
)
def test_bad_points_save_nothing_and_say_which_item(gated, typed, message):
    entry = gated.entry(gated.xh_primary)
    raw = scores(entry, 1)
    first = next(iter(raw))
    raw[first] = typed
    with pytest.raises(services.SelfAssessmentInvalid) as exc:
        services.self_assessment_save(
            entry=entry, scores=raw, submit=True, **acting(gated.xh_school_user, gated.xh_primary)
        )
    assert list(exc.value.errors) == [first]
    assert message in exc.value.errors[first][0]
    assert not SelfAssessment.objects.exists()


def test_a_frozen_batch_takes_no_self_assessment(gated):
    services.batch_freeze(batch=gated.batch, **acting(gated.city_admin, gated.city))
    with pytest.raises(Refused, match="已冻结"):
        submit(gated, gated.entry(gated.xh_primary), 1)


def test_a_batch_without_the_key_asks_for_nothing(hz):
    entry = hz.entry(hz.xh_primary)
    with pytest.raises(Refused, match="本批次不要求学校自评"):
        submit(hz, entry, 1)


# --- pages and export --------------------------------------------------------------------------


def test_the_school_page_keeps_what_was_typed_and_submits(gated, client):
    entry = gated.entry(gated.xh_primary)
    url = reverse("certification:self_assessment", args=[entry.pk])
    client.force_login(gated.xh_school_user)
    page = client.get(url).content.decode()
    assert "学校自评" in page and "自评得分率不低于 60%" in page and "尚未填报" in page
    raw = scores(entry, 1)
    first = next(iter(raw))
    raw[first] = "12345"
    body = client.post(url, {**raw, "action": "submit"}).content.decode()
    assert 'value="12345"' in body and "不能为 12345" in body and "本次未保存" in body
    assert not SelfAssessment.objects.exists()
    response = client.post(url, {**scores(entry, 0.7), "action": "submit"}, follow=True)
    body = response.content.decode()
    assert "自评已提交。符合本批次申报条件。" in body
    sa = SelfAssessment.objects.get(entry=entry)
    assert sa.submitted_at and sa.percent == pytest.approx(70, abs=0.1)


def test_bureaus_see_the_self_scores_beside_the_assessed_ones(gated, client):
    entry = gated.entry(gated.xh_primary)
    submit(gated, entry, 0.5)
    client.force_login(gated.xihu_reviewer)
    assert client.get(reverse("certification:self_assessment", args=[entry.pk])).status_code == 403
    body = client.get(reverse("certification:entry_detail", args=[entry.pk])).content.decode()
    assert "申报条件" in body and "自评未达到申报条件" in body
    assert "自评总分" in body and 'class="self-points"' in body and 'class="points"' in body
    listing = client.get(reverse("certification:entry_list", args=[gated.batch.pk]))
    assert "自评未达到申报条件" in listing.content.decode()
    export = BatchResultsExport(scope=scope_for(gated.xihu_reviewer, gated.xihu), batch=gated.batch)
    buf = io.BytesIO()
    export.write(buf)
    ws = load_workbook(io.BytesIO(buf.getvalue())).active
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    header = next(r for r in rows if r and "自评总分" in r)
    row = next(r for r in rows if r and gated.xh_primary.name in r)
    record = dict(zip(header, row, strict=False))
    assert record["自评满分"] and record["自评总分"] == pytest.approx(
        record["自评满分"] / 2, abs=0.1
    )
    assert record["申报条件"].startswith("自评未达到申报条件")
    assert record["自评维度得分"]


def test_the_cookbook_recipe_loads_and_its_gate_cannot_be_half_written():
    from tests.programmes.test_cookbook import RECIPES, splice

    (recipe,) = [r for _, r in RECIPES if r.startswith("[[batches]]")]
    (batch,) = loader.parse_text(splice(recipe), "recipe.toml").spec.batches
    assert batch.self_assessment and batch.self_min_percent == 60
    with pytest.raises(loader.ProgrammeFileInvalid) as exc:
        loader.parse_text(splice(recipe.replace("self_assessment = true\n", "")), "recipe.toml")
    assert exc.value.errors[0].field == "batches[1].self_min_percent"


def test_the_unmet_indicator_report_has_both_scores(gated, client):
    from edupilot.certification.exports import SchoolReportExport
    from edupilot.certification.selectors import entry_view

    entry = gated.entry(gated.xh_junior)  # no data imported: every basic item is missing
    services.self_assessment_save(
        entry=entry, scores=scores(entry, 0.5), submit=False, scope=None, actor=Actor.system()
    )
    export = SchoolReportExport(entry_view(entry))
    assert [c.header for c in export.columns][-2:] == ["得分", "自评得分"]
    rows = list(export.rows())
    assert rows and all(r[-2] == 0 for r in rows) and all(r[-1] is not None for r in rows)


def test_a_shifted_programmes_window_closes_on_the_shifted_day(hz):
    """A programme loaded with a date shift (the demo's --open-now) moves its batches' dates
    with the rest: the self-assessment closes on the moved day, and its rule text says so."""
    text = FILE.read_text(encoding="utf-8").replace(
        "self_min_percent = 60 ", "self_min_percent = 60\nself_closes = 2025-09-20\n", 1
    )
    path = Path(tempfile.mkdtemp()) / FILE.name
    path.write_text(text, encoding="utf-8")
    shift = 400
    programme = programme_load(
        parsed=loader.parse_file(path), actor=Actor.system(), time_shift_days=shift
    ).programme
    batch = services.batch_create(
        owner=hz.city, code="hz-shifted", name="平移批次",
        certification_date=hz.batch.certification_date, cutoff=hz.batch.cutoff,
        standard=hz.standards["zj-sc-2022"], programme=programme, programme_batch="batch2",
        **acting(hz.city_admin, hz.city),
    )  # fmt: skip
    rules = selfgate.rules_for(batch)
    moved = dt.date(2025, 9, 20) + dt.timedelta(days=shift)
    assert rules.closes == moved
    assert f"{moved:%Y-%m-%d}" in rules.text and "2025-09-20" not in rules.text
    pb = programme.batch_spec("batch2")
    assert pb.assess_from == dt.date(2025, 9, 1) + dt.timedelta(days=shift)
