"""The streamed chain check (arenden.verification) agrees byte for byte with the digest
journal_append wrote, for every kind of payload, without falling back to an exact
recomputation per event; and a change it cannot see does not exist."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from arenden.journal import CaseEvent, journal_append, journal_verify
from arenden.models import JournalEvent
from bidrag.models.application import Status

# As the owner (tests/harness/app_role.py): these change events the way only the tables owner can, to show each change is found.
pytestmark = pytest.mark.owner_role

AWKWARD = [
    {},
    {"note": 'Citat "så här", snedstreck \\ och / och tabb\there', "rad": "ett\ntvå\r\n", "ctl": "\x01\x1f\x7f"},
    {"å": "ä", "Z": 1, "a": -0, "ö": None, "sant": True, "falskt": False, "stort": 10**20, "flyt": 0.1 + 0.2},
    {"belopp": Decimal("250000.50"), "datum": date(2027, 2, 21), "emoji": "🙂", "sep": "\u2028\u2029"},
    {"lista": [3, "b", {"z": 1, "a": [None, {}]}], "nästlad": {"b": {"d": 1, "c": 2}, "a": []}},
    {"nyckel med mellanslag": 1, "": "tom nyckel", '"': "citat som nyckel", "\\": "\u00e9\u0301"},
]


@pytest.fixture
def awkward_case(make_application):
    application = make_application(to=Status.SUBMITTED)
    with transaction.atomic():
        for payload in AWKWARD:
            journal_append(actor=None, case=application.case, action=CaseEvent.CLOSE, payload=payload,
                           from_state='a "b"', to_state="c\\d")
    return application.case


def test_every_kind_of_payload_verifies_without_an_exact_recomputation(awkward_case):
    events = JournalEvent.objects.filter(case=awkward_case).count()
    assert events == 2 + len(AWKWARD)
    with CaptureQueriesContext(connection) as queries:
        assert journal_verify() == []
    # The scan and the cases' heads: no query per event (a fallback would read the event).
    statements = [q["sql"] for q in queries.captured_queries]
    assert not any("arenden_journalevent" in sql and "LIMIT" in sql for sql in statements), statements
    assert len(statements) <= 3, statements


@pytest.mark.parametrize(("index", "change"), [
    (4, "payload = jsonb_set(payload, '{lista,2,a,0}', '0')"),
    (5, "payload = payload || '{\"\": \"tom nyckel \"}'"),
    (2, "payload = jsonb_set(payload, '{flyt}', '0.3')"),
    (1, "from_state = 'a \"b\" '"),
    (0, "occurred_at = occurred_at + interval '1 microsecond'"),
    (3, "actor_roles = '[\"system\", \"beslutsfattare\"]'"),
])
def test_a_change_anywhere_in_an_awkward_event_is_found(awkward_case, index, change):
    seq = 3 + index  # after create_draft and submit
    target = JournalEvent.objects.get(case=awkward_case, seq=seq)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(f"UPDATE arenden_journalevent SET {change} WHERE id = %s", [target.pk])
        cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    [link] = journal_verify()
    assert (link.case_id, link.seq) == (str(awkward_case.pk), seq)
    assert "altered" in link.reason
