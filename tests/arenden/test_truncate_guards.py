"""TRUNCATE is refused on every append-only table (issue 9: decisions had no guard). The
suite's connections set bidrag.allow_truncate to empty the database between tests; each
check here turns it off again, in a savepoint of the test's own transaction."""

import pytest
from django.db import DatabaseError, connection, transaction

# As the owner (tests/harness/app_role.py): the guard stops even the tables owner; the application role has no TRUNCATE at all (test_app_role).
pytestmark = pytest.mark.owner_role

APPEND_ONLY = [
    "arenden_journalevent",
    "arenden_journalcheckpoint",
    "arenden_conflictofinterest",  # jäv declarations
    "arenden_conflictruling",
    "arenden_caseread",  # who read which case, when (issue 9)
    "bidrag_decision",
    "bidrag_decision_participants",  # MF 21 §: who took part
    "bidrag_decisionletter",
    "bidrag_appealletter",  # FL 45 §: the översändelse sent to the court
    "bidrag_mandatedecision",
    "bidrag_submittedversion",
    "workflows_dataexport",  # who exported the decision log or the disbursements, when, what (issue 9)
]


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_truncate_is_refused(db, table):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(DatabaseError, match=f"{table} is append-only: TRUNCATE refused"), transaction.atomic():
            cursor.execute("SET LOCAL bidrag.allow_truncate = off")
            # CASCADE: else a table others refer to is refused for that first. The named
            # table's triggers fire first, so the refusal names it.
            cursor.execute(f"TRUNCATE {table} CASCADE")
        # The guard is the trigger's doing, not a missing privilege: with the setting on it passes.
        with transaction.atomic():
            cursor.execute("SET LOCAL bidrag.allow_truncate = on")
            cursor.execute(f"TRUNCATE {table} CASCADE")
            transaction.set_rollback(True)


def test_every_append_only_table_is_listed(db):
    """A new append-only table gets its TRUNCATE guard and a line above."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = 'bidrag_refuse_change'"
        )
        guarded = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = 'bidrag_refuse_change'"
            " AND t.tgtype & 32 = 32"  # TRIGGER_TYPE_TRUNCATE
        )
        truncate_guarded = {row[0] for row in cursor.fetchall()}
    assert guarded == truncate_guarded == set(APPEND_ONLY)
