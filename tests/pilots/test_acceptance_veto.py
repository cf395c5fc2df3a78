"""An acceptance criterion's ``mandatory_min`` (必达项): a veto on every passing grade.

The file is refused with its line and field when the minimum exceeds the item's maximum;
``programme show`` names the veto items; a unit whose panel misses one gets no passing grade
(the issuer's pass is refused with the reason), whatever its total, while rectify and fail
grades stay open.
"""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from edupilot.core.errors import Refused
from edupilot.pilots import acceptance as acc
from edupilot.pilots.models import PilotState
from tests.programmes.test_pilot_format import QUANZHOU_LIKE, check, with_pilot

from .conftest import in_acceptance, issuer_admin, make_pilot
from .test_acceptance import _panel, _score

pytestmark = pytest.mark.django_db

VETO = QUANZHOU_LIKE.replace(
    '{ key = "use", name = "实际使用", max = 100 }',
    '{ key = "use", name = "实际使用", max = 100, mandatory_min = 60 }',
)


def test_mandatory_min_loads_and_is_shown_in_the_due_rule(tmp_path):
    parsed, errors = check(tmp_path, with_pilot(VETO))
    assert not errors, [str(e) for e in errors]
    stage = parsed.spec.pilot.stage_of("acceptance")
    assert [c.key for c in stage.mandatory] == ["use"]
    assert stage.mandatory[0].mandatory_min == Decimal(60)
    from edupilot.programmes.pilot_schema import due_rule

    assert "必达项：实际使用 ≥60" in due_rule(stage)


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("max = 100, mandatory_min = 120 }", "超过满分"),
        ("max = 100, mandatory_min = -1 }", "mandatory_min"),
        ('max = 100, mandatory_min = "高" }', "mandatory_min"),
    ],
)
def test_a_bad_mandatory_min_names_line_and_field(tmp_path, new, message):
    text = with_pilot(VETO.replace("max = 100, mandatory_min = 60 }", new))
    _, errors = check(tmp_path, text)
    assert errors, "the file should be refused"
    e = errors[0]
    assert e.field.startswith("pilot.stages[2]"), e
    assert e.line is not None and e.line > 1
    assert message in str(e)


def test_all_mandatory_grade_needs_a_veto_item(tmp_path):
    gated = QUANZHOU_LIKE.replace(
        '{ key = "excellent", name = "优秀", min_percent = 90 }',
        '{ key = "excellent", name = "优秀", min_percent = 90, all_mandatory = true }',
    )
    _, errors = check(tmp_path, with_pilot(gated))
    assert errors and "没有任何必达项" in errors[0].message
    _, errors = check(
        tmp_path, with_pilot(gated.replace("max = 100 }", "max = 100, mandatory_min = 60 }"))
    )
    assert not errors, [str(e) for e in errors]


def _with_veto(programme, key: str, minimum: int):
    """The programme as a bureau would reload it with a veto item on ``key``."""
    spec = programme.spec
    stage = next(s for s in spec["pilot"]["stages"] if s["kind"] == "acceptance")
    for c in stage["criteria"]:
        if c["key"] == key:
            c["mandatory_min"] = minimum
    programme.spec = spec
    programme.source_sha256 = f"veto-{key}-{minimum}-" + programme.source_sha256[:20]
    programme.save(update_fields=["spec", "source_sha256"])
    return programme


def test_a_unit_below_a_veto_item_gets_no_passing_grade(quanzhou):
    _with_veto(quanzhou, "use", 30)  # 平台实际使用, out of 40
    pilot, unit = make_pilot(quanzhou)
    sub = in_acceptance(pilot)
    boss = issuer_admin(quanzhou)
    (e1, r1), (e2, r2) = _panel(quanzhou, pilot, boss)
    # Totals 88 and 84 (86%: 优秀's band), but 平台实际使用 averages 28 < 30.
    _score(e1, r1, "28", "40", "20")
    _score(e2, r2, "28", "36", "20")
    s = acc.acceptance_summary(sub)
    assert s.percent == Decimal("86.00")
    assert s.mandatory_unmet == ["平台实际使用 28.00 分，须不低于 30 分"]
    assert s.suggested is None or s.suggested.result != "pass"
    for grade in ("excellent", "pass"):
        with pytest.raises(Refused, match="必达项未达到（平台实际使用 28.00 分，须不低于 30 分）"):
            acc.acceptance_decide(submission=sub, grade=grade, scope=boss.scope, actor=boss.actor)
    pilot.refresh_from_db()
    assert pilot.state == PilotState.ACCEPTANCE and not pilot.grade
    stage = pilot.spec.stage_of("acceptance")
    fail = next(g for g in stage.grades if g.result == "fail")
    pilot = acc.acceptance_decide(
        submission=sub, grade=fail.key, opinion="必达项未达到", scope=boss.scope, actor=boss.actor
    )
    assert pilot.state == PilotState.FAILED


def test_a_unit_reaching_the_veto_item_passes(quanzhou, client):
    _with_veto(quanzhou, "use", 30)
    pilot, unit = make_pilot(quanzhou)
    sub = in_acceptance(pilot)
    boss = issuer_admin(quanzhou)
    (e1, r1), (e2, r2) = _panel(quanzhou, pilot, boss)
    _score(e1, r1, "30", "30", "10")
    _score(e2, r2, "32", "30", "10")
    assert acc.acceptance_summary(sub).mandatory_unmet == []
    pilot = acc.acceptance_decide(submission=sub, grade="pass", scope=boss.scope, actor=boss.actor)
    assert pilot.state == PilotState.ACCEPTED


def test_the_issuers_page_names_the_missed_veto_item(quanzhou, client):
    from django.urls import reverse

    _with_veto(quanzhou, "use", 30)
    pilot, unit = make_pilot(quanzhou)
    in_acceptance(pilot)
    boss = issuer_admin(quanzhou)
    (e1, r1), (e2, r2) = _panel(quanzhou, pilot, boss)
    _score(e1, r1, "20", "40", "20")
    _score(e2, r2, "20", "40", "20")
    client.force_login(boss.user)
    body = client.get(reverse("pilots:detail", args=[pilot.pk])).content.decode()
    assert "必达项未达到，不能评为通过等级" in body and "平台实际使用 20.00 分" in body


def test_programme_show_prints_the_veto_items(quanzhou):
    _with_veto(quanzhou, "use", 30)
    out = io.StringIO()
    call_command("programme", "show", quanzhou.code, stdout=out)
    assert "必达项：平台实际使用 ≥30" in out.getvalue()


def test_the_cookbook_recipe_loads_and_refuses_a_minimum_above_the_maximum():
    from edupilot.programmes import loader
    from tests.programmes.test_cookbook import RECIPES, splice

    (recipe,) = [r for _, r in RECIPES if "mandatory_min = 36" in r]
    stage = loader.parse_text(splice(recipe), "recipe.toml").spec.pilot.stage_of("acceptance")
    assert [(c.key, c.mandatory_min) for c in stage.mandatory] == [("use", Decimal(36))]
    with pytest.raises(loader.ProgrammeFileInvalid) as exc:
        loader.parse_text(splice(recipe.replace("= 36", "= 70")), "recipe.toml")
    assert exc.value.errors[0].field == "pilot.stages[1].criteria[1].mandatory_min"
    assert "超过满分" in exc.value.errors[0].message
