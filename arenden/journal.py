"""The append-only, hash-chained case journal.

Each event's hash is SHA-256 over a canonical JSON encoding of the event including the
previous event's hash, so altering, removing or reordering any event breaks the chain from
that point on. `verify_journal` recomputes it (arenden.verification) and holds every chain
against the latest signed checkpoint (arenden.checkpoints).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from .actors import group_names
from .models import Case, JournalEvent

GENESIS_HASH = "0" * 64


class CaseEvent(StrEnum):
    """Events of generic case handling; a domain app names its own in an enum of its own."""

    CLOSE = "close_case"
    # A closed case taken up again: a decision in it is reconsidered (FL 37 §).
    REOPEN = "reopen_case"
    DECLARE_CONFLICT = "declare_conflict"
    RULE_CONFLICT = "rule_conflict"
    # An item registered in the case's diarium by hand (OSL 5 kap. 1 §; FL 27 § notes).
    REGISTER_ITEM = "register_item"
    # Allmänna handlingar lämnade ut (TF 2 kap.) after a secrecy review (OSL): no change of state.
    PRODUCE_DOCUMENTS = "produce_documents"


def _canonical_json(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def normalise_payload(payload: dict | None) -> dict:
    """Payload as it will read back from the database (Decimals, dates and UUIDs as strings)."""
    return json.loads(_canonical_json(payload or {}))


def event_digest(
    *,
    case_id,
    seq: int,
    occurred_at: datetime,
    actor_id,
    actor_label: str,
    actor_roles: list,
    action: str,
    from_state: str,
    to_state: str,
    payload: dict,
    prev_hash: str,
) -> str:
    body = {
        "case": str(case_id),
        "seq": seq,
        "at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor_id,
        "actor_label": actor_label,
        "actor_roles": list(actor_roles),
        "action": action,
        "from": from_state,
        "to": to_state,
        "payload": payload,
        "prev": prev_hash,
    }
    return hashlib.sha256(_canonical_json(body).encode("utf-8")).hexdigest()


_DIGESTED = ("case_id", "seq", "occurred_at", "actor_id", "actor_label", "actor_roles", "action", "from_state",
             "to_state", "payload", "prev_hash")


def digest_of(event: JournalEvent) -> str:
    """The digest journal_append computed for a stored event, from its fields."""
    return event_digest(**{name: getattr(event, name) for name in _DIGESTED})


def actor_snapshot(actor) -> tuple[int | None, str, list[str]]:
    if actor is None:
        return None, "system", ["system"]
    label = actor.get_full_name() or actor.get_username()
    roles = sorted(group_names(actor))
    return actor.pk, label, roles


def journal_append(
    *,
    actor,
    case: Case | None = None,
    case_id=None,
    action: StrEnum,
    from_state: str = "",
    to_state: str = "",
    payload: dict | None = None,
) -> JournalEvent:
    """Append one event. Must run inside the caller's transaction, which it joins.

    `action` is a member of an event enum (CaseEvent, bidrag.events.Event): a free string
    would let one action drift into several names.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("journal_append must run inside the transaction of the state change")
    if not isinstance(action, StrEnum):
        raise TypeError(f"journal action must be an event enum member, not {action!r}")
    action_name = action.value
    case_id = case.pk if case is not None else case_id
    statements = _append_statements()
    with transaction.get_connection().cursor() as cursor:
        # The case row lock serialises appends per case, so seq and prev_hash never fork.
        case_key = Case._meta.pk.get_db_prep_value(case_id, cursor.db)  # a UUID as the database takes it
        cursor.execute(statements.head, [case_key])
        row = cursor.fetchone()
        if row is None:
            raise Case.DoesNotExist(f"no case {case_id}")
        last_seq, prev_hash = row
        seq = last_seq + 1
        actor_id, actor_label, actor_roles = actor_snapshot(actor)
        occurred_at = timezone.now()
        clean_payload = normalise_payload(payload)
        fields = {
            "case_id": case_id,
            "seq": seq,
            "occurred_at": occurred_at,
            "actor_id": actor_id,
            "actor_label": actor_label,
            "actor_roles": actor_roles,
            "action": action_name,
            "from_state": from_state,
            "to_state": to_state,
            "payload": clean_payload,
            "prev_hash": prev_hash,
        }
        digest = event_digest(**fields)
        event = JournalEvent(**fields, hash=digest)
        cursor.execute(
            statements.insert,
            [
                JournalEvent._meta.get_field(name).get_db_prep_save(getattr(event, attname), cursor.db)
                for name, attname in statements.insert_fields
            ],
        )
        event.pk = cursor.fetchone()[0]
        # The event first: PostgreSQL moves the head only onto an event that is there and
        # follows the old head (migration 0007).
        cursor.execute(statements.move_head, [seq, digest, case_key])
    event._state.adding = False
    event._state.db = cursor.db.alias
    return event


@dataclass(frozen=True)
class _AppendStatements:
    head: str
    move_head: str
    insert: str
    insert_fields: tuple[tuple[str, str], ...]


@cache
def _append_statements() -> _AppendStatements:
    """The three statements of an append, written once from the models' metadata.

    Every state change journals, so the append is on the path of every action; the ORM's
    query building costs more than the three round trips it sends (measured in `make
    bench`, part c), so the statements are built once here and sent as they are.
    """
    q = connection.ops.quote_name
    case_table = q(Case._meta.db_table)
    case_pk = q(Case._meta.pk.column)
    seq_col, head_col = (q(Case._meta.get_field(f).column) for f in ("journal_seq", "journal_head"))
    fields = tuple((f.name, f.attname) for f in JournalEvent._meta.concrete_fields if not f.primary_key)
    event_table = q(JournalEvent._meta.db_table)
    columns = ", ".join(q(JournalEvent._meta.get_field(name).column) for name, _ in fields)
    # PostgreSQL locks the case row; SQLite (the quick start) has no row locks and takes the
    # whole database for the writing transaction instead, which serialises appends as well.
    lock = f" FOR UPDATE OF {case_table}" if connection.features.has_select_for_update_of else ""
    return _AppendStatements(
        head=(
            f"SELECT {case_table}.{seq_col}, {case_table}.{head_col} FROM {case_table}"
            f" WHERE {case_table}.{case_pk} = %s{lock}"
        ),
        move_head=f"UPDATE {case_table} SET {seq_col} = %s, {head_col} = %s WHERE {case_table}.{case_pk} = %s",
        insert=(
            f"INSERT INTO {event_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
            f" RETURNING {event_table}.{q(JournalEvent._meta.pk.column)}"
        ),
        insert_fields=fields,
    )


@dataclass(frozen=True)
class BrokenLink:
    case_id: str
    diarienummer: str | None
    seq: int
    reason: str


def journal_verify(*, case_ids=None) -> list[BrokenLink]:
    """Recompute every chain; return the first broken link of each broken case.

    The scan lives in arenden.verification (streamed, without model instances);
    `verify_journal` adds the checkpoint and the diarienummer serials.
    """
    from .verification import journal_verify as verify

    return verify(case_ids=case_ids)
