"""`edupilot certification …` from the shell."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from edupilot.certification.models import Batch, EntryState, ImportRun
from tests.conftest import make_school, make_user, org

from .conftest import GOOD, SYSTEM, export_rows


def test_standards_validate_and_load_in_dependency_order(seeded, capsys, tmp_path):
    call_command("certification", "standard", "validate", "--all")
    out = capsys.readouterr().out
    assert "hz-xihu-2024，15 项指标" in out
    call_command("certification", "standard", "load", "--all")
    call_command("certification", "standard", "load", "--all")
    out = capsys.readouterr().out
    assert "created zj-sc-2022" in out and "unchanged hz-xihu-2024" in out
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'code = "x"\ntitle = "x"\nextends = "zj-sc-2022"\n[[overrides]]\ncode = "ZJ-02"\nbasic = 10\n',
        encoding="utf-8",
    )
    with pytest.raises(CommandError):
        call_command("certification", "standard", "load", str(bad))
    assert "bad.toml:6: overrides[1].basic" in capsys.readouterr().err


def test_batch_from_the_hangzhou_programme_then_import_and_assess(programmes, capsys, tmp_path):
    call_command("certification", "standard", "load", "--all")
    school = make_school(org("330106"), "西湖区命令行小学", code="CLI0001", stages=",primary,")
    make_user(org("330100"), "programme_admin", "hz_cli")
    call_command(
        "certification",
        "batch",
        "create",
        "--owner", "330100",
        "--code", "hz-cli",
        "--name", "杭州市第一批",
        "--standard", "zj-sc-2022",
        "--additional", "moe-vc-2020",
        "--programme", "hangzhou-smart-campus-certification-2023",
        "--programme-batch", "batch1",
    )  # fmt: skip
    batch = Batch.objects.get(code="hz-cli")
    # Dates and the four exempting titles come from the programme file.
    assert str(batch.cutoff) == "2024-08-31" and batch.exempt_titles.count() == 4
    assert batch.entries.get(school=school).state == EntryState.QUEUED
    from edupilot.certification import services
    from tests.certification.conftest import COLUMNS

    services.source_save(
        owner=org("330100"),
        code="national",
        name="全国系统",
        system="national",
        code_column="学校标识码",
        name_column="学校名称",
        mapping=[{"column": COLUMNS[c], "indicator": c} for c in GOOD],
        **SYSTEM,
    )
    export = tmp_path / "export.xlsx"
    export.write_bytes(export_rows([("CLI0001", "", GOOD), ("NOPE", "", GOOD)]))
    args = [
        "certification",
        "import",
        str(export),
        "--batch",
        "hz-cli",
        "--source",
        "330100/national",
        "--user",
        "hz_cli",
    ]
    call_command(*args)
    out = capsys.readouterr().out
    assert "匹配 1 行" in out and "第 3 行" in out
    call_command(*args)
    assert "此前已导入" in capsys.readouterr().out and ImportRun.objects.count() == 1
    call_command("certification", "assess", "--batch", "hz-cli", "--user", "hz_cli")
    assert "已评估" in capsys.readouterr().out
    with pytest.raises(CommandError, match="晚于"):
        call_command(*args, "--as-of", "2024-09-01")
