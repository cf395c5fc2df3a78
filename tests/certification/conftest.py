"""A Hangzhou certification scenario: three standards, two districts, city-direct schools,
a kindergarten, an exempt title holder, look-alike schools elsewhere, and the users who act."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
import xlsxwriter
from django.utils import translation

from edupilot.audit.services import Actor
from edupilot.certification import services
from edupilot.certification.models import Batch, Standard
from edupilot.certification.standards import parse_file
from edupilot.orgs.models import Membership, Org, Role
from edupilot.orgs.scoping import Scope
from edupilot.programmes.models import ParticipantEntry, ParticipantList
from tests.conftest import make_school, make_user, org

STANDARDS = Path(__file__).resolve().parents[2] / "standards"

# Values meeting every basic requirement of the Zhejiang baseline (and Xihu's stricter ones).
GOOD = {
    "ZJ-01": "是",
    "ZJ-02": 1000,
    "ZJ-03": 5,
    "ZJ-04": "100%",
    "ZJ-05": "有",
    "ZJ-06": "是",
    "ZJ-07": "深度融合",
    "ZJ-08": "常态应用",
    "ZJ-09": "常态应用",
    "ZJ-10": "常态应用",
    "ZJ-11": "初步应用",
    "ZJ-12": 100,
    "ZJ-13": "是",
    "ZJ-14": "是",
    "XH-01": 90,
}
COLUMNS = {code: f"{code}列" for code in GOOD}


def load_standards() -> dict[str, Standard]:
    out = {}
    for name in (
        "zj-smart-campus-2022",
        "hz-xihu-smart-campus-2024",
        "moe-vocational-digital-campus-2020",
    ):
        outcome = services.standard_load(parsed=parse_file(STANDARDS / f"{name}.toml"), **SYSTEM)
        out[outcome.standard.code] = outcome.standard
    return out


def xlsx_bytes(rows: list[list]) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("数据")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    wb.close()
    return buf.getvalue()


def export_rows(schools: list[tuple[str, str, dict]]) -> bytes:
    """An export as the national system would give it: code, name, one column per indicator."""
    codes = list(GOOD)
    rows = [["学校标识码", "学校名称", *[COLUMNS[c] for c in codes]]]
    for code, name, values in schools:
        rows.append([code, name, *[values.get(c) for c in codes]])
    return xlsx_bytes(rows)


def scope_for(user, org_: Org) -> Scope:
    return Scope.for_membership(Membership.objects.get(user=user, org=org_))


def acting(user, org_: Org) -> dict:
    """Who acts, as services take it: the scope of the user's membership at ``org_`` (for
    permission) and the actor (for the audit trail)."""
    return {"scope": scope_for(user, org_), "actor": Actor(user=user, org=org_)}


# The command line and the demo: no scope, may do everything.
SYSTEM = {"scope": None, "actor": Actor.system()}


@dataclass
class Scenario:
    standards: dict
    city: Org
    xihu: Org
    shangcheng: Org
    xh_primary: Org
    xh_junior: Org
    xh_kinder: Org
    sc_primary: Org
    cd_senior: Org
    cd_vocational: Org
    cd_exempt: Org
    ningbo_school: Org
    title: ParticipantList
    batch: Batch
    source: object
    city_admin: object
    city_reviewer: object
    xihu_admin: object
    xihu_reviewer: object
    sc_reviewer: object
    xh_school_user: object
    sc_school_user: object
    expert: object
    henan_reviewer: object

    def entry(self, school: Org):
        return self.batch.entries.get(school=school)

    def import_file(
        self, content: bytes, *, user=None, org_=None, as_of=None, name="national.xlsx"
    ):
        user, org_ = user or self.city_admin, org_ or self.city
        started = services.import_prepare(
            batch=self.batch,
            source=self.source,
            content=content,
            filename=name,
            as_of=as_of,
            **acting(user, org_),
        )
        if started.created:
            services.import_execute(run=started.run, scope=scope_for(user, org_))
        started.run.refresh_from_db()
        return started


@pytest.fixture(autouse=True)
def _chinese():
    """Refusals are matched in Chinese, whatever language an earlier test left active."""
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def hz(seeded, settings, tmp_path) -> Scenario:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    standards = load_standards()
    city, xihu, shangcheng = org("330100"), org("330106"), org("330102")
    ningbo = org("330200")
    xh_primary = make_school(xihu, "西湖区第一小学", code="HZXH001", stages=",primary,")
    xh_junior = make_school(xihu, "西湖区第二中学", code="HZXH002", stages=",junior,")
    xh_kinder = make_school(xihu, "西湖区实验幼儿园", code="HZXH003", stages=",kindergarten,")
    sc_primary = make_school(shangcheng, "上城区第一小学", code="HZSC001", stages=",primary,")
    cd_senior = make_school(city, "杭州市第一中学", code="HZCD001", stages=",senior,")
    cd_vocational = make_school(city, "杭州市职业高级中学", code="HZCD002", stages=",vocational,")
    cd_exempt = make_school(city, "杭州市示范中学", code="HZCD003", stages=",junior,senior,")
    # A look-alike in another city: same name pattern, never in Hangzhou's batch.
    ningbo_school = make_school(ningbo, "西湖区第一小学", code="NB0001", stages=",primary,")
    title = ParticipantList.objects.create(
        code="hz_smart_edu_demo_school", title="杭州市智慧教育示范校"
    )
    ParticipantEntry.objects.create(plist=title, org=cd_exempt)

    city_admin = make_user(city, Role.PROGRAMME_ADMIN, "hz_admin")
    city_reviewer = make_user(city, Role.REVIEWER, "hz_reviewer")
    xihu_admin = make_user(xihu, Role.PROGRAMME_ADMIN, "xh_admin")
    xihu_reviewer = make_user(xihu, Role.REVIEWER, "xh_reviewer")
    sc_reviewer = make_user(shangcheng, Role.REVIEWER, "sc_reviewer")
    xh_school_user = make_user(xh_primary, Role.APPLICANT, "xh_school")
    sc_school_user = make_user(sc_primary, Role.APPLICANT, "sc_school")
    expert = make_user(org("330000"), Role.EXPERT, "expert1")
    henan_reviewer = make_user(org("410000"), Role.REVIEWER, "ha_reviewer")

    batch = services.batch_create(
        owner=city,
        code="hz-2024",
        name="杭州市2024年第一批",
        certification_date=dt.date(2099, 9, 30),
        cutoff=dt.date(2099, 8, 31),
        standard=standards["zj-sc-2022"],
        additional=[standards["moe-vc-2020"]],
        exempt_titles=[title],
        **acting(city_admin, city),
    )
    services.batch_adopt_standard(
        batch=batch,
        certifier=xihu,
        standard=standards["hz-xihu-2024"],
        **acting(xihu_admin, xihu),
    )
    source = services.source_save(
        owner=city,
        code="national",
        name="全国教育信息化工作管理信息系统",
        system="national",
        code_column="学校标识码",
        name_column="学校名称",
        mapping=[{"column": COLUMNS[c], "indicator": c} for c in GOOD],
        **acting(city_admin, city),
    )
    return Scenario(
        standards,
        city,
        xihu,
        shangcheng,
        xh_primary,
        xh_junior,
        xh_kinder,
        sc_primary,
        cd_senior,
        cd_vocational,
        cd_exempt,
        ningbo_school,
        title,
        batch,
        source,
        city_admin,
        city_reviewer,
        xihu_admin,
        xihu_reviewer,
        sc_reviewer,
        xh_school_user,
        sc_school_user,
        expert,
        henan_reviewer,
    )
