"""An entry's first import is written as text built from the block's columns (issue 12 §7):
the same bytes as merging the values into empty data and dumping it (the former path), on
every value the parsers give and every text a key, a level word or the source may hold;
entries that already have values merge as before, filed ones stay."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal

import pytest
from django.db import connection

from edupilot.certification.importers import Block
from edupilot.certification.models import Entry, EntryState
from edupilot.certification.services.assessment import json_text
from edupilot.certification.services.import_writes import first_import_json, merge, write_blocks

SRC, AS_OF = "i7", "2099-08-31"

# Every column shape the parsers give: floats (whole, fractional, huge, tiny, NaN and
# infinity, which orjson writes as null), ints, yes/no, level words with the characters
# JSON must escape or a template must not read (comma, quote, backslash, newline, %), and
# gaps (None: no entry) at the first, a middle and the last row.
COLUMNS = [
    [2000.0, 0.0, 88.5, 1e308, 5e-324, 0.1],
    [math.nan, math.inf, 12.0, None, 3.0, 7.25],
    [1, 2, 3, 0, 5, 6],
    [True, False, None, True, True, False],
    ["深度融合", "常态,应用", 'a"b', "c\\d", "e\nf", "100%"],
    [None, "良好", "良好", "%s", "%%", "优秀"],
    [12.5, 13.0, 14.0, 15.0, 16.0, None],
]
KEYS = ["ZJ-01", "ZJ-02", 'K"3', "K%s", "指标五", "K,6", "K\n7"]


def reference(block: Block, src: str, as_of: str) -> tuple[list[bytes], list[int]]:
    """The former path: each row's values merged into empty data, then dumped."""
    texts, counts = [], []
    for i in range(len(block.entry_ids)):
        data: dict = {}
        set_, changed = merge(data, block.values(i), src, as_of)
        assert set_ == changed
        texts.append(json_text(data).encode())
        counts.append(set_)
    return texts, counts


@pytest.mark.parametrize(("src", "as_of"), [(SRC, AS_OF), ("i%d", "2099-%m")])
def test_first_import_json_is_the_former_dump_byte_for_byte(src, as_of):
    block = Block(list(range(1, 7)), KEYS, [list(col) for col in COLUMNS])
    got = first_import_json(block, src, as_of)
    assert got == reference(block, src, as_of)
    # Every row parses back to its values (NaN and infinity as null, as before).
    for i, (text, count) in enumerate(zip(*got, strict=True)):
        data = json.loads(text)
        assert count == len(data) == len(block.values(i))


def test_rows_without_gaps_and_a_single_column():
    full = Block([1, 2], ["A"], [[1.5, 2.5]])
    assert first_import_json(full, SRC, AS_OF) == reference(full, SRC, AS_OF)
    words = Block([1, 2, 3], ["A", "B"], [["是", "否", "是"], [True, True, False]])
    assert first_import_json(words, SRC, AS_OF) == reference(words, SRC, AS_OF)


def test_an_indicator_fed_twice_is_merged_value_by_value():
    # Two columns feed one indicator: the dict keeps one key, the last value; no template.
    assert first_import_json(Block([1], ["A", "A"], [[1.0], [2.0]]), SRC, AS_OF) is None


def test_other_values_are_written_as_json_text_writes_them():
    """Values the parsers do not give (dates, decimals, lists with commas): still the
    former dump's bytes, each text cut from the column's dump or dumped alone."""
    block = Block(
        [1, 2],
        ["A", "B", "C"],
        [
            [dt.date(2099, 1, 1), dt.datetime(2099, 1, 1, 8, 30)],
            [Decimal("1.50"), None],
            [[1, 2], {"x": "y,z"}],
        ],
    )
    assert first_import_json(block, SRC, AS_OF) == reference(block, SRC, AS_OF)


def _stored_text(pk: int) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT data FROM certification_entry WHERE id = %s", [pk])
        return cur.fetchone()[0]


def test_write_blocks_merges_as_before(hz):
    entries = list(Entry.objects.filter(batch=hz.batch).order_by("pk")[:4])
    fresh, corrected, newer, filed = entries
    corrected.data = {"ZJ-01": [1.0, "c3", "2099-01-01"], "ZJ-09": [5.0, "i2", "2099-01-01"]}
    newer.data = {"ZJ-02": [9.0, "i2", "2099-12-31"]}
    filed.state = EntryState.FILED
    for entry in (corrected, newer, filed):
        entry.save()
    before = {e.pk: Entry.objects.get(pk=e.pk).data for e in entries}
    values = {
        "ZJ-01": [2.0, 3.0, 4.0, 5.0],
        "ZJ-02": [None, 6.0, 7.0, 8.0],
        "ZJ-09": [True, 5.0, None, 1.0],
    }
    ids = [fresh.pk, corrected.pk, newer.pk, filed.pk]
    block = Block(ids, list(values), [list(col) for col in values.values()])

    expected, total_set, total_changed = {}, 0, 0
    for i, pk in enumerate(ids):
        if pk == filed.pk:
            continue
        data = json.loads(json.dumps(before[pk]))
        set_, changed = merge(data, block.values(i), SRC, AS_OF)
        total_set, total_changed = total_set + set_, total_changed + changed
        expected[pk] = json.loads(json_text(data))

    assert write_blocks([block], SRC, AS_OF) == (total_set, total_changed)
    for pk, data in expected.items():
        assert Entry.objects.get(pk=pk).data == data
    assert Entry.objects.get(pk=filed.pk).data == before[filed.pk]
    # The correction and the later value stand; the fresh entry holds exactly its values.
    assert expected[corrected.pk]["ZJ-01"] == [1.0, "c3", "2099-01-01"]
    assert expected[newer.pk]["ZJ-02"] == [9.0, "i2", "2099-12-31"]
    assert expected[fresh.pk] == {"ZJ-01": [2.0, SRC, AS_OF], "ZJ-09": [True, SRC, AS_OF]}
    # Stored as text, the same text the former path wrote.
    if connection.vendor == "sqlite":
        assert _stored_text(fresh.pk) == json_text(
            {"ZJ-01": (2.0, SRC, AS_OF), "ZJ-09": (True, SRC, AS_OF)}
        )
        with connection.cursor() as cur:
            cur.execute("SELECT typeof(data) FROM certification_entry WHERE id = %s", [fresh.pk])
            assert cur.fetchone()[0] == "text"
