import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from edupilot.audit.models import AppendOnlyError, AuditEvent
from edupilot.audit.services import Actor, audit_record, audit_verify


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
