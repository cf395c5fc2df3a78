"""Demo data for certification: the three shipped standards and Hangzhou's two batches.

The first batch (2024-09, data as of 2024-08-31) is complete: data imported from a synthetic
export of the national system, assessed, decided, filed by 西湖区, frozen and published.
The second is open, its dates moved so that its cut-off lies ahead (as the demo programmes'
dates are), so schools can see their data and file corrections. The export's values are
made up; the standards' placeholder thresholds are marked unverified.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import random
from decimal import Decimal

from django.utils import timezone

from edupilot.audit.services import Actor
from edupilot.orgs.models import Membership, Org
from edupilot.orgs.scoping import Scope

from . import services
from .models import Batch, EntryState, Provisional, Standard
from .selfgate import rules_for
from .standards import parse_file

log = logging.getLogger(__name__)

PROGRAMME = "hangzhou-smart-campus-certification-2023"
# The demo's open batch runs an invented variant of it that asks for a self-assessment.
SELF_FILE = "examples/hangzhou-smart-campus-self-assessment-demo.toml"
LEVELS = ["未开展", "初步应用", "常态应用", "深度融合"]
COLUMNS = {
    "ZJ-01": "校园网络覆盖",
    "ZJ-02": "互联网出口带宽(Mbps)",
    "ZJ-03": "生机比",
    "ZJ-04": "多媒体教室覆盖率",
    "ZJ-05": "物联感知",
    "ZJ-06": "统一身份认证",
    "ZJ-07": "智慧教学应用水平",
    "ZJ-08": "智慧学习应用水平",
    "ZJ-09": "智慧管理应用水平",
    "ZJ-10": "智慧评价应用水平",
    "ZJ-11": "智慧服务应用水平",
    "ZJ-12": "教师信息技术培训完成率",
    "ZJ-13": "网络安全等级保护",
    "ZJ-14": "信息化经费纳入预算",
    "XH-01": "区平台备课使用率",
    "VC20-01": "学生信息素养",
    "VC20-02": "教师信息化教学能力",
    "VC20-03": "师生发展保障",
    "VC20-04": "专业教学资源库数",
    "VC20-05": "虚拟仿真实训资源数",
    "VC20-07": "数字图书馆",
    "VC20-08": "资源共享",
    "VC20-09": "信息化教学与实训",
    "VC20-10": "管理服务信息化",
    "VC20-11": "基础设施",
    "VC20-12": "网络安全",
    "VC20-13": "组织队伍经费制度",
}


def _value(code: str, rng: random.Random, good: bool):
    fails = not good and rng.random() < 0.15
    if code in ("ZJ-01", "ZJ-05", "ZJ-06", "ZJ-13", "ZJ-14") or code in (
        "VC20-03",
        "VC20-07",
        "VC20-08",
        "VC20-11",
        "VC20-12",
        "VC20-13",
    ):
        return "否" if fails else "是"
    if code == "ZJ-02":
        return rng.choice([300, 500]) if fails else rng.choice([1000, 1000, 2000, 10000])
    if code == "ZJ-03":
        return rng.choice([9, 12]) if fails else rng.choice([3, 4, 5])
    if code in ("ZJ-04", "ZJ-12"):
        return f"{rng.randint(60, 99)}%" if fails else "100%"
    if code == "XH-01":
        return f"{rng.randint(40, 79)}%" if fails else f"{rng.randint(85, 100)}%"
    if code.startswith("ZJ-"):
        return "初步应用" if fails and code not in ("ZJ-08", "ZJ-11") else rng.choice(LEVELS[2:])
    if code in ("VC20-04", "VC20-05"):
        return 0 if fails else rng.randint(1, 5)
    return "不达标" if fails else rng.choice(["达标", "良好", "优秀"])


def _export(entries, rng: random.Random) -> bytes:
    import xlsxwriter

    codes = list(COLUMNS)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("学校信息化数据")
    ws.write_row(0, 0, ["学校标识码", "学校名称", *COLUMNS.values()])
    for r, entry in enumerate(entries, start=1):
        good = rng.random() < 0.7
        ws.write_row(r, 0, [entry.school.code, entry.school.name])
        for c, code in enumerate(codes, start=2):
            if rng.random() < 0.02:
                continue  # not reported by the system
            ws.write(r, c, _value(code, rng, good))
    wb.close()
    return buf.getvalue()


def _acting(username: str):
    m = Membership.objects.select_related("org", "user").filter(user__username=username).first()
    if m is None:
        return None, None
    return Actor(user=m.user, org=m.org), Scope.for_membership(m)


def _titles(city: Org, actor: Actor) -> list:
    """The exempting titles of the Hangzhou programme, with three city schools holding one."""
    from edupilot.programmes.models import ParticipantList, Programme
    from edupilot.programmes.services import participants_import
    from edupilot.programmes.tables import ListRow

    programme = Programme.objects.filter(code=PROGRAMME).first()
    titles = list(ParticipantList.objects.filter(code__startswith="hz_")) + list(
        ParticipantList.objects.filter(code__startswith="zj_")
    )
    if programme is not None:
        titles = [t for t in titles if t.code in {lst.code for lst in programme.parsed.lists}]
    if titles:
        holders = list(
            Org.objects.filter(parent=city, kind="school")
            .exclude(stages=",kindergarten,")
            .order_by("code")[:3]
        )
        participants_import(
            plist=titles[0],
            rows=[ListRow(i + 2, o.code, "2022", "演示") for i, o in enumerate(holders)],
            actor=actor,
        )
    return titles


def _batch(
    city, xihu, *, code, name, date, cutoff, titles, actor: Actor, programme=None, pbatch=""
) -> Batch:
    """A Hangzhou batch on the Zhejiang guide (plus the vocational standard), Xihu on its own."""
    from edupilot.programmes.models import Programme

    batch = services.batch_create(
        owner=city,
        code=code,
        name=name,
        certification_date=date,
        cutoff=cutoff,
        standard=Standard.objects.get(code="zj-sc-2022"),
        additional=[Standard.objects.get(code="moe-vc-2020")],
        exempt_titles=titles,
        programme=programme or Programme.objects.filter(code=PROGRAMME).first(),
        programme_batch=pbatch,
        scope=None,
        actor=actor,
    )
    services.batch_adopt_standard(
        batch=batch,
        certifier=xihu,
        standard=Standard.objects.get(code="hz-xihu-2024"),
        scope=None,
        actor=actor,
    )
    return batch


def _import(batch, source, rng, *, filename, as_of, acting) -> None:
    entries = list(batch.entries.select_related("school").order_by("school__code"))
    actor, scope = acting
    started = services.import_prepare(
        batch=batch,
        source=source,
        content=_export(entries, rng),
        filename=filename,
        as_of=as_of,
        scope=scope,
        actor=actor,
    )
    services.import_execute(run=started.run, scope=scope)


def _conclude(entry, acting) -> None:
    """Decide as the assessment suggests."""
    entry.refresh_from_db()
    if entry.provisional == Provisional.PASS:
        decision, opinion = "certified", "各项基本要求均已达到，认定为智慧校园。"
    elif entry.provisional == Provisional.INCOMPLETE:
        decision, opinion = "deferred", "部分指标数据缺失，待补充数据后下批认定。"
    else:
        decision, opinion = "not_certified", "部分基本要求未达到，请对照未达标指标清单整改。"
    actor, scope = acting
    services.entry_decide(entry=entry, decision=decision, opinion=opinion, scope=scope, actor=actor)


def load_demo(*, actor: Actor) -> None:
    from django.conf import settings

    standards_dir = settings.PROJECT_DIR / "standards"
    for name in (
        "zj-smart-campus-2022",
        "hz-xihu-smart-campus-2024",
        "moe-vocational-digital-campus-2020",
    ):
        services.standard_load(
            parsed=parse_file(standards_dir / f"{name}.toml"), scope=None, actor=actor
        )
    city = Org.objects.filter(code="330100").first()
    xihu = Org.objects.filter(code="330106").first()
    if city is None or xihu is None or Batch.objects.filter(code="hz-2024-1").exists():
        return
    city_acting, xihu_acting = _acting("hangzhou_cert"), _acting("xihu_cert")
    if city_acting[0] is None or xihu_acting[0] is None:
        log.warning("certification demo: the hangzhou_cert/xihu_cert accounts are missing")
        return
    titles = _titles(city, actor)
    rng = random.Random(2024)

    # The first batch: imported, decided, filed by Xihu, frozen and published.
    batch1 = _batch(
        city,
        xihu,
        code="hz-2024-1",
        name="杭州市中小学智慧校园认定第一批",
        date=dt.date(2024, 9, 1),
        cutoff=dt.date(2024, 8, 31),
        titles=titles,
        actor=actor,
    )
    source = services.source_save(
        owner=city,
        code="national",
        name="全国教育信息化工作管理信息系统",
        system="national",
        code_column="学校标识码",
        name_column="学校名称",
        mapping=[{"column": col, "indicator": code} for code, col in COLUMNS.items()],
        scope=None,
        actor=actor,
    )
    _import(
        batch1,
        source,
        rng,
        filename="全国教育信息化工作管理信息系统-杭州市-2024-08-31.xlsx",
        as_of=dt.date(2024, 8, 31),
        acting=city_acting,
    )
    for entry in batch1.entries.filter(state=EntryState.QUEUED, certifier=xihu):
        _conclude(entry, xihu_acting)
    # A small tree (`demo --scale 0.02`) may give Xihu no school: nothing to file then.
    if batch1.entries.filter(certifier=xihu).exists():
        services.filing_submit(
            batch=batch1,
            org=xihu,
            note="西湖区第一批认定结果（演示）",
            scope=xihu_acting[1],
            actor=xihu_acting[0],
        )
    for entry in batch1.entries.filter(state=EntryState.QUEUED, certifier=city):
        _conclude(entry, city_acting)
    services.batch_freeze(batch=batch1, scope=None, actor=actor)
    services.batch_publish(batch=batch1, scope=None, actor=actor)

    # The second batch, open now: its dates are moved so the cut-off is a month ahead.
    cutoff = timezone.localdate() + dt.timedelta(days=30)
    batch2 = _batch(
        city,
        xihu,
        code="hz-2025-2",
        name="杭州市中小学智慧校园认定第二批（演示：日期已平移）",
        date=cutoff + dt.timedelta(days=1),
        cutoff=cutoff,
        titles=titles,
        actor=actor,
        programme=_self_assessment_programme(actor),
        pbatch="batch2",
    )
    _import(
        batch2,
        source,
        rng,
        filename="全国教育信息化工作管理信息系统-杭州市-演示.xlsx",
        as_of=timezone.localdate(),
        acting=city_acting,
    )
    _self_assessments(batch2, rng)


def _self_assessment_programme(actor: Actor):
    """The invented variant of the Hangzhou file whose batch2 asks for a self-assessment."""
    from django.conf import settings

    from edupilot.programmes import loader
    from edupilot.programmes.services import ProgrammeLoadRefused, programme_load

    try:
        parsed = loader.parse_file(settings.PROJECT_DIR / "programmes" / SELF_FILE)
        return programme_load(parsed=parsed, actor=actor).programme
    except (loader.ProgrammeFileInvalid, ProgrammeLoadRefused) as exc:
        log.warning("certification demo: %s not loaded: %s", SELF_FILE, exc)
        return None


def _self_assessments(batch: Batch, rng: random.Random) -> None:
    """Some schools score themselves: most above the 60% gate, one below, one a draft."""
    if rules_for(batch) is None:  # the variant file did not load: nothing to assess
        return
    entries = list(
        batch.entries.filter(state=EntryState.QUEUED)
        .select_related("school")
        .order_by("school__code")
    )
    shares = [0.92, 0.45, None, 0.85, 0.78, 0.88, 0.7]  # None: a draft, not yet submitted
    for entry, share in zip(entries[::2], shares, strict=False):
        member = (
            Membership.objects.filter(org=entry.school, is_active=True)
            .select_related("user")
            .first()
        )
        actor = Actor(user=member.user, org=entry.school) if member else Actor.system()
        items = services.self_items(entry)
        points = {
            i.code: str((i.max * Decimal(str(share or 0.8)) * Decimal(str(rng.uniform(0.9, 1.1))))
                        .quantize(Decimal("0.01")).min(i.max))
            for i in items
        }  # fmt: skip
        if share is None:
            points = dict(list(points.items())[: len(points) // 2])
        services.self_assessment_save(
            entry=entry, scores=points, submit=share is not None, scope=None, actor=actor
        )
