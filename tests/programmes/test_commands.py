"""`edupilot quota show|sync` and `edupilot lists import|show`."""

import io
import json

import pytest
import xlsxwriter
from django.core.management import CommandError, call_command

from edupilot.audit.models import AuditEvent
from edupilot.audit.services import Actor
from edupilot.programmes import services
from edupilot.programmes.models import ParticipantEntry, Programme
from tests.conftest import make_school, org


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_quota_show_zhejiang_prints_differences_and_the_2019_count(programmes):
    out = run("quota", "show", "zhejiang-smart-education-2019", "--category", "region")
    assert "县（市、区）数 × 20%，四舍五入，每单位不少于 1" in out
    assert "合计：有效名额 20，通知公布合计 20 ✓ 一致" in out
    assert "按公式计算合计 18，通知公布合计 20 ✗ 不一致" in out
    assert "当前机构树 90；通知发布时 89" in out
    assert "温州市：公式 2（计数 12）；按通知发布时计数 11 计算为 2，名额表 3，差 +1" in out
    assert "嘉兴市：公式 1（计数 7），名额表 2，差 +1" in out
    assert "k12" not in out  # --category limits the output


@pytest.mark.parametrize(
    "code, totals",
    [
        ("henan-tencent-2019", [29, 218]),
        ("quanzhou-smart-campus-2018", [61]),
        ("zhejiang-smart-education-2019", [20, 60]),
    ],
)
def test_quota_show_json_totals(programmes, code, totals):
    data = json.loads(run("quota", "show", code, "--format", "json"))
    sections = [q for c in data["categories"] for q in c["quotas"]]
    assert [q["declared_total"] for q in sections] == totals
    assert [q["total"] for q in sections] == totals
    assert all(q["total_matches_declared"] for q in sections)
    assert all(sum(r["effective"] for r in q["rows"]) == q["total"] for q in sections)


def test_quota_show_json_rows_say_how_and_who(programmes, django_user_model):
    p = Programme.objects.get(code="quanzhou-smart-campus-2018")
    user = django_user_model.objects.create_user(username="qz", password="x")
    row = p.quotas.get(holder__code="350583")
    services.quota_override(
        allocation=row, value=10, reason="南安市学校数多", actor=Actor(user=user)
    )
    data = json.loads(run("quota", "show", p.code, "--format", "json"))
    (section,) = data["categories"][0]["quotas"]
    rows = {(r["holder"]["code"], r["direct"]): r for r in section["rows"]}
    assert rows[("350583", False)]["override"] == 10
    assert rows[("350583", False)]["override_reason"] == "南安市学校数多"
    assert rows[("350583", False)]["overridden_by"] == "qz"
    assert rows[("350583", False)]["declared"] == 9
    assert rows[("350500", True)]["label"] == "市直中小学、幼儿园"
    assert section["unlisted_holders"] == [{"code": "350500-KFQ", "name": "泉州开发区"}]
    assert section["total"] == 62 and section["total_matches_declared"] is False
    out = run("quota", "show", p.code)
    assert "人工调整为 10：南安市学校数多（qz" in out
    assert "合计：有效名额 62，通知公布合计 61 ✗ 不一致" in out


def test_quota_show_without_quotas_says_so(programmes):
    out = run("quota", "show", "hengyang-informatization-pilots-2018")
    assert out.count("通知未设名额") == 2


def test_quota_show_errors(programmes):
    with pytest.raises(CommandError, match="不存在"):
        run("quota", "show", "no-such-programme")
    with pytest.raises(CommandError, match="没有类别 nope"):
        run("quota", "show", "henan-tencent-2019", "--category", "nope")


def test_quota_show_flags_a_stale_tree_and_sync_fixes_it(programmes):
    zhoushan = org("330902")
    for _ in range(300):
        make_school(zhoushan, stages=",primary,")
    out = run("quota", "show", "zhejiang-smart-education-2019", "--category", "k12")
    assert "舟山市：公式 3（计数 300），名额表 2，差 -1" in out
    out = run("quota", "sync", "zhejiang-smart-education-2019")
    # Declared tables are authoritative: recomputing changes no effective quota.
    assert "0 个名额有变化" in out


def write_xlsx(path, rows):
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            ws.write(r, c, value)
    wb.close()


def test_lists_import_xlsx_is_idempotent_and_audited(programmes, tmp_path):
    path = tmp_path / "phase1.xlsx"
    a, b = make_school(org("410102")), make_school(org("411502"))
    write_xlsx(
        path,
        [
            ["机构代码", "机构名称", "状态", "备注"],
            [a.code, "", "试点", "第一期"],
            ["", b.name, "试点", ""],
            [410122, "", "区域试点", "numbers typed as numbers still match"],  # 中牟县
        ],
    )
    out = run("lists", "import", "henan_tencent_phase1", str(path))
    assert "新增 3，更新 0，未变 0" in out
    entries = ParticipantEntry.objects.filter(plist__code="henan_tencent_phase1")
    assert {e.org.code for e in entries} == {a.code, b.code, "410122"}
    events = AuditEvent.objects.filter(action="participants.import")
    assert events.count() == 1
    assert sorted(events.get().after["created"]) == sorted([a.code, b.code, "410122"])
    out = run("lists", "import", "henan_tencent_phase1", str(path))
    assert "新增 0，更新 0，未变 3" in out
    assert events.count() == 1  # nothing changed, nothing recorded
    shown = run("lists", "show", "henan_tencent_phase1")
    assert "3 个单位" in shown and "第一期" in shown


def test_lists_import_csv_updates_replaces_and_dry_runs(programmes, tmp_path):
    path = tmp_path / "unfinished.csv"
    path.write_text("机构名称,状态,备注\n衡阳县,未验收,\n耒阳市,未验收,\n", encoding="utf-8")
    run("lists", "import", "hengyang_unfinished_pilots", str(path))
    path.write_text("机构名称,状态,备注\n衡阳县,已验收待发文,\n", encoding="gb18030")
    out = run("lists", "import", "hengyang_unfinished_pilots", str(path), "--replace", "--dry-run")
    assert "试运行，未写入：新增 0，更新 1，未变 0，移除 1" in out
    assert ParticipantEntry.objects.filter(plist__code="hengyang_unfinished_pilots").count() == 2
    out = run("lists", "import", "hengyang_unfinished_pilots", str(path), "--replace")
    assert "更新 衡阳县（430421）：状态“未验收”→“已验收待发文”" in out
    assert "移除 耒阳市（430481）" in out
    entries = ParticipantEntry.objects.filter(plist__code="hengyang_unfinished_pilots")
    assert [(e.org.name, e.status) for e in entries] == [("衡阳县", "已验收待发文")]
    event = AuditEvent.objects.filter(action="participants.import").latest("id")
    assert event.after["updated"] == ["430421"] and event.after["removed"] == ["430481"]


def test_lists_import_bad_rows_change_nothing(programmes, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(
        "机构名称,状态\n衡阳县,未验收\n衡阳懸,\n衡阳县,重复\n郑州市,\n,空\n", encoding="utf-8"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="4 行有错误，未导入任何数据"):
        call_command("lists", "import", "hengyang_unfinished_pilots", str(path), stderr=err)
    messages = err.getvalue()
    assert f"{path}:3: 第 3 行：机构“衡阳懸”不存在" in messages
    assert "第 4 行：与第 2 行是同一机构（衡阳县）" in messages
    assert "第 5 行：机构“郑州市”（410100）不在衡阳市范围内" in messages
    assert "第 6 行：机构为空" in messages
    assert not ParticipantEntry.objects.filter(plist__code="hengyang_unfinished_pilots").exists()
    assert not AuditEvent.objects.filter(action="participants.import").exists()


def test_lists_import_file_problems(programmes, tmp_path):
    with pytest.raises(CommandError, match="名单 nope 不存在"):
        run("lists", "import", "nope", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="无法读取文件"):
        run("lists", "import", "hengyang_unfinished_pilots", str(tmp_path / "missing.csv"))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("学校,联系人\n衡阳县,张三\n", encoding="utf-8")
    with pytest.raises(CommandError, match="缺少机构列"):
        run("lists", "import", "hengyang_unfinished_pilots", str(wrong))
    pdf = tmp_path / "list.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(CommandError, match="只支持 CSV 或 XLSX"):
        run("lists", "import", "hengyang_unfinished_pilots", str(pdf))
