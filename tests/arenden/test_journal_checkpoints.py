"""verify_journal against what a database owner can do: rewrite a chain consistently (every
later hash and the head recomputed), cut its end and move the head back, remove a whole
case. A chain that agrees with itself proves none of that wrong; the signed checkpoint in
S3 and the diarienummer serials do. Tampering runs in the test's own transaction with
`session_replication_role = replica`, which switches off every trigger (the guards and the
foreign keys) for that transaction only, as the owner of the database could."""

import hashlib
import hmac
import json
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from botocore.exceptions import ClientError
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from arenden.checkpoints import merkle_root
from arenden.journal import CaseEvent, event_digest, journal_append, journal_verify, normalise_payload
from arenden.models import Case, DiarieSerial, JournalCheckpoint, JournalEvent
from bidrag.models.application import Status

# As the owner (tests/harness/app_role.py): these tamper with the journal the way only the tables owner can, to show each change is named.
pytestmark = pytest.mark.owner_role

KEY = "test-only-journal-checkpoint-key-0123456789"


@pytest.fixture
def checkpoints(settings):
    """Checkpoints signed with a test key, under a prefix of this test's own in the bucket."""
    settings.JOURNAL_CHECKPOINT_KEY = KEY
    settings.JOURNAL_CHECKPOINT_PREFIX = f"test-checkpoints/{uuid.uuid4().hex}/"  # not under the default
    return settings


@pytest.fixture
def granted(make_application):
    return make_application(to=Status.GRANTED)  # six events: create_draft .. decide


def _s3():
    return default_storage.connection.meta.client


def _sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


class _TriggersOff:
    """Every trigger off for the rest of the block, in the test's transaction."""

    def __enter__(self):
        # Deferred foreign-key checks of rows written so far run now, not at the test's end
        # against rows removed here.
        _sql("SET CONSTRAINTS ALL IMMEDIATE")
        _sql("SET LOCAL session_replication_role = replica")

    def __exit__(self, *exc):
        _sql("SET LOCAL session_replication_role = origin")
        _sql("SET CONSTRAINTS ALL DEFERRED")


def _run(command) -> tuple[str, str, CommandError | None]:
    out, err = StringIO(), StringIO()
    try:
        call_command(command, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def _fields(event: JournalEvent) -> dict:
    return {
        "occurred_at": event.occurred_at,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "actor_roles": event.actor_roles,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "payload": event.payload,
    }


def _rewrite(case: Case, events: list[dict]):
    """Replace the case's journal by `events`, numbered and hashed afresh, and move the head:
    a chain consistent in itself, as someone who knows the hash scheme would leave it."""
    prev = "0" * 64
    rows = []
    for seq, fields in enumerate(events, start=1):
        digest = event_digest(case_id=case.pk, seq=seq, prev_hash=prev, **fields)
        rows.append(JournalEvent(case=case, seq=seq, prev_hash=prev, hash=digest, **fields))
        prev = digest
    with _TriggersOff():
        _sql("DELETE FROM arenden_journalevent WHERE case_id = %s", [case.pk])
        JournalEvent.objects.bulk_create(rows)
        Case.objects.filter(pk=case.pk).update(journal_seq=len(rows), journal_head=prev)
    assert journal_verify() == []  # what verify_journal alone saw before checkpoints


def _events(application) -> list[JournalEvent]:
    return list(JournalEvent.objects.filter(case=application.case).order_by("seq"))


def _broken(err: str) -> list[str]:
    return [line for line in err.strip().splitlines() if line]


# -- writing a checkpoint ------------------------------------------------------------------


def test_checkpoint_is_a_signed_new_s3_object_with_every_chain_head_and_a_merkle_root(checkpoints, granted, make_application, malmo):
    other = make_application(to=Status.IN_REVIEW, organisation=malmo)
    out, err, error = _run("journal_checkpoint")
    assert error is None, err
    [row] = JournalCheckpoint.objects.all()
    assert row.object_key.startswith(checkpoints.JOURNAL_CHECKPOINT_PREFIX) and row.object_key in out
    assert (row.chain_count, row.event_count) == (2, 9)
    assert row.lock_mode == "" and "no Object Lock" in out  # the harness bucket has none

    stored = json.loads(_s3().get_object(Bucket=row.bucket, Key=row.object_key)["Body"].read())
    signature = stored.pop("signature")
    body = json.dumps(stored, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert signature == row.signature == hmac.new(KEY.encode(), body, hashlib.sha256).hexdigest()
    chains = {c[0]: c for c in stored["chains"]}
    for application, seq in ((granted, 6), (other, 3)):
        case = Case.objects.get(pk=application.case_id)
        case_id, diarienummer, chain_seq, head, prefixes = chains[str(case.pk)]
        assert (diarienummer, chain_seq, head) == (case.diarienummer, seq, case.journal_head)
        assert prefixes == "".join(e.hash[:8] for e in _events(application))
    ordered = [chains[k] for k in sorted(chains)]
    leaves = [hashlib.sha256(b"\x00" + f"{c[0]}:{c[2]}:{c[3]}".encode()).digest() for c in ordered]
    assert stored["merkle_root"] == row.merkle_root == hashlib.sha256(b"\x01" + leaves[0] + leaves[1]).hexdigest()
    assert merkle_root(ordered) == row.merkle_root
    assert stored["serials"] == {str(timezone.localdate().year): 2}

    # Never overwritten: S3 refuses a second PUT to the key, and the next checkpoint is a
    # new object that names this one.
    with pytest.raises(ClientError, match="PreconditionFailed|pre-conditions"):
        _s3().put_object(Bucket=row.bucket, Key=row.object_key, Body=b"{}", IfNoneMatch="*")
    out, err, error = _run("journal_checkpoint")
    assert error is None, err
    second = JournalCheckpoint.objects.exclude(pk=row.pk).get()
    assert second.object_key > row.object_key
    again = json.loads(_s3().get_object(Bucket=second.bucket, Key=second.object_key)["Body"].read())
    assert again["previous"] == {"key": row.object_key, "merkle_root": row.merkle_root}

    out, err, error = _run("verify_journal")
    assert error is None, err
    assert f"checkpoint {second.object_key} (2 chains)" in out


def test_checkpoint_in_a_bucket_with_object_lock_gets_compliance_retention(checkpoints, granted):
    bucket = f"bidrag-lock-{uuid.uuid4().hex[:12]}"
    _s3().create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    checkpoints.JOURNAL_CHECKPOINT_BUCKET = bucket
    checkpoints.JOURNAL_CHECKPOINT_RETENTION_DAYS = 2
    out, err, error = _run("journal_checkpoint")
    assert error is None, err
    row = JournalCheckpoint.objects.get()
    assert row.bucket == bucket and row.lock_mode == "COMPLIANCE" and row.version_id
    assert timedelta(days=1, hours=23) < row.retain_until - row.created_at <= timedelta(days=2, seconds=1)
    assert "Object Lock COMPLIANCE until" in out
    # The locked version cannot be deleted; a plain DELETE only hides it behind a marker.
    with pytest.raises(ClientError, match="AccessDenied"):
        _s3().delete_object(Bucket=bucket, Key=row.object_key, VersionId=row.version_id)
    _s3().delete_object(Bucket=bucket, Key=row.object_key)
    kept = _s3().get_object(Bucket=bucket, Key=row.object_key, VersionId=row.version_id)["Body"].read()
    assert json.loads(kept)["merkle_root"] == row.merkle_root


def test_no_checkpoint_is_written_over_a_journal_that_does_not_verify(checkpoints, granted):
    event = _events(granted)[2]
    with _TriggersOff():
        _sql("UPDATE arenden_journalevent SET action = 'x' WHERE id = %s", [event.pk])
    out, err, error = _run("journal_checkpoint")
    assert error is not None and "No checkpoint written" in str(error)
    assert f"BROKEN case {granted.case.diarienummer} at event 3:" in err
    assert not JournalCheckpoint.objects.exists()
    listed = _s3().list_objects_v2(Bucket=checkpoints.JOURNAL_CHECKPOINT_BUCKET, Prefix=checkpoints.JOURNAL_CHECKPOINT_PREFIX)
    assert listed.get("KeyCount", 0) == 0


def test_checkpoint_key_missing_is_a_clear_error(checkpoints, granted):
    out, err, error = _run("journal_checkpoint")
    assert error is None, err
    checkpoints.JOURNAL_CHECKPOINT_KEY = ""
    for command in ("journal_checkpoint", "verify_journal"):
        out, err, error = _run(command)
        assert error is not None and "JOURNAL_CHECKPOINT_KEY must be set" in str(error), command
    assert JournalCheckpoint.objects.count() == 1


def test_a_chain_that_only_grew_since_the_checkpoint_verifies(checkpoints, granted, make_application, malmo):
    _run("journal_checkpoint")
    with transaction.atomic():
        journal_append(actor=None, case=granted.case, action=CaseEvent.CLOSE, payload={"description": "Avslutat"})
    make_application(to=Status.SUBMITTED, organisation=malmo)  # a case the checkpoint never saw
    out, err, error = _run("verify_journal")
    assert error is None, err
    assert "Journal OK" in out and "(1 chains) is still there" in out


# -- what verify_journal missed before (issue 9), each found and named ----------------------


def test_an_edited_event_with_every_later_hash_and_the_head_recomputed_is_named(checkpoints, granted, make_application, malmo):
    other = make_application(to=Status.IN_REVIEW, organisation=malmo)
    _run("journal_checkpoint")
    events = [_fields(e) for e in _events(granted)]
    events[2]["payload"] = normalise_payload({**events[2]["payload"], "note": "Registrerad i efterhand"})
    _rewrite(granted.case, events)
    out, err, error = _run("verify_journal")
    assert error is not None and "Journal OK" not in out
    assert _broken(err) == [
        f"BROKEN case {granted.case.diarienummer} at event 3: event 3 differs from checkpoint "
        f"{JournalCheckpoint.objects.get().object_key} (the chain was rewritten from there)"
    ]
    assert other.case.diarienummer not in err


def test_an_event_deleted_and_the_chain_renumbered_and_rehashed_is_named(checkpoints, granted):
    _run("journal_checkpoint")
    events = [_fields(e) for e in _events(granted)]
    del events[3]  # start_assessment, seq 4
    _rewrite(granted.case, events)
    out, err, error = _run("verify_journal")
    assert error is not None
    assert _broken(err) == [
        f"BROKEN case {granted.case.diarienummer} at event 4: event 4 differs from checkpoint "
        f"{JournalCheckpoint.objects.get().object_key} (the chain was rewritten from there)"
    ]


def test_two_events_reordered_and_rehashed_are_named(checkpoints, granted):
    _run("journal_checkpoint")
    events = [_fields(e) for e in _events(granted)]
    events[1], events[2] = events[2], events[1]  # register before submit
    _rewrite(granted.case, events)
    out, err, error = _run("verify_journal")
    assert error is not None
    assert f"BROKEN case {granted.case.diarienummer} at event 2: event 2 differs from checkpoint" in err
    assert len(_broken(err)) == 1


def test_the_last_event_deleted_and_the_head_moved_back_is_named(checkpoints, granted):
    _run("journal_checkpoint")
    events = _events(granted)
    with _TriggersOff():
        _sql("DELETE FROM arenden_journalevent WHERE id = %s", [events[-1].pk])
        Case.objects.filter(pk=granted.case_id).update(journal_seq=5, journal_head=events[-2].hash)
    assert journal_verify() == []  # consistent in itself: the finding of issue 9
    out, err, error = _run("verify_journal")
    assert error is not None
    key = JournalCheckpoint.objects.get().object_key
    assert _broken(err) == [
        f"BROKEN case {granted.case.diarienummer} at event 6: the journal ends at event 5, "
        f"but checkpoint {key} has it at event 6 (events were removed)"
    ]


def _remove_case(case_id):
    """The case, its events and what hangs on it, gone, with the triggers off."""
    with _TriggersOff():
        for table in ("arenden_journalevent", "arenden_diariumentry", "arenden_attachment", "bidrag_application"):
            _sql(f"DELETE FROM {table} WHERE case_id = %s", [case_id])
        _sql("DELETE FROM arenden_case WHERE id = %s", [case_id])


def test_a_whole_numbered_case_removed_leaves_a_serial_gap_that_is_named(make_application, malmo):
    first = make_application(to=Status.IN_REVIEW)
    second = make_application(to=Status.IN_REVIEW, organisation=malmo)
    removed = first.case.diarienummer
    assert (first.case.diarie_serial, second.case.diarie_serial) == (1, 2)
    _remove_case(first.case_id)
    assert journal_verify() == []  # no chain left to break: the finding of issue 9
    out, err, error = _run("verify_journal")  # no checkpoint: the serials alone find it
    assert error is not None
    year = timezone.localdate().year
    assert _broken(err) == [
        f"BROKEN case {removed}: no case has serial 1 of {year}: a numbered case was removed (a gap in the diarium)"
    ]


def test_the_newest_case_removed_with_the_counter_moved_back_is_named_by_the_checkpoint(checkpoints, make_application, malmo):
    kept = make_application(to=Status.IN_REVIEW)
    newest = make_application(to=Status.IN_REVIEW, organisation=malmo)
    _run("journal_checkpoint")
    removed = newest.case.diarienummer
    year = newest.case.diarie_year
    _remove_case(newest.case_id)
    DiarieSerial.objects.filter(year=year).update(last_serial=1)
    out, err, error = _run("verify_journal")
    assert error is not None
    key = JournalCheckpoint.objects.get().object_key
    assert _broken(err) == [
        f"BROKEN case {removed}: the case is in checkpoint {key} (journal at event 3) but no longer exists",
        f"BROKEN journal: the {year} serial counter is at 1, but a checkpoint saw it at 2",
        f"BROKEN case {removed}: no case has serial 2 of {year}: a numbered case was removed (a gap in the diarium)",
    ]
    assert kept.case.diarienummer not in err


def test_serial_gaps_are_checked_per_year(db):
    DiarieSerial.objects.create(year=2025, last_serial=3)
    for serial in (1, 3):
        Case.objects.create(title="t", counterpart="c", diarie_year=2025, diarie_serial=serial, diarienummer=f"2025-{serial:05d}")
    DiarieSerial.objects.create(year=2024, last_serial=1)
    Case.objects.create(title="t", counterpart="c", diarie_year=2024, diarie_serial=1, diarienummer="2024-00001")
    out, err, error = _run("verify_journal")
    assert error is not None
    assert _broken(err) == ["BROKEN case 2025-00002: no case has serial 2 of 2025: a numbered case was removed (a gap in the diarium)"]


# -- the checkpoints themselves ------------------------------------------------------------


def test_a_removed_checkpoint_row_is_noticed_from_s3(checkpoints, granted):
    _run("journal_checkpoint")
    row = JournalCheckpoint.objects.get()
    with _TriggersOff():
        _sql("DELETE FROM arenden_journalcheckpoint")
    out, err, error = _run("verify_journal")
    assert error is not None
    assert _broken(err) == [
        f"BROKEN journal: checkpoint {row.object_key} is in S3 but not recorded in the database (its row was removed?)"
    ]


def test_a_forged_checkpoint_does_not_verify(checkpoints, granted):
    _run("journal_checkpoint")
    row = JournalCheckpoint.objects.get()
    stored = json.loads(_s3().get_object(Bucket=row.bucket, Key=row.object_key)["Body"].read())
    stored["chains"] = []  # someone with S3 write access but not the key
    forged = f"{checkpoints.JOURNAL_CHECKPOINT_PREFIX}99991231T000000000000Z-forged.json"
    _s3().put_object(Bucket=row.bucket, Key=forged, Body=json.dumps(stored).encode())
    out, err, error = _run("verify_journal")
    assert error is not None
    assert f"BROKEN journal: checkpoint {forged}: the signature does not verify (altered, or another key)" in err


def test_checkpoint_rows_are_append_only(checkpoints, granted):
    _run("journal_checkpoint")
    for statement in ("UPDATE arenden_journalcheckpoint SET merkle_root = 'x'", "DELETE FROM arenden_journalcheckpoint"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _sql(statement)
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"), transaction.atomic():
        _sql("SET LOCAL bidrag.allow_truncate = off")
        _sql("TRUNCATE arenden_journalcheckpoint")
    assert JournalCheckpoint.objects.count() == 1


def test_s3_answering_wrong_is_a_clear_error(checkpoints, granted):
    checkpoints.JOURNAL_CHECKPOINT_BUCKET = f"no-such-bucket-{uuid.uuid4().hex[:12]}"
    for command in ("journal_checkpoint", "verify_journal"):
        out, err, error = _run(command)
        assert error is not None and "S3 did not answer as it should for the checkpoints" in str(error), command
    assert not JournalCheckpoint.objects.exists()
