"""Every recipe of docs/cookbook.md, spliced into the reference's complete example, validates:
a ``[[categories.flow]]`` recipe replaces the example category's flow, a ``[[pilot.stages]]``
recipe its pilot stages, and a ``[[folds]]`` recipe is added before its ``[period]``. The
recipes cannot rot."""

import re
from pathlib import Path

import pytest

from edupilot.orgs.models import Org, OrgKind
from edupilot.programmes import loader
from tests.conftest import org

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLE = re.findall(
    r"```toml\n(.*?)```", (DOCS / "programme-format.md").read_text(encoding="utf-8"), re.S
)[-1]
RECIPES = re.findall(r"## (.*?)\n.*?```toml\n(.*?)```", (DOCS / "cookbook.md").read_text(), re.S)


def splice(recipe: str) -> str:
    lines = EXAMPLE.splitlines(keepends=True)
    if "[[categories.flow]]" in recipe:
        first = next(i for i, x in enumerate(lines) if x.startswith("[[categories.flow]]"))
        end = next(
            i
            for i, x in enumerate(lines)
            if i > first and x.startswith("[") and not x.startswith("[[categories.flow]]")
        )
        return "".join(lines[:first]) + recipe + "\n" + "".join(lines[end:])
    if recipe.startswith("[[folds]]"):
        period = EXAMPLE.index("\n[period]\n")
        return EXAMPLE[:period] + "\n" + recipe + EXAMPLE[period:]
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
    ):
        Org.objects.get_or_create(
            code=code, defaults={"name": name, "kind": OrgKind.UNIT, "parent": city}
        )
    Org.objects.get_or_create(
        code="430400-GXQ",
        defaults={"name": "衡阳高新技术产业开发区", "kind": OrgKind.ZONE, "parent": city},
    )


def test_there_are_recipes_of_both_kinds():
    kinds = {
        ("pilot" if "[[pilot.stages]]" in r else "folds" if "[[folds]]" in r else "flow")
        for _, r in RECIPES
    }
    assert kinds == {"flow", "pilot", "folds"} and len(RECIPES) >= 7


@pytest.mark.parametrize("title, recipe", RECIPES, ids=[t[:30] for t, _ in RECIPES])
def test_recipe_validates_in_the_complete_example(offices, tmp_path, title, recipe):
    path = tmp_path / "notice.toml"
    path.write_text(splice(recipe), encoding="utf-8")
    parsed, errors = loader.validate(path)
    assert not errors, [str(e) for e in errors]
    if "[[folds]]" in recipe:
        assert [f.into for f in parsed.spec.folds] == re.findall(r'^into = "(.+)"', recipe, re.M)
    if "[[pilot.stages]]" in recipe:
        assert [s.key for s in parsed.spec.pilot.pipeline] == re.findall(
            r'^\[\[pilot\.stages\]\]\nkind = "\w+"\nkey = "(\w+)"', recipe, re.M
        )
