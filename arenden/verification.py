"""Checking the journal: every chain recomputed and held against itself, the case's head,
the latest checkpoint (arenden.checkpoints) and the diarienummer serials.

A chain that is consistent in itself proves little to someone who can write the database:
an event edited with every later hash and the head recomputed, an event removed or two
swapped and the chain rebuilt, the last event dropped and the head moved back, a whole case
removed with its events. The checkpoint, signed and kept outside the database, catches the
first four; the serials catch a removed numbered case even before the first checkpoint.

The scan streams the journal through a server-side cursor in (case, seq) order and hashes
plain tuples: no model instances, the repeating strings encoded once.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC

from django.db import connection

from .journal import GENESIS_HASH, BrokenLink, _canonical_json, digest_of
from .models import Case, DiarieSerial, JournalEvent

# Hex digits of each event's hash a checkpoint keeps to locate the first rewritten event;
# detection rests on the full head hash, these only say where.
PREFIX_CHARS = 8
# Per year, at most this many missing serials are named one by one.
GAPS_NAMED_PER_YEAR = 20


@dataclass(frozen=True)
class Finding:
    """One thing verify_journal found wrong; `seq` is the first event concerned, if any."""

    case_id: str | None
    diarienummer: str | None
    seq: int | None
    reason: str

    @property
    def case_label(self) -> str:
        return self.diarienummer or self.case_id or "-"


@dataclass
class ChainScan:
    broken: list[BrokenLink] = field(default_factory=list)
    # case id -> (seq, hash) of the last event of each intact chain
    ends: dict[str, tuple[int, str]] = field(default_factory=dict)
    # case id -> hash of the event at the seq asked for in `marks`
    marked: dict[str, str] = field(default_factory=dict)
    # case id -> PREFIX_CHARS of every event's hash, in order (only when asked for)
    prefixes: dict[str, str] = field(default_factory=dict)
    event_count: int = 0


_COLUMNS = (
    "case_id", "seq", "occurred_at", "actor_id", "actor_label", "actor_roles", "action", "from_state", "to_state",
    "payload", "prev_hash", "hash",
)


def _event_rows(case_ids: Iterable | None) -> Iterator[tuple]:
    """(case, seq, at, actor, label, roles JSON, action, from, to, payload JSON, prev, hash)
    in (case, seq) order, the case id as text, the JSON columns as their text."""
    if connection.vendor != "postgresql":
        yield from _orm_rows(case_ids)
        return
    table = connection.ops.quote_name(JournalEvent._meta.db_table)
    sql = (
        # The timestamp as the digest writes it: as text it costs a tenth of a datetime.
        "SELECT case_id::text, seq,"
        " to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), actor_id, actor_label, actor_roles::text, action, from_state,"
        f" to_state, payload::text, prev_hash, hash FROM {table}"
    )
    params: list = []
    if case_ids is not None:
        sql += " WHERE case_id = ANY(%s::uuid[])"
        params.append([str(c) for c in case_ids])
    sql += " ORDER BY case_id, seq"
    # A named (server-side) cursor: the journal is never held in memory whole. (Fetching
    # the next batch on a thread of its own while this one hashes gained 2-4 %: the time
    # is ours, in psycopg's row parsing and the JSON, not the server's.)
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(5_000):
            yield from rows


def _orm_rows(case_ids: Iterable | None) -> Iterator[tuple]:
    # SQLite (the quick start): the same rows through the ORM, ordered by the text of the id.
    events = JournalEvent.objects.order_by("case_id", "seq")
    if case_ids is not None:
        events = events.filter(case_id__in=list(case_ids))
    for row in events.values_list(*_COLUMNS).iterator(2000):
        case, seq, at, actor, label, roles, action, frm, to, payload, prev, digest = row
        at_text = at.astimezone(UTC).isoformat(timespec="microseconds")
        yield (str(case), seq, at_text, actor, label, _canonical_json(roles), action, frm, to, _canonical_json(payload), prev, digest)


def _exact_digest(case_id: str, seq: int) -> str:
    """The event's digest as journal_append computed it, from its model instance."""
    event = JournalEvent.objects.get(case_id=case_id, seq=seq)
    return digest_of(event)


class _Encoded(dict):
    """Each string's JSON encoding, made the first time it is asked for."""

    def __init__(self, encode):
        super().__init__()
        self.encode = encode

    def __missing__(self, value: str) -> str:
        encoded = self[value] = self.encode(value)
        return encoded


def chains_scan(*, case_ids: Iterable | None = None, marks: dict[str, int] | None = None, prefixes: bool = False) -> ChainScan:
    """Recompute every chain (or those of `case_ids`); the first broken link of each.

    `marks` asks for the hash at a given seq per case (a checkpoint's); `prefixes` keeps a
    few hex digits of every hash (for writing a checkpoint).
    """
    encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
    loads = json.loads
    sha256 = hashlib.sha256
    # Labels, actions, states and role lists repeat: each is encoded once. The body is put
    # together here in the digest's key order; a row whose hash does not match it is
    # recomputed exactly (`_exact_digest`) before it is called altered, so this way only
    # ever shortens the way to a match (an equal SHA-256 means the same bytes).
    strings = _Encoded(encode)
    role_lists: dict[str, str] = {}

    marks = marks or {}
    scan = ChainScan()
    ends, marked, kept = scan.ends, scan.marked, scan.prefixes
    count = 0
    current: str | None = None
    expected_seq, expected_prev, broken, mark = 1, GENESIS_HASH, False, 0
    case_prefixes: list[str] = []
    for case, seq, at, actor, label, roles, action, frm, to, payload, prev, digest in _event_rows(case_ids):
        count += 1
        if case != current:
            if current is not None and not broken:
                ends[current] = (expected_seq - 1, expected_prev)
                if prefixes:
                    kept[current] = "".join(case_prefixes)
            current, expected_seq, expected_prev, broken = case, 1, GENESIS_HASH, False
            mark = marks.get(case, 0)
            case_prefixes = []
        if broken:
            continue
        if seq != expected_seq:
            reason = f"expected seq {expected_seq}, found {seq} (an event is missing)"
        elif prev != expected_prev:
            reason = "prev_hash does not match the previous event's hash"
        else:
            role_list = role_lists.get(roles)
            if role_list is None:
                role_list = role_lists[roles] = encode(loads(roles))
            body = (
                f'{{"action":{strings[action]},"actor":{"null" if actor is None else int(actor)},"actor_label":{strings[label]},'
                f'"actor_roles":{role_list},"at":"{at}",'
                f'"case":"{case}","from":{strings[frm]},"payload":{encode(loads(payload))},"prev":"{prev}","seq":{seq},'
                f'"to":{strings[to]}}}'
            )
            if sha256(body.encode()).hexdigest() == digest or _exact_digest(case, seq) == digest:
                expected_prev = digest
                expected_seq += 1
                if seq == mark:
                    marked[case] = digest
                if prefixes:
                    case_prefixes.append(digest[:PREFIX_CHARS])
                continue
            reason = "hash does not match the event's content (the event was altered)"
        scan.broken.append(BrokenLink(case, None, seq, reason))
        broken = True
    if current is not None and not broken:
        ends[current] = (expected_seq - 1, expected_prev)
        if prefixes:
            kept[current] = "".join(case_prefixes)
    scan.event_count = count
    return scan


def _heads_check(scan: ChainScan, cases: dict[str, tuple[str | None, int, str]]) -> list[BrokenLink]:
    """The case's own head (journal_seq, journal_head) against its chain's last event."""
    broken_cases = {link.case_id for link in scan.broken}
    found: list[BrokenLink] = []
    for case_id, (diarienummer, seq, head) in cases.items():
        if case_id in broken_cases or (seq == 0 and case_id not in scan.ends):
            continue
        end_seq, end_hash = scan.ends.get(case_id, (0, GENESIS_HASH))
        if end_seq != seq:
            found.append(
                BrokenLink(case_id, diarienummer, end_seq + 1, f"the case's journal ends at event {seq}, found {end_seq}")
            )
        elif end_hash != head:
            found.append(BrokenLink(case_id, diarienummer, seq, "the case's journal head is not its last event's hash"))
    return found


def case_heads(case_ids: Iterable | None = None) -> dict[str, tuple[str | None, int, str]]:
    """case id -> (diarienummer, journal_seq, journal_head) of every case (or those given)."""
    cases = Case.objects.all()
    if case_ids is not None:
        cases = cases.filter(pk__in=list(case_ids))
    return {
        str(pk): (diarienummer, seq, head)
        for pk, diarienummer, seq, head in cases.values_list("pk", "diarienummer", "journal_seq", "journal_head").iterator(5000)
    }


def journal_verify(*, case_ids=None) -> list[BrokenLink]:
    """Recompute every chain; return the first broken link of each broken case, and every
    case whose head does not name its chain's last event."""
    scan = chains_scan(case_ids=case_ids)
    return chain_findings(scan, case_heads(case_ids))


def chain_findings(scan: ChainScan, cases: dict[str, tuple[str | None, int, str]]) -> list[BrokenLink]:
    named = [
        BrokenLink(link.case_id, cases.get(link.case_id, (None,))[0], link.seq, link.reason) for link in scan.broken
    ]
    return named + _heads_check(scan, cases)


def serial_gaps(*, at_least: dict[int, int] | None = None) -> list[Finding]:
    """Every diarienummer serial from 1 to the year's last must belong to an existing case.

    `at_least`: per year, a last serial known from elsewhere (a checkpoint), so lowering
    the counter after removing the newest case does not hide it.
    """
    from .services import format_diarienummer  # services import the journal: imported late

    numbered: dict[int, set[int]] = defaultdict(set)
    rows = Case.objects.filter(diarie_serial__isnull=False, diarie_year__isnull=False).values_list("diarie_year", "diarie_serial")
    for year, serial in rows.iterator(10_000):
        if year is not None and serial is not None:
            numbered[year].add(serial)
    counters = dict(DiarieSerial.objects.values_list("year", "last_serial"))
    known = at_least or {}
    findings: list[Finding] = []
    for year in sorted(set(counters) | set(numbered) | set(known)):
        serials = numbered.get(year, set())
        counter = counters.get(year, 0)
        top = max(counter, max(serials, default=0), known.get(year, 0))
        if known.get(year, 0) > counter:
            findings.append(
                Finding(None, None, None, f"the {year} serial counter is at {counter}, but a checkpoint saw it at {known[year]}")
            )
        elif max(serials, default=0) > counter:
            findings.append(
                Finding(None, None, None, f"the {year} serial counter is at {counter}, below the highest serial in use, {max(serials)}")
            )
        missing = [serial for serial in range(1, top + 1) if serial not in serials]
        for serial in missing[:GAPS_NAMED_PER_YEAR]:
            findings.append(
                Finding(
                    None,
                    format_diarienummer(year=year, serial=serial),
                    None,
                    f"no case has serial {serial} of {year}: a numbered case was removed (a gap in the diarium)",
                )
            )
        if len(missing) > GAPS_NAMED_PER_YEAR:
            findings.append(Finding(None, None, None, f"{len(missing) - GAPS_NAMED_PER_YEAR} more serials of {year} have no case"))
    return findings
