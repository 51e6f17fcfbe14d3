"""The application's database role (arenden.dbroles, `manage.py db_app_grants`): it owns no
table, and every way issue 9 found past the guards is refused to it, while the
application's own work goes through. The role is made in the test's transaction and
taken on with SET LOCAL ROLE, so nothing of it outlives the test."""

import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from arenden.journal import journal_verify
from arenden.models import JournalEvent
from arenden.services import case_close
from bidrag.models import Decision
from bidrag.models.application import Status

# It makes roles of its own and takes them on: as the owner (tests/harness/app_role.py).
pytestmark = pytest.mark.owner_role


@pytest.fixture
def app_role(db):
    role = f"bidrag_app_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
    out = StringIO()
    call_command("db_app_grants", role, "--apply", stdout=out)
    assert "statements applied" in out.getvalue()
    return role


def _as(role, *statements):
    with connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        for statement in statements:
            cursor.execute(statement)


def _refused(role, *statements, match):
    with pytest.raises(DatabaseError, match=match), transaction.atomic():
        _as(role, *statements)


def test_the_application_role_owns_no_table_and_every_bypass_is_refused(app_role, make_application):
    application = make_application(to=Status.GRANTED)
    events = JournalEvent.objects.filter(case=application.case).count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = %s)", [app_role])
        assert cursor.fetchone()[0] == 0
    denied = "permission denied"
    _refused(app_role, "SET LOCAL bidrag.allow_truncate = on", "TRUNCATE arenden_journalevent", match=denied)
    _refused(app_role, "SET LOCAL bidrag.allow_truncate = on", "TRUNCATE bidrag_decision CASCADE", match=denied)
    _refused(app_role, "TRUNCATE arenden_conflictofinterest CASCADE", match=denied)
    _refused(app_role, "SET LOCAL session_replication_role = replica", match="permission denied to set parameter")
    _refused(app_role, "ALTER TABLE arenden_journalevent DISABLE TRIGGER arenden_journalevent_append_only",
             match="must be owner")
    _refused(app_role, "ALTER TABLE bidrag_decision DISABLE TRIGGER ALL", match="must be owner")
    _refused(app_role, "UPDATE arenden_journalevent SET action = 'x'", match=denied)
    _refused(app_role, "DELETE FROM arenden_journalevent", match=denied)
    _refused(app_role, "UPDATE bidrag_decision SET amount = 1", match=denied)
    _refused(app_role, "DELETE FROM arenden_journalcheckpoint", match=denied)
    _refused(app_role, f"UPDATE arenden_case SET journal_seq = journal_seq - 1 WHERE id = '{application.case_id}'",
             match="the journal head moves only onto the next appended event")
    _refused(app_role, "CREATE TABLE bidrag_mine (id int)", match=denied)
    assert JournalEvent.objects.filter(case=application.case).count() == events
    assert Decision.objects.filter(application=application).count() == 1


def test_the_application_role_does_the_applications_work(app_role, make_application, malmo):
    with connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{app_role}"')
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == app_role
    application = make_application(to=Status.GRANTED, organisation=malmo)  # the door, services, viewflow, outbox
    case_close(actor=None, case=application.case, description="Avslutat")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == app_role
        cursor.execute("RESET ROLE")
    assert journal_verify(case_ids=[application.case_id]) == []
    assert JournalEvent.objects.filter(case=application.case).last().action == "close_case"
