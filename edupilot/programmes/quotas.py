"""Quota policies: explicit tables, percentages of a count, and apportioned totals.

Every policy yields one row per quota holder with how the number was derived; formula
policies are checked against the table the notice itself declared, and the differences are
reported rather than hidden (the notices' own tables do not always follow their formulas).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from edupilot.core.numbers import plain
from edupilot.orgs.models import Org, OrgKind, Tier, subtree_q

from . import folds as folding
from . import schema
from . import sets as setrules

ROUNDING = {"half_up": ROUND_HALF_UP, "ceil": ROUND_CEILING, "floor": ROUND_FLOOR}
ROUNDING_LABEL = {
    "half_up": gettext_lazy("四舍五入"),
    "ceil": gettext_lazy("向上取整"),
    "floor": gettext_lazy("向下取整"),
}


class QuotaResolveError(ValueError):
    """A quota table names an org that is not in the tree (or names it ambiguously)."""

    def __init__(self, message: str, loc: tuple):
        super().__init__(message)
        self.loc = loc


@dataclass
class QuotaRow:
    category: str
    level: str
    holder: Org
    direct: bool
    policy: str
    label: str = ""
    basis: int | None = None
    computed: int | None = None
    declared: int | None = None
    effective: int = 0
    unlimited: bool = False
    derivation: str = ""
    # The count the notice's authors used, where the file records one (see QuotaEntry.basis).
    notice_basis: int | None = None
    notice_computed: int | None = None
    note: str = ""

    @property
    def difference(self) -> int | None:
        """Declared minus computed: how far the notice's table departs from its formula."""
        if self.computed is None or self.declared is None:
            return None
        return self.declared - self.computed

    @property
    def differs(self) -> bool:
        return (
            self.computed is not None
            and self.declared is not None
            and self.computed != self.declared
        )


@dataclass
class QuotaReport:
    category: str
    level: str
    policy: str
    rows: list[QuotaRow] = field(default_factory=list)
    declared_total: int | None = None
    unlisted: str = "zero"
    problems: list[str] = field(default_factory=list)
    formula: str = ""
    authority: str = ""
    count_label: str = ""
    note: str = ""
    # Orgs at the quota's tier that the table leaves out (they get ``unlisted``).
    unlisted_holders: list[Org] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(r.effective for r in self.rows)

    @property
    def computed_total(self) -> int | None:
        return _known_sum(r.computed for r in self.rows)

    @property
    def declared_rows_total(self) -> int | None:
        return _known_sum(r.declared for r in self.rows)

    @property
    def basis_total(self) -> int | None:
        return _known_sum(r.basis for r in self.rows)

    @property
    def notice_basis_total(self) -> int | None:
        """The formula's counts as the notice's authors had them (today's where not recorded)."""
        if not any(r.notice_basis is not None for r in self.rows):
            return None
        return sum(
            r.notice_basis if r.notice_basis is not None else (r.basis or 0)
            for r in self.rows
            if r.basis is not None or r.notice_basis is not None
        )

    @property
    def differing_rows(self) -> list[QuotaRow]:
        return [r for r in self.rows if r.differs]


def _known_sum(values) -> int | None:
    """The sum of the values given (None: not given); None when none is."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def bucket_limit(allocation, policy) -> int | None:
    """The places a bucket holds (None: no limit): its allocation row's effective number, or,
    for a holder the policy does not list, what ``unlisted`` says."""
    if allocation is None:
        return None if policy.unlisted == "unlimited" else 0
    return None if allocation.unlimited else allocation.effective


def _pick(ref: str, candidates: list[Org], within: Org | None, loc: tuple) -> Org:
    """The org ``ref`` names among ``candidates`` (every org whose code or name is ``ref``)."""
    by_code = [o for o in candidates if o.code == ref]
    if by_code:
        return by_code[0]
    matches = [o for o in candidates if o.name == ref]
    if within is not None and len(matches) > 1:
        matches = [o for o in matches if o.is_within(within)]
    if not matches:
        raise QuotaResolveError(f"机构“{ref}”不存在（请使用机构代码或准确全称）", loc)
    if len(matches) > 1:
        raise QuotaResolveError(f"机构名称“{ref}”不唯一，请改用机构代码", loc)
    return matches[0]


def resolve_org(ref: str, within: Org | None, loc: tuple) -> Org:
    """An org by code, or by exact name (within the issuer's subtree when names repeat)."""
    return _pick(ref, list(Org.objects.filter(Q(code=ref) | Q(name=ref))), within, loc)


def resolve_orgs(refs: list[str], within: Org | None, loc: tuple) -> list[Org]:
    """Several refs in one query (a quota table has dozens); ``loc`` + index names a bad one."""
    if not refs:
        return []
    candidates = list(Org.objects.filter(Q(code__in=refs) | Q(name__in=refs)))
    by_ref: dict[str, list[Org]] = {}
    for o in candidates:
        by_ref.setdefault(o.code, []).append(o)
        if o.name != o.code:
            by_ref.setdefault(o.name, []).append(o)
    return [_pick(ref, by_ref.get(ref, []), within, (*loc, i, "org")) for i, ref in enumerate(refs)]


def round_decimal(value: Decimal, rounding: str) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUNDING[rounding]))


def largest_remainder(total: int, weights: list[int], minimum: int = 0) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (Hamilton's method).

    Each holder first gets ``minimum`` places; what is left is split by quotas, rounded
    down, and the places still left go to the largest remainders (ties to the larger
    weight, then to the earlier holder, so the result is deterministic).
    """
    n = len(weights)
    if n == 0:
        return []
    base = [minimum] * n
    rest = total - minimum * n
    if rest < 0:
        raise ValueError(f"总数 {total} 不足以给 {n} 个单位各分 {minimum} 个")
    weight_sum = sum(weights)
    if weight_sum == 0 or rest == 0:
        # Nothing to weigh by: share the rest one by one in order.
        for i in range(rest):
            base[i % n] += 1
        return base
    exact = [Decimal(rest) * w / weight_sum for w in weights]
    floors = [int(e) for e in exact]
    left = rest - sum(floors)
    order = sorted(range(n), key=lambda i: (-(exact[i] - floors[i]), -weights[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [b + f for b, f in zip(base, floors, strict=True)]


def _holders(issuer: Org, level: str, folded: dict | None = None) -> list[Org]:
    """Orgs at ``level`` under the issuer; a unit folded into another holds no quota."""
    return [
        o
        for o in Org.objects.filter(subtree_q(issuer.path), tier=level, is_active=True)
        .exclude(kind__in=[OrgKind.SCHOOL, OrgKind.UNIVERSITY, OrgKind.UNIT, OrgKind.GROUP])
        .order_by("path")
        if o.pk not in (folded or {})
    ]


def _fold_adjust(counts: dict[int, int], holders: list[Org], folded: dict, spec) -> None:
    """Move each folded unit's count (its own subtree, itself included) from the holders it
    sits in to the holders its 归口 unit sits in."""
    for fold in folded.values():
        inner = _counts([fold.org], spec).get(fold.org.pk, 0)
        if (
            spec.what == "counties"
            and fold.org.tier == Tier.COUNTY
            or spec.what == "schools"
            and fold.org.kind == OrgKind.SCHOOL
        ):
            inner += 1
        for h in holders:
            if fold.into.is_within(h) and not fold.org.is_within(h):
                counts[h.pk] += inner
            elif fold.org.is_within(h) and not fold.into.is_within(h):
                counts[h.pk] -= inner


def _counts(holders: list[Org], spec: schema.CountSpec) -> dict[int, int]:
    """How many counties or schools each holder has in its subtree (one query for all)."""
    if not holders:
        return {}
    qs = Org.objects.filter(is_active=True)
    if spec.what == "counties":
        qs = qs.filter(tier=Tier.COUNTY)
    else:
        qs = qs.filter(kind=OrgKind.SCHOOL)
        if spec.stages:
            stage_q = Q()
            for s in spec.stages:
                stage_q |= Q(stages__contains=f",{s},")
            qs = qs.filter(stage_q)
    within = Q()
    for h in holders:
        within |= subtree_q(h.path)
    counts = qs.filter(within).aggregate(
        **{f"h{h.pk}": Count("pk", filter=subtree_q(h.path) & ~Q(pk=h.pk)) for h in holders}
    )
    return {h.pk: counts[f"h{h.pk}"] for h in holders}


def _declared_map(
    entries: Iterable[schema.QuotaEntry], issuer: Org, loc: tuple, folded: dict | None = None
) -> dict[tuple[int, bool], tuple[Org, schema.QuotaEntry]]:
    entries = list(entries)
    orgs = resolve_orgs([e.org for e in entries], issuer, loc)
    out = {}
    for i, (e, org) in enumerate(zip(entries, orgs, strict=True)):
        fold = (folded or {}).get(org.pk)
        if fold is not None and not e.direct:
            raise QuotaResolveError(
                f"{org.name} 已按 [[folds]] 归口到 {fold.into.name}，其申报计入 "
                f"{fold.into.name} 的名额，名额表中不应再列出它",
                (*loc, i, "org"),
            )
        key = (org.pk, e.direct)
        if key in out:
            raise QuotaResolveError(f"机构“{e.org}”在名额表中出现了两次", (*loc, i, "org"))
        out[key] = (org, e)
    return out


# Formulas and derivations are words of the product (translated when computed, so a page
# shows them in its language); quota_sync stores them in LANGUAGE_CODE.
COUNT_LABEL = {"counties": gettext_lazy("县（市、区）数"), "schools": gettext_lazy("学校数")}
STAGE_LABEL = {
    "kindergarten": gettext_lazy("幼儿园"), "primary": gettext_lazy("小学"),
    "junior": gettext_lazy("初中"), "senior": gettext_lazy("高中"),
    "vocational": gettext_lazy("中职"), "teaching_point": gettext_lazy("教学点"),
}  # fmt: skip


def count_label(spec: schema.CountSpec) -> str:
    if spec.what == "schools" and spec.stages:
        stages = _("、").join(str(STAGE_LABEL[s]) for s in spec.stages)
        return _("学校数（%(stages)s）") % {"stages": stages}
    return str(COUNT_LABEL[spec.what])


def formula_text(policy) -> str:
    """The policy in words, for reports and pages."""
    text = _formula_text(policy)
    if policy.earlier_rounds:
        rounds = _("、").join(policy.earlier_rounds)
        text += _("（与往轮 %(rounds)s 合计：往轮已推荐的计入名额）") % {"rounds": rounds}
    return text


def _limit_word(unlimited: bool) -> str:
    return _("不限") if unlimited else _("0 个")


def _formula_text(policy) -> str:
    if isinstance(policy, schema.TableQuota):
        return _("名额表")
    if isinstance(policy, schema.EachQuota):
        parts = [_("%(name)s每个 %(quota)s 个") % {"name": c.name, "quota": c.quota} for c in policy.classes]  # fmt: skip
        if policy.quota is not None:
            rest = _("其余每个单位 %(quota)s 个") if parts else _("每个单位 %(quota)s 个")
            parts.append(rest % {"quota": policy.quota})
        return _("；").join(parts) + (_("；另有名额表") if policy.entries else "")
    what = count_label(policy.count)
    minimum = (
        _("，每单位不少于 %(minimum)s") % {"minimum": policy.minimum} if policy.minimum else ""
    )
    if isinstance(policy, schema.PercentQuota):
        return _("%(what)s × %(percent)s%%，%(rounding)s%(minimum)s") % {
            "what": what,
            "percent": policy.percent,
            "rounding": ROUNDING_LABEL[policy.rounding],
            "minimum": minimum,
        }
    return _("总数 %(total)s 按%(what)s用最大余额法分配%(minimum)s") % {
        "total": policy.total,
        "what": what,
        "minimum": minimum,
    }


def _percent(count: int, policy: schema.PercentQuota, what: str) -> tuple[int, str]:
    exact = Decimal(count) * policy.percent / 100
    rounded = round_decimal(exact, policy.rounding)
    value = max(rounded, policy.minimum)
    how = _("%(what)s %(count)s × %(percent)s%% = %(exact)s，%(rounding)s得 %(rounded)s") % {
        "what": what,
        "count": count,
        "percent": policy.percent,
        "exact": plain(exact),
        "rounding": ROUNDING_LABEL[policy.rounding],
        "rounded": rounded,
    }
    if policy.minimum and rounded < policy.minimum:
        how += _("，不少于 %(minimum)s，取 %(value)s") % {"minimum": policy.minimum, "value": value}
    return value, how


def _listed_rows(category, policy, report: QuotaReport, entries: dict, kind: str) -> None:
    """A row for each org the file lists by name, with the quota the file gives it."""
    for org, e in entries.values():
        report.rows.append(
            QuotaRow(
                category.code,
                policy.level,
                org,
                e.direct,
                kind,
                label=e.label,
                declared=e.quota,
                effective=e.quota,
                derivation=_("名额表"),
                note=e.note,
            )
        )


def _table_rows(category, policy, issuer: Org, report: QuotaReport, qloc: tuple, folded) -> None:
    """A quota table's rows, and a row for every holder it does not list."""
    entries = _declared_map(policy.entries, issuer, (*qloc, "entries"), folded)
    listed = {org_id for org_id, direct in entries if not direct}
    holders = _holders(issuer, policy.level, folded)
    report.unlisted_holders = [h for h in holders if h.pk not in listed]
    _listed_rows(category, policy, report, entries, "table")
    # Every holder gets a row, so that an admin can override an unlisted one (with a
    # reason) and enforcement finds a row for everyone.
    unlimited = policy.unlisted == "unlimited"
    for h in report.unlisted_holders:
        report.rows.append(
            QuotaRow(
                category.code,
                policy.level,
                h,
                False,
                "table",
                effective=0,
                unlimited=unlimited,
                derivation=_("名额表未列：%(limit)s") % {"limit": _limit_word(unlimited)},
            )
        )


def _each_rows(category, policy, issuer: Org, report: QuotaReport, qloc: tuple, folded) -> None:
    """``each``: a number per holder, from the first class it matches (or ``quota``); the
    ``entries`` table overrides single holders and adds ``direct`` buckets."""
    entries = _declared_map(policy.entries, issuer, (*qloc, "entries"), folded)
    holders = _holders(issuer, policy.level, folded)
    matchers = [
        setrules.Matcher.build(c, issuer, (*qloc, "classes", ki))
        for ki, c in enumerate(policy.classes)
    ]
    lists = setrules.lists_of(holders) if any(c.lists for c in policy.classes) else {}
    for h in holders:
        if (h.pk, False) in entries:
            continue
        cls = next(
            (
                c
                for c, m in zip(policy.classes, matchers, strict=True)
                if m(h, lists.get(h.pk, set()))
            ),
            None,
        )
        if cls is not None:
            how = _("%(name)s：每个 %(quota)s 个") % {"name": cls.name, "quota": cls.quota}
            value, unlimited = cls.quota, False
        elif policy.quota is not None:
            how = _("每个单位 %(quota)s 个") % {"quota": policy.quota}
            value, unlimited = policy.quota, False
        else:
            unlimited = policy.unlisted == "unlimited"
            how = _("不属于任何名额类别：%(limit)s") % {"limit": _limit_word(unlimited)}
            value = 0
            report.unlisted_holders.append(h)
        report.rows.append(
            QuotaRow(
                category.code,
                policy.level,
                h,
                False,
                "each",
                label=cls.name if cls else "",
                computed=value,
                effective=value,
                unlimited=unlimited,
                derivation=how,
            )
        )
    _listed_rows(category, policy, report, entries, "each")


def _formula_rows(category, policy, issuer: Org, report: QuotaReport, qloc: tuple, folded) -> None:
    """A percent or apportioned quota's rows, checked against the notice's own table."""
    holders = _holders(issuer, policy.level, folded)
    counts = _counts(holders, policy.count)
    _fold_adjust(counts, holders, folded, policy.count)
    declared = _declared_map(policy.declared, issuer, (*qloc, "declared"), folded)
    what = count_label(policy.count)
    report.count_label = what
    if isinstance(policy, schema.PercentQuota):
        values = {h.pk: _percent(counts[h.pk], policy, what) for h in holders}
    else:
        split = largest_remainder(policy.total, [counts[h.pk] for h in holders], policy.minimum)
        weight_sum = sum(counts[h.pk] for h in holders)
        how = _("总数 %(total)s 按%(what)s（%(count)s/%(sum)s）最大余额法分配得 %(value)s")
        values = {
            h.pk: (
                v,
                how
                % {
                    "total": policy.total,
                    "what": what,
                    "count": counts[h.pk],
                    "sum": weight_sum,
                    "value": v,
                },  # fmt: skip
            )
            for h, v in zip(holders, split, strict=True)
        }
    for h in holders:
        v, how = values[h.pk]
        d = declared.get((h.pk, False))
        entry = d[1] if d else None
        row = QuotaRow(
            category.code,
            policy.level,
            h,
            False,
            policy.policy,
            label=entry.label if entry else "",
            basis=counts[h.pk],
            computed=v,
            declared=entry.quota if entry else None,
            derivation=how,
            notice_basis=entry.basis if entry else None,
            note=entry.note if entry else "",
        )
        if (
            row.notice_basis is not None
            and row.notice_basis != row.basis
            and isinstance(policy, schema.PercentQuota)
        ):
            then, then_how = _percent(row.notice_basis, policy, what)
            row.notice_computed = then
            row.derivation += _("；通知发布时%(how)s") % {"how": then_how}
        use_declared = policy.authority == "declared" and row.declared is not None
        row.effective = row.declared if use_declared else v
        if use_declared and row.differs:
            row.derivation += _("；以通知公布的名额表为准：%(declared)s") % {
                "declared": row.declared
            }
        report.rows.append(row)
    holder_ids = {h.pk for h in holders}
    for (org_id, direct), (org, e) in declared.items():
        if direct or org_id not in holder_ids:
            report.rows.append(
                QuotaRow(
                    category.code,
                    policy.level,
                    org,
                    direct,
                    policy.policy,
                    label=e.label,
                    declared=e.quota,
                    effective=e.quota,
                    derivation=_("名额表（公式未覆盖）"),
                    note=e.note,
                )
            )


def _check_totals(policy, report: QuotaReport) -> None:
    if report.declared_total is not None and report.total != report.declared_total:
        report.problems.append(
            f"名额合计 {report.total} 与通知公布的合计 {report.declared_total} 不一致"
        )
    computed_total = report.computed_total
    if (
        policy.policy not in ("table", "each")
        and report.declared_total is not None
        and computed_total is not None
        and computed_total != report.declared_total
    ):
        report.problems.append(
            f"按公式计算的合计 {computed_total} 与通知公布的合计 {report.declared_total} 不同"
        )


def compute_category(category: schema.Category, issuer: Org, loc: tuple = ()) -> list[QuotaReport]:
    """Compute every quota of a category; raises QuotaResolveError for unknown orgs."""
    reports = []
    folded = {f.org.pk: f for f in folding.resolve(category.folds)}
    for qi, policy in enumerate(category.quotas):
        qloc = (*loc, "quotas", qi)
        report = QuotaReport(
            category.code,
            policy.level,
            policy.policy,
            declared_total=policy.declared_total,
            unlisted=policy.unlisted,
            formula=formula_text(policy),
            authority=getattr(policy, "authority", "declared"),
            note=policy.note,
        )
        if isinstance(policy, schema.TableQuota):
            _table_rows(category, policy, issuer, report, qloc, folded)
        elif isinstance(policy, schema.EachQuota):
            _each_rows(category, policy, issuer, report, qloc, folded)
        else:
            _formula_rows(category, policy, issuer, report, qloc, folded)
        _check_totals(policy, report)
        reports.append(report)
    return reports
