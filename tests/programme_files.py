"""Programme files for tests: the reference's complete example, the cookbook's recipes spliced
into it, and loading a text into the database as a bureau's file would be loaded.

One place for what test_cookbook, test_cookbook_rules, test_set_rules_file, the joint-review
and the cascade tests all need: the example text (the last ```toml block of
docs/programme-format.md), :func:`splice`, :func:`load_text` (open now, or at a date of the
file's calendar) and :func:`hengyang_units` (the offices, bureaus and zone the recipes name).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from edupilot.audit.services import Actor
from edupilot.orgs.models import Org, OrgKind
from edupilot.programmes import loader
from edupilot.programmes.models import Programme
from edupilot.programmes.services import open_now_shift, programme_load
from tests.conftest import org

DOCS = Path(__file__).resolve().parents[1] / "docs"
FORMAT = DOCS / "programme-format.md"
COOKBOOK = DOCS / "programme-cookbook.md"
EXAMPLE = re.findall(r"```toml\n(.*?)```", FORMAT.read_text(encoding="utf-8"), re.S)[-1]
# (heading, toml) of every recipe: the first ```toml block under each `## ` heading (the
# contents have none).
RECIPES = re.findall(
    r"^## ([^\n]*)\n(?:(?!^## ).)*?```toml\n(.*?)```",
    COOKBOOK.read_text(encoding="utf-8"),
    re.S | re.M,
)
# The example's calendar: applications open 2030-03-01 and close 2030-03-31.
EXAMPLE_TODAY = dt.date(2030, 3, 15)


def recipe(heading: str) -> str:
    """The toml of the recipe whose heading starts with ``heading``."""
    (found,) = [r for h, r in RECIPES if h.startswith(heading)]
    return found


def splice(recipe: str, example: str = EXAMPLE) -> str:
    """The example with the recipe in its place: a ``[[categories.flow]]`` recipe replaces
    the example category's flow, a ``[[pilot.stages]]`` recipe its pilot stages, a
    ``[[categories.quotas]]`` recipe its quota table, a ``[[categories.set_rules]]`` or
    ``[[categories.titles]]`` recipe is added after that table, a ``[[folds]]``, ``[notice]``
    or ``[rubric]`` recipe (and a recipe's leading ``[[co_issuers]]``, ``[[lists]]`` or
    ``[[topics]]``, its topics added to the example category's) before its ``[period]``, and a
    form field recipe to its form."""
    if recipe.startswith(("[[co_issuers]]", "[[lists]]", "[[topics]]")):
        # Top-level tables a recipe leads with go before [period] (its topics also into the
        # example category's); the rest is spliced as usual.
        cut = recipe.index("\n[[categories.") + 1
        head, period = recipe[:cut], example.index("\n[period]\n")
        example = example[:period] + "\n" + head + example[period:]
        for code in re.findall(r'^\[\[topics\]\]\ncode = "(\w+)"', head, re.M):
            example = example.replace(
                'topics = ["classroom"', f'topics = ["classroom", "{code}"', 1
            )
        return splice(recipe[cut:], example)
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


def load_text(text: str, name: str = "programme.toml", *, today: dt.date | None = None):
    """Validate ``text`` against the database and load it. Dates are shifted so that the
    file's ``today`` (default: the example's 2030-03-15; None for a file of another calendar:
    the shift that opens it now) is today."""
    parsed = loader.parse_text(text, name)
    assert loader.check_against_database(parsed) == [], [
        str(e) for e in loader.check_against_database(parsed)
    ]
    shift = (dt.date.today() - today).days if today else open_now_shift(parsed)
    return programme_load(parsed=parsed, actor=Actor.system(), time_shift_days=shift).programme


def real_date(programme: Programme, day: dt.date) -> dt.date:
    """The day of today's calendar that is ``day`` of the file's (messages print these)."""
    return day + dt.timedelta(days=programme.time_shift_days)


def file_day(programme: Programme, day: dt.date, hour: int = 12) -> dt.datetime:
    """The real moment that is ``day`` of the file's calendar (noon, Beijing time)."""
    from zoneinfo import ZoneInfo

    real = real_date(programme, day)
    return dt.datetime(real.year, real.month, real.day, hour, tzinfo=ZoneInfo("Asia/Shanghai"))


HENGYANG_UNITS = (
    ("430400-djg", "衡阳市电化教育馆", OrgKind.UNIT),
    ("430400-jcjy", "衡阳市教育局基础教育科", OrgKind.UNIT),
    ("430400-zbc", "衡阳市教育局装备处", OrgKind.UNIT),
    ("430400-czj", "衡阳市财政局", OrgKind.UNIT),
    ("430400-gxj", "衡阳市工业和信息化局", OrgKind.UNIT),
    ("430400-GXQ", "衡阳高新技术产业开发区", OrgKind.ZONE),
)


def hengyang_units() -> None:
    """The centre, the offices, the other bureaus and the development zone under 衡阳市 that
    the recipes and the joint-review tests name (idempotent)."""
    city = org("430400")
    for code, name, kind in HENGYANG_UNITS:
        Org.objects.get_or_create(code=code, defaults={"name": name, "kind": kind, "parent": city})
