"""Rules over a set of units: which orgs a class or condition means, and whether a set of
recommended (or approved) units keeps a ``[[categories.set_rules]]`` rule.

The services that change a set (review's recommendation, selection's approval) lock it,
gather its members and call :func:`check_rule`; a failure names the rule's message, the
org whose set it is, and the units that make it fail, so the screen can say what to change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from django.utils.translation import gettext as _

from edupilot.core.numbers import plain
from edupilot.orgs.models import Org, OrgKind, subtree_q

from . import quotas
from .models import ParticipantEntry
from .set_schema import GROUP_LABEL, OrgMatch, SetRule


def lists_of(orgs: list[Org]) -> dict[int, set[str]]:
    """The participant lists each org is on (one query)."""
    out: dict[int, set[str]] = {o.pk: set() for o in orgs}
    for org_id, code in ParticipantEntry.objects.filter(org__in=orgs).values_list(
        "org_id", "plist__code"
    ):
        out.setdefault(org_id, set()).add(code)
    return out


def titles_of(category, orgs: list[Org]) -> dict[int, list]:
    """``{org: [Title]}``: the category's ``[[categories.titles]]`` each org holds (one query,
    none when the category declares no title)."""
    if category is None or not category.titles:
        return {o.pk: [] for o in orgs}
    lists = lists_of(orgs)
    return {o.pk: [t for t in category.titles if t.list in lists.get(o.pk, set())] for o in orgs}


def admitted_outside_quota(category, org: Org) -> bool:
    """Whether a title admits ``org`` outside the quota (no query without titles)."""
    if category is None or not category.titles:
        return False
    return any(t.admit == "outside_quota" for t in titles_of(category, [org])[org.pk])


@dataclass
class Matcher:
    """An :class:`OrgMatch` with its named orgs resolved."""

    match: OrgMatch
    org_ids: frozenset[int] = frozenset()

    @classmethod
    def build(cls, match: OrgMatch, issuer: Org | None, loc: tuple = ()) -> Matcher:
        """Raises ``quotas.QuotaResolveError`` (with ``loc``) for a name not in the tree."""
        orgs = quotas.resolve_orgs(list(match.orgs), issuer, (*loc, "orgs")) if match.orgs else []
        return cls(match, frozenset(o.pk for o in orgs))

    def __call__(self, org: Org, lists: set[str]) -> bool:
        m = self.match
        return (
            (not m.orgs or org.pk in self.org_ids)
            and (not m.lists or bool(lists & set(m.lists)))
            and (not m.kind or org.kind in m.kind)
            and (not m.locality or org.locality in m.locality)
            and (not m.ownership or org.ownership in m.ownership)
            and (not m.stages or bool(set(org.stage_list) & set(m.stages)))
            and all(str((org.extra or {}).get(k, "")) in v for k, v in m.extra.items())
        )


def group_of(rule: SetRule, org: Org) -> tuple[str, str] | None:
    """(key, name) of the group ``org`` belongs to for ``rule``; None: in no group."""
    if rule.per == "group":
        return (str(org.group_id), org.group.name) if org.group_id else None
    if rule.per == "parent":
        return (str(org.parent_id), org.parent.name) if org.parent_id else None
    key = rule.per.removeprefix("extra.")
    value = (org.extra or {}).get(key)
    return (str(value), f"{key} = {value}") if value not in (None, "") else None


@dataclass
class SetFailure:
    """A set that breaks a rule: what the file says, whose set, and which units."""

    rule: SetRule
    holder: str
    detail: str
    units: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        units = (
            _("涉及的单位：%(names)s。") % {"names": _("、").join(self.units)} if self.units else ""
        )
        return _("%(message)s（规则 %(rule)s：%(holder)s%(detail)s）%(units)s") % {
            "message": self.rule.message,
            "rule": self.rule.id,
            "holder": self.holder,
            "detail": self.detail,
            "units": units,
        }


def _names(orgs) -> list[str]:
    return [o.name for o in orgs]


def ratio_limit(rule: SetRule, recommended: int) -> int:
    """⌊n / ratio⌋: the most a ``confirm_ratio`` rule lets the issuer confirm of n."""
    return int((Decimal(recommended) / rule.ratio).to_integral_value(ROUND_FLOOR))


def ratio_words(rule: SetRule, recommended: int) -> str:
    """The bound of :func:`ratio_limit` as refusals say it: "至多确认 ⌊n / r⌋ = k 个"."""
    limit = ratio_limit(rule, recommended)
    return _("至多确认 ⌊%(recommended)s / %(ratio)s⌋ = %(limit)s 个") % {
        "recommended": recommended,
        "ratio": plain(rule.ratio),
        "limit": limit,
    }


def coverage_cells(rule: SetRule, spec, category, holder: Org) -> tuple[list, list[Org]]:
    """The cells a ``covers`` rule asks for under ``holder``: ``[((topic, org id), label)]``,
    and the orgs of tier ``each_org_at`` under it."""
    names = {t.code: t.name for t in spec.topics}
    topics: list = [None]
    if rule.each_topic == "topic":
        topics = list(category.topics)
    elif rule.each_topic == "direction":
        topics = list(dict.fromkeys(spec.direction_of(t) for t in category.topics))
    orgs: list = []
    if rule.each_org_at:
        orgs = list(
            Org.objects.filter(subtree_q(holder.path), tier=rule.each_org_at, is_active=True)
            .exclude(kind__in=[OrgKind.SCHOOL, OrgKind.UNIVERSITY, OrgKind.UNIT, OrgKind.GROUP])
            .exclude(pk=holder.pk)
            .order_by("path")
        )
    cells = [
        (
            (t, o.pk if o else None),
            "·".join(x for x in (names.get(t, t) if t else "", o.name if o else "") if x),
        )
        for t in topics
        for o in (orgs or [None])
    ]
    return cells, orgs


def cell_key(rule: SetRule, spec, org: Org, topic: str, orgs_at: list[Org]) -> tuple:
    """The cell one unit (with its application's ``topic``) fills for a ``covers`` rule."""
    t = None
    if rule.each_topic == "topic":
        t = topic
    elif rule.each_topic == "direction":
        t = spec.direction_of(topic)
    o = next((x.pk for x in orgs_at if org.is_within(x)), None) if rule.each_org_at else None
    return (t, o)


def _covers(rule, holder, members, added, room, cells, key_of) -> SetFailure | None:
    counts = dict.fromkeys((k for k, _label in cells), 0)
    before = dict(counts)
    for o in members:
        k = key_of(o)
        if k in counts:
            counts[k] += 1
            if o not in added:
                before[k] += 1
    missing = [(label, rule.min - counts[k]) for k, label in cells if counts[k] < rule.min]
    short = sum(n for _label, n in missing)
    if room is None or short <= room:
        return None
    useless = [o for o in added if before.get(key_of(o), rule.min) >= rule.min]
    shown = _("、").join(label for label, _n in missing[:8]) + (_("等") if len(missing) > 8 else "")
    return SetFailure(
        rule,
        holder,
        _("尚缺 %(short)s 个才能覆盖：%(shown)s，而此后只剩 %(room)s 个名额")
        % {"short": short, "shown": shown, "room": room},
        _names(useless or added),
    )


def rule_context(
    rule: SetRule, spec, category, issuer: Org, holder: Org | None, topic_of: dict[int, str]
) -> dict:
    """The keyword arguments of :func:`check_rule` that depend on the rule's kind: the
    condition of ``at_least`` (its names resolved under ``issuer``), the cells of ``covers``
    under ``holder`` (``topic_of``: each unit's topic)."""
    if rule.kind == "at_least":
        return {"matcher": Matcher.build(rule.where, issuer)}
    if rule.kind != "covers":
        return {}
    cells, orgs_at = coverage_cells(rule, spec, category, holder)
    return {
        "cells": cells,
        "key_of": lambda o: cell_key(rule, spec, o, topic_of.get(o.pk, ""), orgs_at),
    }


def check_rule(
    rule: SetRule,
    *,
    holder: str,
    members: list[Org],
    added: list[Org],
    room: int | None,
    matcher: Matcher | None = None,
    lists: dict[int, set[str]] | None = None,
    recommended: int | None = None,
    cells: list | None = None,
    key_of=None,
) -> SetFailure | None:
    """Whether ``members`` (the set after the change, ``added`` among them) keeps ``rule``.

    ``room``: how many more units the set may still take (None: no limit), so that
    ``at_least`` fails only once it can no longer be met. ``recommended``: for
    ``confirm_ratio``, how many units the holder recommended. ``cells`` and ``key_of``: for
    ``covers``, the cells asked for (:func:`coverage_cells`) and the cell of a unit.
    """
    if rule.kind == "covers":
        return _covers(rule, holder, members, added, room, cells, key_of)
    if rule.kind == "at_least":
        lists = lists if lists is not None else lists_of(members)
        have = [o for o in members if matcher(o, lists.get(o.pk, set()))]
        if room is None or len(have) + room >= rule.min:
            return None
        others = [o for o in added if o not in have]
        return SetFailure(
            rule,
            holder,
            _(
                "共 %(count)s 个，其中%(where)s的 %(have)s 个，须至少 %(min)s 个，"
                "而此后只剩 %(room)s 个名额"
            )
            % {
                "count": len(members),
                "where": rule.where.describe(),
                "have": len(have),
                "min": rule.min,
                "room": room,
            },
            _names(others or added),
        )
    if rule.kind == "at_most_per_group":
        groups: dict[str, tuple[str, list[Org]]] = {}
        for o in members:
            g = group_of(rule, o)
            if g is not None:
                groups.setdefault(g[0], (g[1], []))[1].append(o)
        for name, units in groups.values():
            if len(units) > rule.max and any(o in added for o in units):
                label = GROUP_LABEL.get(rule.per, rule.per)
                return SetFailure(
                    rule,
                    holder,
                    _("中同属%(label)s“%(name)s”的有 %(count)s 个，至多 %(max)s 个")
                    % {"label": label, "name": name, "count": len(units), "max": rule.max},
                    _names(units),
                )
        return None
    limit = ratio_limit(rule, recommended or 0)
    if len(members) <= limit:
        return None
    return SetFailure(
        rule,
        holder,
        _("共 %(recommended)s 个，%(bound)s，同意后将确认 %(count)s 个")
        % {
            "recommended": recommended,
            "bound": ratio_words(rule, recommended or 0),
            "count": len(members),
        },
        _names(added),
    )
