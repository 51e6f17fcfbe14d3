"""The case's journal head moves only onto the next appended event (migration 0007):
issue 9 found that a role that may not TRUNCATE could still cut a chain's end from the
head's point of view, by UPDATE of journal_seq and journal_head on the case."""

import pytest
from django.db import DatabaseError, connection, transaction

from arenden.journal import CaseEvent, journal_append, journal_verify
from arenden.models import Case, JournalEvent
from bidrag.models.application import Status


@pytest.fixture
def case(make_application):
    return make_application(to=Status.IN_REVIEW).case  # three events


def _refused(statement, params):
    with pytest.raises(DatabaseError, match="the journal head moves only onto the next appended event"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement, params)


def test_the_head_cannot_be_moved_back_to_an_earlier_event(case):
    second = JournalEvent.objects.get(case=case, seq=2)
    _refused("UPDATE arenden_case SET journal_seq = 2, journal_head = %s WHERE id = %s", [second.hash, case.pk])
    with pytest.raises(DatabaseError, match="journal head"), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(journal_seq=2, journal_head=second.hash)
    case.refresh_from_db()
    assert case.journal_seq == 3


def test_the_head_cannot_point_anywhere_but_the_next_event(case):
    third = JournalEvent.objects.get(case=case, seq=3)
    _refused("UPDATE arenden_case SET journal_head = %s WHERE id = %s", ["f" * 64, case.pk])
    _refused("UPDATE arenden_case SET journal_seq = 4 WHERE id = %s", [case.pk])  # no event 4
    _refused("UPDATE arenden_case SET journal_seq = 4, journal_head = %s WHERE id = %s", [third.hash, case.pk])
    _refused("UPDATE arenden_case SET journal_seq = 0, journal_head = %s WHERE id = %s", ["0" * 64, case.pk])


def test_appends_and_other_changes_of_the_case_go_through(case):
    Case.objects.filter(pk=case.pk).update(title="Ny rubrik")
    case.refresh_from_db()
    case.save()  # every column written, the head unchanged
    with transaction.atomic():
        event = journal_append(actor=None, case=case, action=CaseEvent.CLOSE, payload={})
    case.refresh_from_db()
    assert (case.title, case.journal_seq, case.journal_head) == ("Ny rubrik", 4, event.hash)
    assert journal_verify(case_ids=[case.pk]) == []
