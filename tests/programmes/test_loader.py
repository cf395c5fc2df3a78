from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from edupilot.programmes import loader
from tests.conftest import copy_notices

HENAN = Path(__file__).resolve().parents[2] / "programmes" / "henan-tencent-smart-campus-2019.toml"


@pytest.fixture(autouse=True)
def notices_beside_copies(tmp_path):
    """Edited copies of the seed files are written to tmp_path: their notice files go too."""
    copy_notices(tmp_path)


def test_henan_file_is_valid(seeded):
    parsed, errors = loader.validate(HENAN)
    assert errors == []
    assert {c.code for c in parsed.spec.categories} == {"region", "school"}


def test_errors_name_file_line_and_field(seeded, tmp_path):
    text = HENAN.read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        text.replace("target_chars = 2000", 'target_chars = "lots"').replace(
            '{ org = "安阳市", quota = 1 }', '{ org = "安阳", quota = 1 }'
        ),
        encoding="utf-8",
    )
    parsed, errors = loader.validate(bad)
    assert len(errors) == 1  # type errors stop before database checks
    e = errors[0]
    assert e.file == str(bad)
    assert (
        bad.read_text(encoding="utf-8").splitlines()[e.line - 1].strip() == 'target_chars = "lots"'
    )
    assert e.field.endswith("target_chars") and "整数" in e.message

    bad.write_text(
        text.replace('{ org = "安阳市", quota = 1 }', '{ org = "安阳", quota = 1 }'),
        encoding="utf-8",
    )
    parsed, errors = loader.validate(bad)
    assert [e.message for e in errors] == ["机构“安阳”不存在（请使用机构代码或准确全称）"]
    assert '"安阳"' in bad.read_text(encoding="utf-8").splitlines()[errors[0].line - 1]


def test_toml_syntax_error_has_a_line(tmp_path):
    bad = tmp_path / "syntax.toml"
    bad.write_text('code = "x"\ntitle = \n', encoding="utf-8")
    _, errors = loader.validate(bad)
    assert errors[0].line == 2 and "TOML" in errors[0].message


def test_load_is_idempotent_and_refuses_bad_files(seeded, tmp_path, capsys):
    call_command("programme", "load", str(HENAN))
    call_command("programme", "load", str(HENAN))
    out = capsys.readouterr().out
    assert "created henan-tencent-2019" in out and "unchanged henan-tencent-2019" in out
    bad = tmp_path / "bad.toml"
    bad.write_text(
        HENAN.read_text(encoding="utf-8").replace("min_chars = 300", "min_chars = -1"),
        encoding="utf-8",
    )
    with pytest.raises(CommandError):
        call_command("programme", "load", str(bad))
