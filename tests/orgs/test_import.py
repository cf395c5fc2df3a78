"""Roster imports: formats, encodings, refused rows, idempotency, scope, atomicity."""

from __future__ import annotations

import io

import pytest
import xlsxwriter
from django.core.exceptions import PermissionDenied

from edupilot.audit.models import AuditEvent
from edupilot.audit.services import Actor
from edupilot.orgs import services
from edupilot.orgs.importer import ImportFileError, parse_table, roster_template
from edupilot.orgs.models import Membership, Org, OrgKind, Role, Tier
from edupilot.orgs.scoping import Scope
from tests.conftest import make_user, org

HEADER = "学校标识码,学校名称,上级机构代码,学段,办学性质,城乡类别,出口带宽(Mbps),教师数,学生数,计算机数,通讯地址,邮编,网址,备注"
ROWS = [
    "T4102250001,兰考县实验小学,410225,小学,公办,城区,100,80,1500,200,兰考县人民路1号,475300,,示范校",
    "T4102250002,兰考县城关镇中心小学,兰考县,小学;初中,公办,镇区,50M,40,700,60,,,,",
    "T4102250003,兰考县某村教学点,410225,教学点,公办,乡村,10,2,25,3,,,,",
]


def csv_bytes(rows, header=HEADER, encoding="utf-8", prefix="") -> bytes:
    text = prefix + "\n".join([header, *rows]) + "\n"
    return text.encode(encoding)


def xlsx_bytes(table: list[list]) -> bytes:
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet()
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    wb.close()
    return out.getvalue()


def run(data: bytes, scope=None, **kw):
    return services.orgs_import(
        data=data, filename="roster.csv", actor=Actor.system(), scope=scope, **kw
    )


def reviewer_scope(code: str, role=Role.REVIEWER) -> Scope:
    user = make_user(org(code), role)
    return Scope.for_membership(Membership.objects.get(user=user))


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", ""), ("utf-8", "\ufeff"), ("gb18030", ""), ("gbk", ""), ("utf-16", "")],
)
def test_csv_encodings_are_detected(seeded, encoding, prefix):
    report = run(csv_bytes(ROWS, encoding=encoding, prefix=prefix))
    assert report.refused == 0 and report.added == 3
    s = Org.objects.get(code="T4102250002")
    assert s.name == "兰考县城关镇中心小学"
    assert s.parent.code == "410225"  # the parent was given by its name
    assert s.stage_list == ["primary", "junior"]
    assert s.bandwidth_mbps == 50 and s.locality == "town"
    assert s.path == "410000/410225/T4102250002/"  # 兰考县 reports straight to the province
    assert s.tier == Tier.UNIT and s.kind == OrgKind.SCHOOL
    first = Org.objects.get(code="T4102250001")
    assert first.extra == {"备注": "示范校"}
    assert first.postcode == "475300" and first.division_code == "410225"


def test_xlsx_with_title_row_numbers_and_remarks_in_headers(seeded):
    data = xlsx_bytes(
        [
            ["兰考县中小学名单（2024年）"],
            [],
            ["学校代码", "学校名称（必填）", "上级机构代码", "学段", "出口带宽（Mbps）", "邮编"],
            [4102250009, "兰考县第二实验小学", 410225, "小学", 200.0, 475300],
            [4102250010, "兰考县第三实验小学", "410225", "九年一贯制", "1G", None],
        ]
    )
    report = run(data)
    assert (report.added, report.refused) == (2, 0)
    a = Org.objects.get(code="4102250009")  # Excel's float became the code it showed
    assert a.bandwidth_mbps == 200 and a.postcode == "475300"
    b = Org.objects.get(code="4102250010")
    assert b.bandwidth_mbps == 1000 and b.stage_list == ["primary", "junior"]


def test_xlsx_skips_hidden_helper_sheets(seeded):
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    helper = wb.add_worksheet("下拉选项")
    helper.write(0, 0, "小学")
    helper.hide()
    ws = wb.add_worksheet("学校")
    ws.write_row(0, 0, ["学校标识码", "学校名称", "上级机构代码"])
    ws.write_row(1, 0, ["T4102250020", "兰考县隐藏表测试小学", "410225"])
    ws.activate()
    wb.close()
    assert run(out.getvalue()).added == 1


def test_refused_rows_are_reported_and_valid_rows_written(seeded):
    rows = [
        *ROWS,
        "T4102250004,坏学段,410225,大学,公办,乡村,abc,10,200,,,12,,",
        "T4102250005,,410225,小学,,,,,,,,,,",
        "T4102250006,上级不存在,999999,小学,,,,,,,,,,",
        "T4102250001,重复代码,410225,小学,,,,,,,,,,",
        "410225,兰考县,410000,,,,,,,,,,,",
        "T4102250007,上级是学校,T4102250001,小学,,,,,,,,,,",
        "T4102250008,负数,410225,小学,,,,-3,,,,,,",
        "T/bad,坏代码,410225,小学,,,,,,,,,,",
    ]
    report = run(csv_bytes(rows))
    assert report.added == 3
    assert report.refused_rows == [5, 6, 7, 8, 9, 10, 11, 12]
    messages = {(e.row, e.column): e.reason for e in report.errors}
    assert "不认识的学段“大学”" in messages[(5, "学段")]
    assert "不是带宽数值" in messages[(5, "出口带宽(Mbps)")]
    assert "邮编应为 6 位数字" in messages[(5, "邮编")]
    assert messages[(6, "学校名称")] == "新机构须填写学校名称"
    assert "不存在" in messages[(7, "上级机构代码")]
    assert "与第2行重复" in messages[(8, "学校标识码")]
    assert "行政区划" in messages[(9, "学校标识码")]
    assert "不能是学校" in messages[(10, "上级机构代码")]
    assert messages[(11, "教师数")] == "不能为负数"
    assert "代码只能由" in messages[(12, "学校标识码")]
    assert str(report.errors[0]).startswith("第5行“")
    assert not Org.objects.filter(code__in=[f"T410225000{i}" for i in range(4, 9)]).exists()
    assert Org.objects.get(code="410225").name == "兰考县"


def test_reimport_changes_nothing_and_says_so(seeded):
    data = csv_bytes(ROWS)
    run(data)
    before = {o.code: o.updated_at for o in Org.objects.filter(code__startswith="T41022500")}
    events = AuditEvent.objects.filter(action="orgs.import").count()
    report = run(data)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 3)
    assert "未作任何更改" in report.summary()
    after = {o.code: o.updated_at for o in Org.objects.filter(code__startswith="T41022500")}
    assert after == before
    # Still one event per import, with the counts and the file's hash.
    event = AuditEvent.objects.filter(action="orgs.import").last()
    assert AuditEvent.objects.filter(action="orgs.import").count() == events + 1
    assert event.after["unchanged"] == 3 and event.after["sha256"] == report.sha256


def test_update_changes_only_given_cells_and_audits_once(seeded):
    run(csv_bytes(ROWS))
    report = run(
        csv_bytes(
            ["T4102250001,,,,,,300,,,,,,,", "T4102250003,兰考县某村教学点,,,,,,,,,,,,"],
            header="代码,名称,上级代码,学段,办学性质,城乡,带宽,教师数,学生数,计算机数,地址,邮编,网址,备注",
        )
    )
    assert (report.updated, report.unchanged) == (1, 1)
    s = Org.objects.get(code="T4102250001")
    assert s.bandwidth_mbps == 300
    assert s.name == "兰考县实验小学" and s.teacher_count == 80  # blank cells keep values
    change = report.changes[0]
    assert change.before == {"bandwidth_mbps": 100} and change.after == {"bandwidth_mbps": 300}
    assert change.lines == ["出口带宽(Mbps)：100 → 300"]


def test_dry_run_and_strict_write_nothing(seeded):
    count = Org.objects.count()
    report = run(csv_bytes(ROWS), dry_run=True)
    assert report.added == 3 and not report.written
    assert Org.objects.count() == count
    bad = [*ROWS, "T4102250004,坏,410225,大学,,,,,,,,,,"]
    report = run(csv_bytes(bad), strict=True)
    assert report.refused == 1 and not report.written
    assert Org.objects.count() == count
    assert "未写入任何数据" in report.summary()


def test_a_crash_leaves_nothing_half_imported(seeded, monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("disk full")

    # The audit event is the last write of the import's transaction.
    monkeypatch.setattr(services, "audit_record", crash)
    with pytest.raises(RuntimeError):
        run(csv_bytes(ROWS))
    assert not Org.objects.filter(code__startswith="T41022500").exists()


def test_rows_may_name_parents_defined_later_and_a_new_parent_moves_the_subtree(seeded):
    header = "学校标识码,学校名称,上级机构代码,类型,学段"
    rows = [
        "T4101050001,金水区某小学,T4101059000,学校,小学",
        "T4101059000,金水区某教育集团,410105,直属单位,",
    ]
    report = run(csv_bytes(rows, header=header))
    assert (report.added, report.refused) == (2, 0)
    school = Org.objects.get(code="T4101050001")
    assert school.path == "410000/410100/410105/T4101059000/T4101050001/"
    assert school.depth == 4
    report = run(csv_bytes(["T4101059000,,410106,,"], header=header))
    assert report.moved == 1 and report.changes[0].after == {"parent": "410106"}
    school.refresh_from_db()
    assert school.path == "410000/410100/410106/T4101059000/T4101050001/"
    assert Org.objects.get(code="T4101059000").parent.code == "410106"


def test_in_file_parent_that_is_a_school_is_refused(seeded):
    rows = [
        "T4101050001,金水区某小学,T4101050002,小学,,,,,,,,,,",
        "T4101050002,金水区另一小学,410105,小学,,,,,,,,,,",
    ]
    report = run(csv_bytes(rows))
    assert report.refused_rows == [2]
    assert "不能是学校" in report.errors[0].reason


def test_reviewer_imports_only_inside_its_subtree(seeded):
    scope = reviewer_scope("410225")  # 兰考县
    other = Org.objects.create(
        code="T4101050077", name="金水区外校", kind=OrgKind.SCHOOL, parent=org("410105")
    )
    rows = [
        ROWS[0],
        "T4101050001,越界新增,410105,小学,,,,,,,,,,",
        f"{other.code},越界修改,,小学,,,,,,,,,,",
    ]
    report = run(csv_bytes(rows), scope=scope)
    assert report.added == 1
    reasons = {e.row: e.reason for e in report.errors}
    assert "不在您的管辖范围内" in reasons[3]
    assert "管辖范围以外" in reasons[4]
    other.refresh_from_db()
    assert other.name == "金水区外校"
    applicant = Scope.for_membership(
        Membership.objects.get(user=make_user(Org.objects.get(code="T4102250001")))
    )
    with pytest.raises(PermissionDenied):
        run(csv_bytes(ROWS), scope=applicant)


def test_unreadable_files_are_refused_with_a_reason(seeded):
    with pytest.raises(ImportFileError, match="未找到表头"):
        parse_table("名称,地址\n某校,某地\n".encode())
    with pytest.raises(ImportFileError, match="文件为空"):
        parse_table(b"")
    with pytest.raises(ImportFileError, match="无法读取 Excel"):
        parse_table(b"PK\x03\x04 not really a zip")
    with pytest.raises(ImportFileError, match="指同一项"):
        parse_table("学校标识码,学校名称,名称\nA1,x,y\n".encode())


def test_template_round_trips(seeded):
    table = parse_table(roster_template())
    assert table.errors == [] and len(table.rows) == 1
    assert table.rows[0].values["stages"] == ",primary,junior,"


def test_the_command_names_each_refused_row_with_its_reasons_at_default_verbosity(seeded, tmp_path):
    from django.core.management import CommandError, call_command

    rows = [
        ROWS[0],
        "T4102250004,坏学段,410225,大学,公办,乡村,abc,10,200,,,12,,",
        "T4102250006,上级不存在,999999,小学,,,,,,,,,,",
        ",没有代码,410225,小学,,,,,,,,,,",
    ]
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes(rows))
    out, err = io.StringIO(), io.StringIO()
    call_command("orgs", "import", str(path), stdout=out, stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[0] == "以下 3 行未通过检查："
    assert lines[1].startswith("  第3行 T4102250004 坏学段：未导入。")
    assert "“学段”列：不认识的学段“大学”" in lines[1]
    assert "“出口带宽(Mbps)”列：“abc”不是带宽数值" in lines[1]
    assert "“邮编”列：邮编应为 6 位数字" in lines[1]
    assert (
        lines[2]
        == "  第4行 T4102250006 上级不存在：未导入。“上级机构代码”列：上级机构“999999”不存在"
    )
    assert lines[3] == "  第5行 没有代码：未导入。“学校标识码”列：缺少学校标识码"
    assert "新增 1" in out.getvalue() and "拒绝 3" in out.getvalue()
    with pytest.raises(CommandError, match="3 行未通过检查"):
        call_command("orgs", "import", str(path), "--dry-run", stdout=out, stderr=io.StringIO())


def test_the_command_within_a_code_refuses_rows_outside_that_subtree(seeded, tmp_path):
    from django.core.management import call_command

    # --within acts as that bureau's reviewer would (Scope.acting_as): its subtree only.
    rows = [ROWS[0], "T4101050001,金水区某小学,410105,小学,公办,城区,,,,,,,,"]
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes(rows))
    out, err = io.StringIO(), io.StringIO()
    call_command("orgs", "import", str(path), "--within", "410225", stdout=out, stderr=err)
    assert "第3行 T4101050001 金水区某小学：未导入。" in err.getvalue()
    assert "上级机构“410105”不在您的管辖范围内" in err.getvalue()
    assert "新增 1" in out.getvalue() and "拒绝 1" in out.getvalue()
    assert Org.objects.filter(code="T4102250001").exists()
    assert not Org.objects.filter(code="T4101050001").exists()
