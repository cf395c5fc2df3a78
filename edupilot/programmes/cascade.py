"""Cascaded programmes: a city round under a provincial call (``parent = "<code>"``).

"各市组织市级评选，确定的学校作为本市推荐名单报省教育厅": the city writes its own programme
file naming the provincial programme as ``parent``. It inherits what the applicants fill in
and are judged by, and runs its own stages, quotas and deadlines::

    parent = "hunan-smart-campus-2030"   # the provincial programme's code (loaded first)
    issuer = "430400"                    # the city: inside the parent issuer's subtree

    [[categories]]
    code = "school"                      # a category of the parent: inherited unless written
    [[categories.flow]] …                # the city's own stages (and deadlines)
    [[categories.quotas]] …              # the city's own quotas (per county)

What is inherited, unless the file writes it: at the top, ``forms``, ``topics``, ``lists`` and
``rubric``; in each category, ``name``, ``description``, ``applicant_kinds``, ``stages``,
``topics``, ``form`` and ``rules``. An inherited form keeps the opinion boxes of the
applicant, the experts and of stages the city round has (the province's own boxes belong
to the provincial round). The merge happens before validation (:func:`inherit`), so the
stored spec of the city round is complete on its own.

When the city round's final list is published, each listed unit becomes the city's
recommendation in the parent programme (``selection/cascade.py``): counted against the
city's quota there, within the parent's city-level deadline, and in the province's queue.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from django.db import DatabaseError

from edupilot.orgs.models import Org, Tier

from .models import Programme, QuotaAllocation
from .quotas import bucket_limit
from .schema_base import LocatedValueError
from .toml_lines import LineIndex

TIER_LABELS = dict(Tier.choices)

FORWARDED, FORWARDED_LABEL = "forwarded", "已推荐至上级"  # applications.AppState.FORWARDED
TOP_INHERITED = ("forms", "topics", "lists", "rubric")
CATEGORY_INHERITED = (
    "name", "description", "applicant_kinds", "stages", "topics", "form", "rules",
)  # fmt: skip


class ParentMissing(LocatedValueError):
    """The file names a parent programme that is not loaded."""


def parent_source(code: str) -> dict:
    """The loaded parent programme's spec (its validated file as JSON), file name and text."""
    try:
        row = (
            Programme.objects.filter(code=code)
            .values("code", "spec", "source_name", "source_text")
            .first()
        )
    except DatabaseError:
        row = None
    if row is None:
        raise ParentMissing(
            f"上级项目 {code} 尚未载入：请先载入省级（上级）项目文件，再载入本项目", ("parent",)
        )
    return row


@dataclass(frozen=True)
class Origin:
    """Which parts of a round came from its parent, and where they are in the parent's file:
    an error in inherited content points at the parent's file, line and field (the round's
    own lines do not hold it), saying which part of the round inherits it."""

    code: str
    name: str  # the parent's file, as it was loaded
    index: LineIndex  # of the parent's text
    top: frozenset[str]  # top-level keys the round does not write
    categories: dict  # round category index -> (parent index, inherited keys)
    opinions: dict  # form -> the parent's index of each opinion box the round keeps
    # The parent's own Origin when the parent is itself a round (a county round under a city
    # round under the province): content the parent inherited lies in its parent's file.
    upstream: Origin | None = None

    def source_of(self, loc: tuple) -> tuple[Origin, tuple] | None:
        """The file (``Origin``) and location in it of the inherited content at ``loc`` (in
        the round's merged spec), following the parents up as far as the content comes from;
        None for the round's own content."""
        found = self.parent_loc(loc)
        if found is None:
            return None
        where = self
        while where.upstream is not None:
            further = where.upstream.parent_loc(found)
            if further is None:
                break
            where, found = where.upstream, further
        return where, found

    def parent_loc(self, loc: tuple) -> tuple | None:
        """``loc`` (in the merged spec) in the parent's file, when it is inherited content."""
        if not loc:
            return None
        if loc[0] in self.top:
            if loc[0] == "forms" and len(loc) > 3 and loc[2] == "opinions":
                kept = self.opinions.get(loc[1], [])
                if isinstance(loc[3], int) and loc[3] < len(kept):
                    return (*loc[:3], kept[loc[3]], *loc[4:])
            return loc
        if loc[0] == "categories" and len(loc) > 2 and loc[1] in self.categories:
            index, keys = self.categories[loc[1]]
            if loc[2] in keys:
                return ("categories", index, *loc[2:])
        return None

    def note(self, loc: tuple, name: str, round_line: int | None) -> str:
        """What the round's author reads after the message: which part of the round file
        ``name`` inherits the content, from which parent."""
        key = loc[2] if loc[0] == "categories" else loc[0]
        if loc[0] == "categories":
            where = f"{name} 第 {round_line} 行的类别" if round_line else f"{name} 的类别"
        else:
            where = name
        source = self.source_of(loc)
        via = f"（其内容来自上级项目 {source[0].code}）" if source and source[0] is not self else ""
        return (
            f"（{where}未写 {key}，沿用上级项目 {self.code} 的{via}；请在 {name} 中写出 {key} "
            "覆盖它，或改正与之冲突的内容）"
        )


def origin(data: dict, parent: dict, depth: int = 0) -> Origin:
    """The :class:`Origin` of the round ``data`` (its own TOML table) under ``parent``
    (:func:`parent_source`), with the parent's own when the parent is a round too."""
    spec = parent["spec"]
    by_code = {c["code"]: i for i, c in enumerate(spec.get("categories", []))}
    categories = {}
    for i, c in enumerate(data.get("categories", []) or []):
        if isinstance(c, dict) and c.get("code") in by_code:
            keys = frozenset(k for k in CATEGORY_INHERITED if k not in c)
            categories[i] = (by_code[c["code"]], keys)
    opinions = {}
    if "forms" not in data and isinstance(spec.get("forms"), dict):
        keys = _box_keys(data.get("categories", []) or [])
        for name, form in spec["forms"].items():
            boxes = form.get("opinions", [])
            opinions[name] = [k for k, b in enumerate(boxes) if b.get("by") in keys]
    return Origin(
        code=parent["code"],
        name=parent["source_name"] or parent["code"],
        index=LineIndex(parent["source_text"] or ""),
        top=frozenset(k for k in TOP_INHERITED if k not in data and spec.get(k) is not None),
        categories=categories,
        opinions=opinions,
        upstream=_upstream(parent, depth),
    )


def _upstream(parent: dict, depth: int) -> Origin | None:
    """The parent's own Origin when its file names a parent too (a few levels at most: a
    chain the database holds in a loop ends here rather than recursing)."""
    if depth >= 4:
        return None
    try:
        own = tomllib.loads(parent["source_text"] or "")
    except tomllib.TOMLDecodeError:
        return None
    code = own.get("parent")
    if not isinstance(code, str) or not code:
        return None
    try:
        return origin(own, parent_source(code), depth + 1)
    except ParentMissing:
        return None


def inherit(data: dict, parent: dict) -> dict:
    """``data`` (the city round's TOML table) with what it does not write taken from
    ``parent`` (the provincial spec); a category the parent lacks is refused at its code."""
    if "pilot" in data:
        raise LocatedValueError(
            "下级评选确认的单位作为推荐报送上级项目，不在本级立项：试点期（[pilot]）由上级项目"
            "规定，请从本文件中删去 [pilot]",
            ("pilot",),
        )
    out = dict(data)
    for key in TOP_INHERITED:
        if key not in out and parent.get(key) is not None:
            out[key] = parent[key]
    by_code = {c["code"]: c for c in parent.get("categories", [])}
    categories = []
    for i, c in enumerate(data.get("categories", []) or []):
        if not isinstance(c, dict):
            categories.append(c)
            continue
        if c.get("code") not in by_code:
            raise LocatedValueError(
                f"上级项目 {data.get('parent')} 没有类别 {c.get('code')}：市级评选的类别须是上级项目"
                f"的类别（{'、'.join(by_code)}），其确认名单才能作为该类别的推荐报送",
                ("categories", i, "code"),
            )
        merged = dict(c)
        for key in CATEGORY_INHERITED:
            if key not in merged:
                merged[key] = by_code[c["code"]][key]
        categories.append(merged)
    if categories:
        out["categories"] = categories
    if "forms" not in data and isinstance(out.get("forms"), dict):
        out["forms"] = _own_boxes(out["forms"], categories)
    return out


def _box_keys(categories: list) -> set:
    """Whose opinion boxes an inherited form keeps: the applicant's, the experts' and those
    of the stages this round has."""
    keys = {"applicant", "experts"}
    for c in categories:
        if isinstance(c, dict):
            keys |= {s.get("key") for s in c.get("flow", []) or [] if isinstance(s, dict)}
    return keys


def _own_boxes(forms: dict, categories: list) -> dict:
    """Inherited forms keep the opinion boxes of the stages this round has."""
    keys = _box_keys(categories)
    out = {}
    for name, form in forms.items():
        form = dict(form)
        form["opinions"] = [b for b in form.get("opinions", []) if b.get("by") in keys]
        out[name] = form
    return out


def parent_step(parent_category, issuer: Org):
    """The parent category's review stage the round's issuer acts at (its tier), or None."""
    return next(
        (s for s in parent_category.levels if s.kind == "tier_review" and s.tier == issuer.tier),
        None,
    )


def parent_places(parent: Programme, category: str, issuer: Org) -> int | None:
    """The issuer's places at the parent (None: no limit)."""
    spec = parent.parsed.category(category)
    policies = [q for q in spec.quotas if q.level == issuer.tier] if spec else []
    if not policies:
        return None
    alloc = QuotaAllocation.objects.filter(
        programme=parent, category=category, level=issuer.tier, holder=issuer, direct=False
    ).first()
    return bucket_limit(alloc, policies[0])


def check(spec, issuer: Org, err) -> None:
    """A round's place under its parent: a call, the issuer strictly inside the parent
    issuer's subtree, every category with a parent review at the issuer's tier, and a ``cap``
    within the issuer's places there. ``err(loc, message)`` reports at the file's line."""
    if not spec.parent:
        return
    parent = Programme.objects.select_related("issuer").filter(code=spec.parent).first()
    if parent is None:  # parse_text refused it already; a file checked without a database
        err(("parent",), f"上级项目 {spec.parent} 尚未载入")
        return
    if parent.code == spec.code or parent.parsed.parent == spec.code:
        err(("parent",), "项目不能是自己（或自己下级）的上级项目")
        return
    if spec.kind != "call" or parent.kind != "call":
        err(("parent",), '只有申报类项目（kind = "call"）可以逐级组织（parent）')
        return
    if issuer.pk == parent.issuer_id or not issuer.is_within(parent.issuer):
        err(
            ("issuer",),
            f"发文单位 {issuer.name} 须在上级项目发文单位 {parent.issuer.name} 的管辖范围内"
            "（其下级单位），其确认名单才能作为推荐报送上级项目",
        )
        return
    for ci, c in enumerate(spec.categories):
        pc = parent.parsed.category(c.code)
        if pc is None:
            continue
        if parent_step(pc, issuer) is None:
            err(
                ("categories", ci, "code"),
                f"上级项目 {parent.code} 的类别 {c.code} 没有{TIER_LABELS.get(issuer.tier, issuer.tier)}"
                f'审核（tier_review，tier = "{issuer.tier}"）：{issuer.name}的确认名单无处报送',
            )
            continue
        places = parent_places(parent, c.code, issuer)
        if c.cap is not None and places is not None and c.cap > places:
            err(
                ("categories", ci, "cap"),
                f"cap = {c.cap} 超过{issuer.name}在上级项目 {parent.code} 中的推荐名额（{places} 个）",
            )


def parent_row(programme: Programme) -> dict | None:
    """What ``programme show`` says of a round's parent: where each category's confirmed
    units go and within how many places."""
    code = programme.parsed.parent
    if not code:
        return None
    parent = Programme.objects.select_related("issuer").filter(code=code).first()
    if parent is None:
        return {"code": code, "title": "", "categories": []}
    issuer = programme.issuer
    rows = []
    for c in programme.parsed.categories:
        pc = parent.parsed.category(c.code)
        step = parent_step(pc, issuer) if pc else None
        places = parent_places(parent, c.code, issuer) if step else None
        rows.append(
            {
                "code": c.code,
                "stage": step.name if step else None,
                "places": places,
                "text": (
                    f"确认名单作为{issuer.name}的推荐报送{parent.title}（{step.name}，"
                    f"名额 {'不限' if places is None else f'{places} 个'}）"
                    if step
                    else "上级项目没有对应的审核阶段"
                ),
            }
        )
    return {
        "code": parent.code,
        "title": parent.title,
        "categories": rows,
        "inherited": inherited_parts(programme),
        "end_state": {
            "state": FORWARDED,
            "label": FORWARDED_LABEL,
            "text": (
                f"公示期满、公布最终名单时，名单中的申报状态变为“{FORWARDED_LABEL}”，作为"
                f"{issuer.name}的推荐进入上级项目{parent.title}（在上级项目中新建申报，等待上级审核）；"
                "本项目不为其建立试点，试点期由上级项目管理"
            ),
        },
    }


def inherited_parts(programme: Programme) -> dict:
    """What the round took from its parent rather than writing it (read from its own file):
    ``top``, the top-level parts; ``categories``, per category code, the category's parts."""
    try:
        data = tomllib.loads(programme.source_text or "")
    except tomllib.TOMLDecodeError:
        data = {}
    own = {c.get("code"): c for c in data.get("categories", []) if isinstance(c, dict)}
    return {
        "top": [k for k in TOP_INHERITED if k not in data and programme.spec.get(k)],
        "categories": {
            c.code: [k for k in CATEGORY_INHERITED if k not in own.get(c.code, {})]
            for c in programme.parsed.categories
        },
    }


def parent_title(programme: Programme) -> str:
    """The title of the programme ``programme`` is a round of (its ``parent``), else ""."""
    code = programme.parsed.parent
    if not code:
        return ""
    return Programme.objects.filter(code=code).values_list("title", flat=True).first() or code


def round_rows(programme: Programme) -> list[dict]:
    """The rounds loaded under ``programme`` (those naming it as ``parent``)."""
    return [
        {"code": r.code, "title": r.title, "issuer": r.issuer.name}
        for r in Programme.objects.filter(spec__parent=programme.code)
        .select_related("issuer")
        .order_by("code")
    ]
