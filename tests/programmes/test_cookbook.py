"""Every recipe of docs/programme-cookbook.md, spliced into the reference's complete example
(``splice`` in tests/programme_files.py says where each kind of recipe goes), validates: the
recipes cannot rot. test_cookbook_rules.py then loads each one and tries to break it."""

import re
from pathlib import Path

import pytest
from openpyxl import Workbook

from edupilot.audit.services import Actor
from edupilot.programmes import loader
from edupilot.programmes.services import programme_load
from tests.conftest import pdf_bytes
from tests.programme_files import EXAMPLE, RECIPES, hengyang_units, splice  # noqa: F401


@pytest.fixture
def offices(seeded):
    hengyang_units()


def kind_of(recipe: str) -> str:
    if re.search(r"^parent = ", recipe, re.M):
        return "round"
    for marker, kind in (
        ("[[pilot.stages]]", "pilot"),
        ("[[folds]]", "folds"),
        ("[notice]", "notice"),
        ("[[forms.school.sections.fields]]", "field"),
        ("[[categories.quotas]]", "quotas"),
        ("[[categories.set_rules]]", "set_rules"),
        ("[[categories.titles]]", "titles"),
        ("[rubric]", "rubric"),
        ("[[batches]]", "batches"),
    ):
        if marker in recipe:
            return kind
    return "flow"


def test_there_are_recipes_of_every_kind():
    kinds = {kind_of(r) for _, r in RECIPES}
    assert kinds == {
        "flow", "pilot", "folds", "notice", "field", "quotas", "set_rules", "titles", "rubric", "round",
        "batches",
    }  # fmt: skip
    assert len(RECIPES) >= 8


def write_notice_files(base: Path, recipe: str) -> None:
    """Real files of the kinds the recipe names, where it names them."""
    for name in re.findall(r'^(?:text|file) = "(.+)"', recipe, re.M):
        target = base / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".xlsx"):
            Workbook().save(target)
        elif name.endswith(".pdf"):
            target.write_bytes(pdf_bytes(1, "申报表"))
        else:
            target.write_text("各县（市、区）教育局：\n现将有关事项通知如下。\n", encoding="utf-8")


@pytest.mark.parametrize("title, recipe", RECIPES, ids=[t[:30] for t, _ in RECIPES])
def test_recipe_validates_in_the_complete_example(offices, tmp_path, title, recipe):
    path = tmp_path / "notice.toml"
    if kind_of(recipe) == "round":
        # A round is a whole file under its parent: the example, loaded first.
        parent = loader.parse_text(EXAMPLE, "example.toml")
        programme_load(parsed=parent, actor=Actor.system())
    for earlier in re.findall(r'^earlier_rounds = \["(.+)"\]', recipe, re.M):
        # An earlier round of the series: the example under that code, loaded first.
        text = EXAMPLE.replace('code = "example-smart-classroom"', f'code = "{earlier}"')
        programme_load(parsed=loader.parse_text(text, "earlier.toml"), actor=Actor.system())
    path.write_text(recipe if kind_of(recipe) == "round" else splice(recipe), encoding="utf-8")
    if kind_of(recipe) == "notice":
        write_notice_files(tmp_path, recipe)
    parsed, errors = loader.validate(path)
    assert not errors, [str(e) for e in errors]
    if "[[folds]]" in recipe:
        assert [f.into for f in parsed.spec.folds] == re.findall(r'^into = "(.+)"', recipe, re.M)
    if kind_of(recipe) == "notice":
        assert len(parsed.notice_files) == len(re.findall(r"^(?:text|file) = ", recipe, re.M))
    if kind_of(recipe) == "field":
        form = parsed.spec.forms["school"]
        for key in re.findall(r'^key = "(\w+)"', recipe, re.M):
            assert form.field(key) is not None, key
    if kind_of(recipe) == "rubric":
        assert [g.key for g in parsed.spec.rubric.grades] == re.findall(
            r'^  \{ key = "(\w+)"', recipe, re.M
        )
    if kind_of(recipe) == "round":
        assert parsed.spec.parent == "example-smart-classroom" and parsed.spec.forms
    if "[[co_issuers]]" in recipe:
        assert [c.name for c in parsed.spec.co_issuers] == re.findall(
            r'^\[\[co_issuers\]\]\nname = "(.+)"', recipe, re.M
        )
    if kind_of(recipe) == "batches":
        (batch,) = parsed.spec.batches
        assert batch.self_assessment and batch.self_gate_text()
    if "[[pilot.stages]]" in recipe:
        assert [s.key for s in parsed.spec.pilot.pipeline] == re.findall(
            r'^\[\[pilot\.stages\]\]\nkind = "\w+"\nkey = "(\w+)"', recipe, re.M
        )
