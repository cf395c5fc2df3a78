"""Writing imported values into the batch's entries, a chunk of blocks at a time.

A school's data is ``{indicator: [value, source, as of]}`` as JSON. An entry's first import
(its data still empty: nothing to weigh against) is written as text built from the block's
columns (:func:`first_import_json`): the same bytes orjson gives for the dict of triples,
with the loops in C (one dump per column, one ``bytes %`` per row) instead of a tuple, two
dict entries and a dump per value, which were a third of the import above the file's read.
An entry that already has values is merged value by value (:func:`merge`): corrections
and newer values stand.
"""

from __future__ import annotations

import json
from itertools import repeat

import orjson
from django.db import connection
from django.utils import timezone

from ..importers import Block
from ..models import Entry, EntryState
from .assessment import _DJANGO_JSON, _JSON_OPTIONS, json_text


def merge(data: dict, values: dict, src: str, as_of: str) -> tuple[int, int]:
    """Merge one school's imported values; returns (values set, values changed).

    A value accepted from a school's correction stands; a value already dated later (but
    still within the cut-off) is newer than this file's and stands too.
    """
    if not data:
        # The first import into this school: nothing to weigh against.
        data.update(
            zip(values, zip(values.values(), repeat(src), repeat(as_of), strict=False), strict=True)
        )
        return len(values), len(values)
    set_, changed = 0, 0
    for code, value in values.items():
        current = data.get(code)
        if current is not None:
            if str(current[1]).startswith("c"):
                continue
            if current[2] > as_of:
                continue
        set_ += 1
        if current is None or current[0] != value:
            changed += 1
        data[code] = (value, src, as_of)
    return set_, changed


def _value_texts(col: list) -> list[bytes]:
    """Each value's JSON text as :func:`~.assessment.json_text` writes it (None as ``null``):
    the column dumped at once and cut at its commas, unless a value's text has a comma
    (then the pieces outnumber the values, and each distinct value is dumped alone)."""
    texts = orjson.dumps(col, default=_DJANGO_JSON.default, option=_JSON_OPTIONS)[1:-1].split(b",")
    if len(texts) == len(col):
        return texts
    try:
        words = {value: json_text(value).encode() for value in set(col)}
    except TypeError:  # a value that cannot be hashed
        return [json_text(value).encode() for value in col]
    return list(map(words.__getitem__, col))


def first_import_json(block: Block, src: str, as_of: str) -> tuple[list[bytes], list[int]] | None:
    """Each row's data as it stands after a first import, as JSON, and its count of values:
    byte for byte :func:`merge` into empty data then :func:`~.assessment.json_text`, i.e.
    ``orjson.dumps({indicator: (value, src, as_of), …})``. A row with every value is one
    ``bytes % (value texts)`` on a template of the block's indicators; a row with a gap takes
    the former path. None when the block holds an indicator twice (the dict keeps one)."""
    indicators = block.indicators
    if len(set(indicators)) != len(indicators):
        return None
    texts, gaps = [], set()
    for col in block.columns:
        texts.append(_value_texts(col))
        if None in col:
            i = -1
            for _ in range(col.count(None)):
                i = col.index(None, i + 1)
                gaps.add(i)
    tail = (b"," + orjson.dumps(src) + b"," + orjson.dumps(as_of) + b"]").replace(b"%", b"%%")
    template = b",".join(orjson.dumps(k).replace(b"%", b"%%") + b":[%s" + tail for k in indicators)
    out = list(map((b"{" + template + b"}").__mod__, zip(*texts, strict=True)))
    counts = [len(indicators)] * len(out)
    for i in gaps:
        data: dict = {}
        counts[i] = merge(data, block.values(i), src, as_of)[0]
        out[i] = json_text(data).encode()
    return out, counts


def _stored(ids: list[int]) -> dict[int, str | dict]:
    """The data (as stored: JSON text) of the entries ``ids`` that are not filed."""
    if not ids:
        return {}
    qn = connection.ops.quote_name
    table = qn(Entry._meta.db_table)
    marks = ", ".join(["%s"] * len(ids))
    sql = f"SELECT id, {qn('data')} FROM {table} WHERE id IN ({marks}) AND state <> %s"  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, [*ids, EntryState.FILED])
        return dict(cur.fetchall())


def _update_data(rows: list[tuple[int, bytes]]) -> None:
    """Write each ``(entry id, data as JSON bytes)`` and stamp ``updated_at``. SQLite takes
    the UTF-8 bytes as they are (``CAST(… AS TEXT)`` of a blob: no decoding to str and
    encoding back); PostgreSQL the text. Table and column names come from the model."""
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(Entry._meta.db_table)
    now = Entry._meta.get_field("updated_at").get_db_prep_save(timezone.now(), connection)
    if connection.vendor == "sqlite":
        value = "CAST(%s AS TEXT)"
        params = [(text, now, pk) for pk, text in rows]
    else:
        value = "%s"
        params = [(text.decode(), now, pk) for pk, text in rows]
    sql = f"UPDATE {table} SET {qn('data')} = {value}, {qn('updated_at')} = %s WHERE id = %s"  # noqa: S608
    with connection.cursor() as cur:
        if connection.vendor != "sqlite":
            cur.executemany(sql, params)
            return
        # SQLite checks a JSONField with json_valid(), parsing each school's 3 KB again;
        # orjson wrote this text (tests/certification/test_import_writes.py parses it back).
        cur.execute("PRAGMA ignore_check_constraints = ON")
        try:
            cur.executemany(sql, params)
        finally:
            cur.execute("PRAGMA ignore_check_constraints = OFF")


def write_blocks(blocks: list[Block], src: str, as_of: str) -> tuple[int, int]:
    """Merge the blocks' rows into their entries (filed ones stay); (values set, changed)."""
    stored = _stored(sorted(pk for block in blocks for pk in block.entry_ids))
    total_set = total_changed = 0
    rows: list[tuple[int, bytes]] = []
    for block in blocks:
        first = None
        for i, pk in enumerate(block.entry_ids):
            text = stored.get(pk)
            if text is None:  # filed (or gone)
                continue
            if text == "{}":
                if first is None:
                    first = first_import_json(block, src, as_of) or False
                if first:
                    count = first[1][i]
                    rows.append((pk, first[0][i]))
                    total_set, total_changed = total_set + count, total_changed + count
                    continue
            data = json.loads(text) if isinstance(text, str | bytes) else text
            set_, changed = merge(data, block.values(i), src, as_of)
            total_set, total_changed = total_set + set_, total_changed + changed
            if changed or set_:
                rows.append((pk, json_text(data).encode()))
    rows.sort()
    _update_data(rows)
    return total_set, total_changed
