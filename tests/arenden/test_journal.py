"""The case journal: hash chain, database guards against change, and verify_journal finding
every kind of tampering. Tampering is done the way an intruder with database access would:
raw SQL, with the guard trigger switched off."""

import json
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from arenden.journal import GENESIS_HASH, digest_of, event_digest, journal_verify, normalise_payload
from arenden.models import JournalEvent
from bidrag.models import Decision
from bidrag.models.application import Status

GUARD = "arenden_journalevent_append_only"


@pytest.fixture
def granted(make_application):
    """An application taken to granted: six journal events (create .. decide)."""
    return make_application(to=Status.GRANTED)


def _events(application):
    return list(JournalEvent.objects.filter(case=application.case).order_by("seq"))


def _sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _refused(statement, params=None) -> DatabaseError:
    """Run statement in a savepoint; return the database's refusal (fail if it ran)."""
    with pytest.raises(DatabaseError) as excinfo, transaction.atomic():
        _sql(statement, params)
    return excinfo.value


def _tamper(statement, params=None):
    """Run statement with the append-only guard off, as someone with DDL rights could."""
    # ALTER TABLE refuses while deferred foreign-key checks of this transaction are pending.
    _sql("SET CONSTRAINTS ALL IMMEDIATE")
    _sql(f"ALTER TABLE arenden_journalevent DISABLE TRIGGER {GUARD}")
    try:
        _sql(statement, params)
    finally:
        _sql(f"ALTER TABLE arenden_journalevent ENABLE TRIGGER {GUARD}")
        _sql("SET CONSTRAINTS ALL DEFERRED")


def _verify() -> tuple[str, str, CommandError | None]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_journal", stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


# -- the chain ----------------------------------------------------------------------------


def test_chain_links_every_event_to_the_previous_one(granted):
    events = _events(granted)
    assert [e.action for e in events] == ["create_draft", "submit", "register", "start_assessment", "propose_decision", "decide"]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS_HASH == "0" * 64
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash
    assert len({e.hash for e in events}) == len(events)
    for event in events:
        assert len(event.hash) == 64 and int(event.hash, 16) >= 0
        assert event.hash == digest_of(event)
    # Who, in which role, from and to which state.
    decide = events[-1]
    assert decide.actor_label == "Berit Beslutsfattare"
    assert decide.actor_roles == ["beslutsfattare"]
    assert (decide.from_state, decide.to_state) == (Status.DECISION_PROPOSED, Status.GRANTED)


def test_intact_journal_verifies_ok_with_the_number_of_events(granted, make_application, malmo):
    make_application(to=Status.IN_REVIEW, organisation=malmo)
    out, err, error = _verify()
    assert error is None, err
    count = JournalEvent.objects.count()
    assert count == 6 + 3
    assert f"Journal OK: {count} events" in out
    assert err == ""


# -- the database refuses change ---------------------------------------------------------


@pytest.mark.owner_role
def test_update_of_a_journal_event_is_refused_by_the_database(granted):
    event = _events(granted)[2]
    error = _refused("UPDATE arenden_journalevent SET action = 'x' WHERE id = %s", [event.pk])
    assert "append-only" in str(error) and "UPDATE" in str(error)
    # Every row, and through the ORM too.
    assert "append-only" in str(_refused("UPDATE arenden_journalevent SET payload = '{}'::jsonb"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        JournalEvent.objects.filter(pk=event.pk).update(action="x")
    event.refresh_from_db()
    assert event.action == "register"


@pytest.mark.owner_role
def test_delete_of_a_journal_event_is_refused_by_the_database(granted):
    events = _events(granted)
    error = _refused("DELETE FROM arenden_journalevent WHERE id = %s", [events[-1].pk])
    assert "append-only" in str(error) and "DELETE" in str(error)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        JournalEvent.objects.filter(case=granted.case).delete()
    assert len(_events(granted)) == len(events)


def _fresh_connection(**kwargs) -> psycopg.Connection:
    """A connection of our own to the test database, without the suite's TRUNCATE setting."""
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        user=s["USER"] or None,
        password=s["PASSWORD"] or None,
        dbname=s["NAME"],
        connect_timeout=5,
        **kwargs,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.owner_role  # the guard stops even the owner; the application role has no TRUNCATE at all (test_app_role)
def test_truncate_of_the_journal_is_refused_without_the_session_setting(make_application):
    application = make_application(to=Status.IN_REVIEW)  # committed: visible to other connections
    count = JournalEvent.objects.count()
    assert count > 0
    with _fresh_connection() as conn:
        conn.execute("SET lock_timeout = '10s'")
        assert conn.execute("SELECT current_setting('bidrag.allow_truncate', true)").fetchone()[0] in (None, "", "off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only: TRUNCATE refused"):
            conn.execute("TRUNCATE arenden_journalevent")
        conn.rollback()
        # The refusal is the guard's doing: with the test-only setting it goes through
        # (and is rolled back here, so the journal stays).
        conn.execute("SET LOCAL bidrag.allow_truncate = on")
        conn.execute("TRUNCATE arenden_journalevent")
        assert conn.execute("SELECT count(*) FROM arenden_journalevent").fetchone()[0] == 0
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM arenden_journalevent").fetchone()[0] == count
    assert JournalEvent.objects.count() == count
    assert journal_verify() == []
    assert application.case.journal.count() == 3


@pytest.mark.owner_role
def test_decisions_cannot_be_updated_or_deleted(granted):
    decision = Decision.objects.get(application=granted)
    error = _refused("UPDATE bidrag_decision SET amount = 1 WHERE id = %s", [decision.pk])
    assert "bidrag_decision is append-only: UPDATE refused" in str(error)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Decision.objects.filter(pk=decision.pk).update(reasons="Ändrat i efterhand.")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        decision.amount = 1
        decision.save()
    assert "DELETE refused" in str(_refused("DELETE FROM bidrag_decision WHERE id = %s", [decision.pk]))
    decision.refresh_from_db()
    assert decision.amount == 250000
    assert decision.reasons.startswith("Projektet är relevant, genomförbart och långsiktigt.")


# -- verify_journal finds tampering ------------------------------------------------------


@pytest.mark.owner_role
def test_verify_journal_finds_an_altered_payload(granted):
    event = _events(granted)[1]  # submit
    assert event.action == "submit"
    _tamper(
        "UPDATE arenden_journalevent SET payload = jsonb_set(payload, '{requested_amount}', '\"1\"') WHERE id = %s",
        [event.pk],
    )
    event.refresh_from_db()
    assert event.payload["requested_amount"] == "1"
    out, err, error = _verify()
    assert error is not None and "1 broken journal chain" in str(error)
    diarienummer = granted.case.diarienummer
    assert diarienummer
    assert f"BROKEN case {diarienummer} at event {event.seq}:" in err
    assert "altered" in err
    assert "Journal OK" not in out


@pytest.mark.owner_role
def test_verify_journal_finds_an_altered_action_and_reports_only_the_first_break(granted, make_application, malmo):
    other = make_application(to=Status.IN_REVIEW, organisation=malmo)
    event = _events(granted)[3]
    _tamper("UPDATE arenden_journalevent SET action = 'x' WHERE id = %s", [event.pk])
    out, err, error = _verify()
    assert error is not None
    lines = err.strip().splitlines()
    assert lines == [f"BROKEN case {granted.case.diarienummer} at event 4: hash does not match the event's content (the event was altered)"]
    assert other.case.diarienummer not in err  # the other case's chain is intact
    # And the trigger is on again: the guard still refuses.
    assert "append-only" in str(_refused("UPDATE arenden_journalevent SET action = 'y' WHERE id = %s", [event.pk]))


@pytest.mark.owner_role
def test_verify_journal_finds_a_deleted_event_as_a_missing_seq(granted):
    victim = _events(granted)[2]  # register, seq 3
    _tamper("DELETE FROM arenden_journalevent WHERE id = %s", [victim.pk])
    assert [e.seq for e in _events(granted)] == [1, 2, 4, 5, 6]
    out, err, error = _verify()
    assert error is not None
    assert f"BROKEN case {granted.case.diarienummer} at event 4: expected seq 3, found 4 (an event is missing)" in err
    [link] = journal_verify()
    assert (link.diarienummer, link.seq) == (granted.case.diarienummer, 4)


@pytest.mark.owner_role
def test_a_forged_event_with_a_recomputed_hash_breaks_the_next_link(granted):
    events = _events(granted)
    forged = events[2]  # register, seq 3
    payload = normalise_payload({**forged.payload, "note": "Registrerad i efterhand"})
    new_hash = event_digest(
        case_id=forged.case_id,
        seq=forged.seq,
        occurred_at=forged.occurred_at,
        actor_id=forged.actor_id,
        actor_label=forged.actor_label,
        actor_roles=forged.actor_roles,
        action=forged.action,
        from_state=forged.from_state,
        to_state=forged.to_state,
        payload=payload,
        prev_hash=forged.prev_hash,
    )
    _tamper(
        "UPDATE arenden_journalevent SET payload = %s::jsonb, hash = %s WHERE id = %s",
        [json.dumps(payload), new_hash, forged.pk],
    )
    # The forged event is consistent in itself ...
    forged.refresh_from_db()
    assert forged.payload["note"] == "Registrerad i efterhand" and forged.hash == new_hash
    # ... but the next event still points at the original hash.
    out, err, error = _verify()
    assert error is not None
    assert err.strip().splitlines() == [
        f"BROKEN case {granted.case.diarienummer} at event {forged.seq + 1}: prev_hash does not match the previous event's hash"
    ]
    [link] = journal_verify(case_ids=[granted.case.pk])
    assert link.seq == forged.seq + 1 == 4


@pytest.mark.owner_role
def test_verify_journal_finds_events_cut_off_the_end_of_a_chain(granted):
    events = _events(granted)
    _tamper("DELETE FROM arenden_journalevent WHERE id = %s", [events[-1].pk])
    out, err, error = _verify()
    assert error is not None
    assert f"BROKEN case {granted.case.diarienummer} at event {len(events)}" in err
    assert f"ends at event {len(events)}, found {len(events) - 1}" in err
