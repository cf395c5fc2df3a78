"""Every recipe of docs/programme-cookbook.md, spliced into the reference's complete example, validates:
a ``[[categories.flow]]`` recipe replaces the example category's flow, a ``[[pilot.stages]]``
recipe its pilot stages, a ``[[categories.quotas]]`` recipe its quota table, a
``[[categories.set_rules]]`` or ``[[categories.titles]]`` recipe is added after that table, a
``[[folds]]``, ``[notice]``, ``[rubric]`` or ``[[batches]]`` recipe is added before its ``[period]``, and a form field recipe to its form.
The recipes cannot rot."""

import re
from pathlib import Path

import pytest
from openpyxl import Workbook

from edupilot.audit.services import Actor
from edupilot.orgs.models import Org, OrgKind
from edupilot.programmes import loader
from edupilot.programmes.services import programme_load
from tests.conftest import org, pdf_bytes

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLE = re.findall(
    r"```toml\n(.*?)```", (DOCS / "programme-format.md").read_text(encoding="utf-8"), re.S
)[-1]
RECIPES = re.findall(r"## (.*?)\n.*?```toml\n(.*?)```", (DOCS / "programme-cookbook.md").read_text(), re.S)


def splice(recipe: str, example: str = EXAMPLE) -> str:
    if recipe.startswith("[[co_issuers]]"):
        # Top-level tables a recipe leads with go before [period]; the rest is spliced as usual.
        head, flow, rest = recipe.partition("[[categories.flow]]")
        period = example.index("\n[period]\n")
        return splice(flow + rest, example[:period] + "\n" + head + example[period:])
    lines = example.splitlines(keepends=True)
    if "[[categories.flow]]" in recipe:
        first = next(i for i, x in enumerate(lines) if x.startswith("[[categories.flow]]"))
        end = next(
            i
            for i, x in enumerate(lines)
            if i > first and x.startswith("[") and not x.startswith("[[categories.flow]]")
        )
        return "".join(lines[:first]) + recipe + "\n" + "".join(lines[end:])
    if recipe.startswith("[[forms.school.sections.fields]]"):
        opinions = example.index("\n[[forms.school.opinions]]\n")
        return example[:opinions] + "\n" + recipe + example[opinions:]
    if recipe.startswith(
        ("[[categories.quotas]]", "[[categories.set_rules]]", "[[categories.titles]]")
    ):
        start = example.index("[[categories.quotas]]")
        end = example.index("\n[pilot]\n")
        keep = "" if recipe.startswith("[[categories.quotas]]") else example[start:end] + "\n"
        return example[:start] + keep + recipe + example[end:]
    if recipe.startswith(("[[folds]]", "[notice]", "[rubric]", "[[batches]]")):
        period = example.index("\n[period]\n")
        return example[:period] + "\n" + recipe + example[period:]
    assert "[[pilot.stages]]" in recipe
    start = next(i for i, x in enumerate(lines) if x.startswith("[[pilot.stages]]"))
    return "".join(lines[:start]) + recipe


@pytest.fixture
def offices(seeded):
    city = org("430400")
    for code, name in (
        ("430400-djg", "衡阳市电化教育馆"),
        ("430400-jcjy", "衡阳市教育局基础教育科"),
        ("430400-zbc", "衡阳市教育局装备处"),
        ("430400-czj", "衡阳市财政局"),
    ):
        Org.objects.get_or_create(
            code=code, defaults={"name": name, "kind": OrgKind.UNIT, "parent": city}
        )
    Org.objects.get_or_create(
        code="430400-GXQ",
        defaults={"name": "衡阳高新技术产业开发区", "kind": OrgKind.ZONE, "parent": city},
    )


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
