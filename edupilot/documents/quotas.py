"""The quota allocation table (名额分配表) as XLSX: every bucket with how its number came about.

One row per quota row of the programme (category, level, holder, and the holder's *direct*
bucket where there is one): the count a formula used, the formula's result, the notice's
own table, an override with its reason, who made it and when, the effective number that
enforcement uses, the places used by counting recommendations and those left; a 合计 row
closes each category's level, as the notices' tables do (Henan 29 / 218, Quanzhou 61).

The issuer's programme admins (and platform admins) get every row; any other reviewing org
only the rows of its own subtree (a city sees its own places, not its neighbours').
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone

from edupilot.orgs.models import Tier
from edupilot.orgs.scoping import Scope, get_or_404, scoped
from edupilot.programmes.models import Programme, QuotaAllocation
from edupilot.programmes.permissions import can_manage_programme
from edupilot.programmes.selectors import programmes_for
from edupilot.review.models import ReviewAction, ReviewDecision

from .summaries import can_use_documents
from .xlsx import Column, XlsxExport

TIER_LABELS = dict(Tier.choices)
POLICY_LABELS = {
    "table": "名额表",
    "percent": "按比例核算",
    "apportion": "按总数分配",
    "each": "每单位定额",
}


def access_quota_programme(scope: Scope, code: str) -> Programme:
    """A programme whose quotas the scope may see: issued in or holding quotas in its subtree."""
    if not can_use_documents(scope):
        raise Http404
    return get_or_404(programmes_for(scope).select_related("issuer"), code=code, kind="call")


def has_quotas(programme: Programme) -> bool:
    return any(c.quotas for c in programme.parsed.categories)


def quota_rows(scope: Scope, programme: Programme, category: str = "") -> QuerySet:
    qs = QuotaAllocation.objects.filter(programme=programme)
    if category:
        qs = qs.filter(category=category)
    if not can_manage_programme(scope, programme)[0]:
        qs = scoped(qs, scope, org_field="holder")
    return qs.select_related("holder", "overridden_by")


def quota_used(programme: Programme) -> dict[tuple, int]:
    """Places used per bucket: counting recommendations, one aggregate query."""
    return {
        (r["category"], r["quota_level"], r["quota_holder_id"], r["quota_direct"]): r["n"]
        for r in ReviewDecision.objects.filter(
            programme=programme,
            active=True,
            action=ReviewAction.RECOMMEND,
            quota_holder__isnull=False,
        )
        .values("category", "quota_level", "quota_holder_id", "quota_direct")
        .annotate(n=Count("pk"))
        .order_by()
    }


class QuotaExport(XlsxExport):
    columns = [
        Column("序号", 6, "int"),
        Column("类别", 18, wrap=True),
        Column("名额层级", 9),
        Column("单位", 22, wrap=True),
        Column("名额表所列名称", 16, wrap=True),
        Column("核算方式", 11),
        Column("核算依据数", 10, "int"),
        Column("公式计算", 9, "int"),
        Column("通知名额表", 10, "int"),
        Column("人工调整", 9, "int"),
        Column("调整理由", 30, wrap=True),
        Column("调整人", 10),
        Column("调整时间", 17, "datetime"),
        Column("有效名额", 9, "int"),
        Column("已推荐", 8, "int"),
        Column("剩余", 8, "int"),
        Column("推导", 40, wrap=True),
    ]

    def __init__(
        self,
        *,
        scope: Scope,
        programme: Programme,
        category: str = "",
        now: dt.datetime | None = None,
    ):
        self.scope, self.programme, self.category = scope, programme, category
        spec = programme.parsed
        cat = spec.category(category) if category else None
        self.title = "推荐名额分配表"
        self.heading = f"{programme.title}推荐名额分配表" + (f"（{cat.name}）" if cat else "")
        when = timezone.localtime(now or timezone.now())
        issuer = programme.issuers_text
        doc_no = f"　文号：{programme.doc_no}" if programme.doc_no else ""
        self.preamble = [f"发文单位：{issuer}{doc_no}　导出时间：{when:%Y-%m-%d %H:%M}"]
        if not can_manage_programme(scope, programme)[0]:
            self.preamble.append("本表只列出本单位及下级单位的名额。")

    def filename(self) -> str:
        return f"{self.programme.title}-推荐名额分配表.xlsx"

    def rows(self) -> Iterator[list]:
        spec = self.programme.parsed
        order = {c.code: i for i, c in enumerate(spec.categories)}
        names = {c.code: c.name for c in spec.categories}
        tiers = {"county": 0, "city": 1, "province": 2}
        allocations = sorted(
            quota_rows(self.scope, self.programme, self.category),
            key=lambda a: (
                order.get(a.category, 99),
                tiers.get(a.level, 9),
                a.holder.path,
                a.direct,
            ),
        )
        used = quota_used(self.programme)
        group: tuple | None = None
        totals = [0, 0, 0, False]  # effective, used, left, any unlimited

        def total_row():
            return [
                None,
                names.get(group[0], group[0]),
                TIER_LABELS.get(group[1], group[1]),
                "合计",
                None, None, None, None, None, None, None, None, None,
                "不限" if totals[3] else totals[0],
                totals[1],
                None if totals[3] else totals[2],
                None,
            ]  # fmt: skip

        for seq, a in enumerate(allocations, 1):
            key = (a.category, a.level)
            if group is not None and key != group:
                yield total_row()
                totals = [0, 0, 0, False]
            group = key
            n_used = used.get((a.category, a.level, a.holder_id, a.direct), 0)
            limit = None if a.unlimited else a.effective
            totals[0] += a.effective if limit is not None else 0
            totals[1] += n_used
            totals[2] += max(limit - n_used, 0) if limit is not None else 0
            totals[3] = totals[3] or limit is None
            yield [
                seq,
                names.get(a.category, a.category),
                TIER_LABELS.get(a.level, a.level),
                a.holder.name + ("（直属单位）" if a.direct else ""),
                a.label,
                POLICY_LABELS.get(a.policy, a.policy),
                a.basis,
                a.computed,
                a.declared,
                a.override,
                a.override_reason,
                a.overridden_by.display_name if a.overridden_by else "",
                a.overridden_at,
                "不限" if limit is None else limit,
                n_used,
                None if limit is None else max(limit - n_used, 0),
                a.derivation,
            ]
        if group is not None:
            yield total_row()
