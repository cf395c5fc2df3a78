import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from edupilot.audit.checkpoints import checkpoints_read
from edupilot.audit.models import GENESIS, AppendOnlyError, AuditEvent
from edupilot.audit.services import Actor, audit_checkpoint, audit_record, audit_verify


@pytest.fixture
def events(db):
    return [
        audit_record(
            actor=Actor.system(), action="test.event", object_type="x", object_id=i, after={"n": i}
        )
        for i in range(5)
    ]


def test_chain_verifies(events):
    result = audit_verify()
    assert result.ok and result.checked == 5
    assert events[1].prev_hash == events[0].hash


def test_events_refuse_update_and_delete(events):
    e = AuditEvent.objects.get(pk=events[2].pk)
    e.action = "tampered"
    with pytest.raises(AppendOnlyError):
        e.save()
    with pytest.raises(AppendOnlyError):
        e.delete()


def test_tampering_in_the_database_is_found(events):
    # Bypass the model, as an attacker with database access would.
    table = AuditEvent._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {table} SET action = %s WHERE id = %s", ["forged", events[3].pk])  # noqa: S608
    result = audit_verify()
    assert not result.ok
    assert result.broken_id == events[3].pk
    assert result.checked == 3
    with pytest.raises(CommandError, match=f"id={events[3].pk}"):
        call_command("audit", "verify")


def test_deleted_event_breaks_the_next_link(events):
    table = AuditEvent._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {table} WHERE id = %s", [events[1].pk])  # noqa: S608
    result = audit_verify()
    assert result.broken_id == events[2].pk


# --- signed checkpoints: what the links alone cannot show ---------------------------------

TABLE = AuditEvent._meta.db_table


def _sql(sql, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)


def _recompute_chain():
    """What an attacker with write access to the database does after changing a row."""
    prev = GENESIS
    for e in AuditEvent.objects.order_by("id"):
        e.prev_hash = prev
        e.hash = e.compute_hash()
        _sql(f"UPDATE {TABLE} SET prev_hash = %s, hash = %s WHERE id = %s", [prev, e.hash, e.pk])  # noqa: S608
        prev = e.hash


@pytest.fixture
def checkpointed(events):
    """Five events, a checkpoint of them (as `audit verify` writes), and two more events."""
    call_command("audit", "verify", stdout=io.StringIO())
    more = [audit_record(actor=Actor.system(), action="test.later", object_id=i) for i in range(2)]
    return events + more


def test_clean_chain_passes_and_writes_a_checkpoint(checkpointed, settings):
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "7 events verified against 1 checkpoints" in out.getvalue()
    cps, bad = checkpoints_read()
    assert bad == [] and [c.count for c in cps] == [5, 7]
    assert [c.head for c in cps] == [checkpointed[4].hash, checkpointed[6].hash]
    # The key lives outside the database, in a file only the owner can read.
    assert settings.EDUPILOT_AUDIT_KEY_FILE.stat().st_mode & 0o777 == 0o600


def test_edited_row_is_found(checkpointed):
    _sql(f"UPDATE {TABLE} SET after = %s WHERE id = %s", ['{"n": 99}', checkpointed[2].pk])  # noqa: S608
    result = audit_verify()
    assert result.broken_id == checkpointed[2].pk
    assert "content does not match its hash" in result.reason


def test_deletion_in_the_middle_is_found(checkpointed):
    _sql(f"DELETE FROM {TABLE} WHERE id = %s", [checkpointed[3].pk])  # noqa: S608
    result = audit_verify()
    assert result.broken_id == checkpointed[4].pk
    assert "prev_hash does not match" in result.reason


def test_truncated_tail_is_found(checkpointed):
    # Delete the two events after the checkpoint and the last one it covered: what is left
    # links up perfectly, only the checkpoint knows there were five.
    _sql(f"DELETE FROM {TABLE} WHERE id >= %s", [checkpointed[4].pk])  # noqa: S608
    result = audit_verify()
    assert not result.ok
    assert "the newest events were deleted" in result.reason
    assert f"counted 5 events up to id={checkpointed[4].pk}" in result.reason
    with pytest.raises(CommandError, match="newest events were deleted"):
        call_command("audit", "verify")
    # A failed verify signs nothing.
    assert [c.count for c in checkpoints_read()[0]] == [5]


def test_rewritten_and_recomputed_chain_is_found(checkpointed):
    _sql(f"UPDATE {TABLE} SET action = %s WHERE id = %s", ["forged", checkpointed[1].pk])  # noqa: S608
    _recompute_chain()
    result = audit_verify()
    assert result.broken_id == checkpointed[4].pk
    assert "rewritten and recomputed" in result.reason


def test_deletion_in_the_middle_with_recompute_is_found(checkpointed):
    _sql(f"DELETE FROM {TABLE} WHERE id = %s", [checkpointed[1].pk])  # noqa: S608
    _recompute_chain()
    result = audit_verify()
    assert result.broken_id == checkpointed[4].pk
    assert "counted 5 events" in result.reason and "the chain has 4" in result.reason


def test_forged_checkpoint_is_refused(checkpointed, settings):
    # Without the key, a checkpoint matching a doctored chain cannot be written.
    path = settings.EDUPILOT_AUDIT_CHECKPOINTS
    record = json.loads(path.read_text().splitlines()[0])
    record["count"] = 3
    path.write_text(json.dumps(record) + "\n")
    result = audit_verify()
    assert "wrong signature" in result.reason


def test_a_key_from_the_environment_signs_checkpoints(events, settings):
    settings.EDUPILOT_AUDIT_KEY = "k" * 64
    assert audit_verify(checkpoint=True).ok
    assert not settings.EDUPILOT_AUDIT_KEY_FILE.exists()
    settings.EDUPILOT_AUDIT_KEY = "another key"
    assert "wrong signature" in audit_verify().reason


def test_periodic_checkpoint_checks_only_the_new_events(checkpointed):
    from edupilot.audit.tasks import audit_checkpoint_task

    assert audit_checkpoint_task.call_local() is True
    assert [c.count for c in checkpoints_read()[0]] == [5, 7]
    _sql(f"DELETE FROM {TABLE} WHERE id = %s", [checkpointed[6].pk])  # noqa: S608
    assert audit_checkpoint().reason.endswith("the newest events were deleted")


def test_marker_is_hashed_only_when_set(events):
    assert "handed_down" not in events[0].payload()
    e = AuditEvent(**{f.attname: getattr(events[0], f.attname) for f in AuditEvent._meta.fields})
    e.handed_down = True
    assert e.compute_hash() != events[0].hash
