"""Set rules (``[[categories.set_rules]]``) as a recommendation sees them.

A rule's set is what one org of the rule's tier recommends in a category: the active
recommendations with that tier and org. A recommendation adding to a set locks it (a
PostgreSQL advisory transaction lock per set, taken after the review levels and before the
quota rows, see locks.py), so two reviewers of one county cannot both pass the last
place a rule allows; then every rule is checked on the set as it would be, with the places
its quota leaves.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from edupilot.applications.models import Application
from edupilot.orgs.models import Org
from edupilot.programmes import sets as setrules
from edupilot.programmes.models import ParticipantEntry

from . import hooks
from .locks import advisory_locks
from .models import ReviewAction, ReviewDecision

SetKey = tuple[int, str, str, int]  # programme, category, tier, recommending org


def set_groups(apps: list[Application], steps: dict[int, int]) -> dict[tuple, list[Application]]:
    """``{(rule index, set key): [applications added to that set]}`` for the rules checked
    on recommendation."""
    groups: dict[tuple, list[Application]] = defaultdict(list)
    for app in apps:
        category = app.programme.parsed.category(app.category)
        info = app.chain[steps[app.pk]]
        if category is None or info.get("kind", "tier_review") != "tier_review":
            continue
        for ri, rule in enumerate(category.set_rules):
            if "recommend" in rule.moments and info["tier"] == rule.level:
                key = (app.programme_id, app.category, rule.level, info["org"])
                groups[(ri, key)].append(app)
    return groups


def lock_sets(keys) -> None:
    """Serialise changes to the same recommendation sets, in sorted order like every other
    lock."""
    advisory_locks("set-rule", keys)


def set_members(key: SetKey):
    programme_id, category, tier, org_id = key
    return ReviewDecision.objects.filter(
        programme_id=programme_id,
        category=category,
        tier=tier,
        org_id=org_id,
        active=True,
        action=ReviewAction.RECOMMEND,
    ).select_related("application__applicant_org__group", "application__applicant_org__parent")


def _room(apps, level: str, states: dict, spends: dict) -> int | None:
    """Places the quota of tier ``level`` leaves after these recommendations (None: no limit)."""
    left = None
    for key, state in states.items():
        if key[2] != level or not any(a in spends[key] for a in apps):
            continue
        if state.limit is not None:
            after = state.limit - state.used - len(spends[key])
            left = after if left is None else min(left, after)
    return None if left is None else max(left, 0)


def check_sets(groups: dict[tuple, list[Application]], states: dict, spends: dict) -> str | None:
    """The first broken rule's message (naming its units), or None."""
    for (ri, key), added in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        app = added[0]
        spec = app.programme.parsed
        category = spec.category(app.category)
        rule = category.set_rules[ri]
        decisions = list(set_members(key))
        new = [a.applicant_org for a in added]
        topic_of = {d.application.applicant_org_id: d.application.topic for d in decisions}
        topic_of.update({a.applicant_org_id: a.topic for a in added})
        holder = Org.objects.get(pk=key[3]) if rule.kind == "covers" else None
        failure = setrules.check_rule(
            rule,
            holder=_("%(org)s推荐的申报") % {"org": app.chain[app.current_step]["org_name"]},
            members=[d.application.applicant_org for d in decisions] + new,
            added=new,
            room=_room(added, rule.level, states, spends),
            **setrules.rule_context(rule, spec, category, app.programme.issuer, holder, topic_of),
        )
        if failure is not None:
            return failure.message
    return None


def check_leaving(app: Application, decisions: list[ReviewDecision]) -> str | None:
    """Recommendations of ``app`` about to stop counting (withdrawn, returned from above):
    the ``confirm_ratio`` sets they leave are locked (the issuer's approval locks them too),
    and the change is refused when the issuer has already confirmed more of what is left than
    the ratio allows of it. Other rules cannot break by a set shrinking: an upper bound only
    falls, and a lower bound's room grows by the place freed."""
    category = app.programme.parsed.category(app.category)
    rules = [r for r in (category.set_rules if category else []) if r.kind == "confirm_ratio"]
    leaving = {d.pk for d in decisions}
    keys = {
        (d.programme_id, d.category, d.tier, d.org_id): d
        for d in decisions
        if d.active and d.action == ReviewAction.RECOMMEND and any(r.level == d.tier for r in rules)
    }
    if not keys:
        return None
    lock_sets(keys)
    for key, d in sorted(keys.items()):
        left = [x.application_id for x in set_members(key) if x.pk not in leaving]
        confirmed = hooks.confirmed_count(key[0], key[1], left)
        for rule in (r for r in rules if r.level == key[2]):
            limit = setrules.ratio_limit(rule, len(left))
            if confirmed > limit:
                return setrules.SetFailure(
                    rule,
                    _("%(org)s推荐的申报") % {"org": app.chain[d.step]["org_name"]},
                    _(
                        "去掉这一个后共 %(n)s 个，%(ratio)s，"
                        "而审定单位已确认 %(confirmed)s 个；请先请审定单位撤销一个确认"
                    )
                    % {
                        "n": len(left),
                        "ratio": setrules.ratio_words(rule, len(left)),
                        "confirmed": confirmed,
                    },
                    [app.applicant_org.name],
                ).message
    return None


def priority_rank(app: Application, level_qs) -> int | None:
    """Where a unit with a priority title goes among its level's recommendations by default:
    after the others with one, ahead of those without (None: no priority title, last)."""
    category = app.programme.parsed.category(app.category)
    if category is None or not any(t.priority for t in category.titles):
        return None
    titles = setrules.titles_of(category, [app.applicant_org])[app.applicant_org.pk]
    if not any(t.priority for t in titles):
        return None
    ranked = list(level_qs.select_related("application__applicant_org").order_by("rank"))
    held = setrules.titles_of(category, [d.application.applicant_org for d in ranked])
    ahead = sum(1 for d in ranked if any(t.priority for t in held[d.application.applicant_org.pk]))
    return ahead + 1


# --- titles as the queue shows them ---------------------------------------------------------


def title_flags(programmes) -> dict[str, Exists]:
    """Annotations for the queue's page query: ``on_list_<code>`` says whether the applicant is
    on a list that a category's ``[[categories.titles]]`` name (in the page's own query, no
    query per row; none when no programme declares a title)."""
    codes = sorted({t.list for p in programmes for c in p.parsed.categories for t in c.titles})
    return {
        _flag(code): Exists(
            ParticipantEntry.objects.filter(org_id=OuterRef("applicant_org_id"), plist__code=code)
        )
        for code in codes
    }


def _flag(code: str) -> str:
    return "on_list_" + code.encode().hex()  # a valid name whatever the code


def title_badge(app: Application, category) -> str:
    """The titles ``app``'s unit holds in ``category``, as the queue's badge reads them
    ("省级示范校 · 优先"), from the page query's :func:`title_flags`."""
    if category is None or not category.titles:
        return ""
    badges = []
    for t in category.titles:
        if getattr(app, _flag(t.list), False):
            effects = [
                *([_("不占名额")] if t.admit == "outside_quota" else []),
                *([_("优先")] if t.priority else []),
            ]
            badges.append(" · ".join([t.name, *effects]))
    return _("、").join(badges)
