"""posted_text: the one check of a typed text that pilots' and selection's services share."""

import pytest

from edupilot.core.errors import Refused, posted_text
from edupilot.pilots.inspections import InspectionError


def test_nul_and_surrounding_space_are_dropped():
    assert posted_text(" 整改\x00到位 \n", field="f", label="意见", limit=10) == "整改到位"
    assert posted_text(None, field="f", label="意见", limit=10) == ""


def test_too_long_names_the_label_and_the_field():
    with pytest.raises(InspectionError) as exc:
        posted_text("字" * 6, field="findings", label="检查意见", limit=5, exc=InspectionError)
    assert exc.value.message == "检查意见最多 5 字。"
    assert exc.value.errors == {"findings": ["最多 5 字"]}


def test_required_says_what_to_fill_in():
    with pytest.raises(Refused) as exc:
        posted_text("  ", field="reason", label="意见", limit=5, required="退回理由")
    assert exc.value.message == "请填写退回理由。"
    assert exc.value.errors == {"reason": ["请填写退回理由"]}
