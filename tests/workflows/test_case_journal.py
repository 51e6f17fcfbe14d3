"""Issue 9: the case journal for staff readers and auditors. Every event in order with who,
in which role, when, from and to which state and what it carried (personal identity
numbers cut short); each event's hash recomputed as the journal computed it, the chain
checked up to the page, and the first event that does not check marked in words. Paged by
keyset on the sequence number, at the same queries for a page of one event and of sixty."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from arenden.formatting import moment, money
from arenden.journal import CaseEvent, journal_append
from arenden.models import JournalEvent
from bidrag.models.application import Status
from tests.domain import perform
from workflows.journal_views import mask_identity_numbers

pytestmark = pytest.mark.django_db

GUARD = "arenden_journalevent_append_only"


def _sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _tamper(statement, params=None):
    """Run statement with the append-only guard off, as someone with DDL rights could
    (tests/arenden/test_journal.py)."""
    _sql("SET CONSTRAINTS ALL IMMEDIATE")
    _sql(f"ALTER TABLE arenden_journalevent DISABLE TRIGGER {GUARD}")
    try:
        _sql(statement, params)
    finally:
        _sql(f"ALTER TABLE arenden_journalevent ENABLE TRIGGER {GUARD}")
        _sql("SET CONSTRAINTS ALL DEFERRED")


def main_of(page: str) -> str:
    """The page's own content, without the header's language and logout forms."""
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def _journal(client, application, **params) -> str:
    response = client.get(reverse("workflows:case_journal", args=[application.pk]), params)
    assert response.status_code == 200
    return main_of(response.content.decode())


def _row(page: str, seq: int) -> str:
    return page.split(f'id="handelse-{seq}"', 1)[1].split("</tr>", 1)[0]


@pytest.fixture
def granted(make_application):
    return make_application(to=Status.GRANTED)  # six events: create_draft .. decide


def test_the_journal_shows_every_event_in_order_with_who_when_what_and_that_it_checks(granted, cast, client):
    events = list(JournalEvent.objects.filter(case=granted.case).order_by("seq"))
    client.force_login(cast.auditor)
    page = _journal(client, granted)

    positions = [page.index(f'id="handelse-{e.seq}"') for e in events]
    assert positions == sorted(positions) and len(events) == 6
    for event in events:
        row = _row(page, event.seq)
        assert event.action in row
        assert moment(event.occurred_at) in row  # "1 december 2026 kl. 18.05", Stockholm time
        assert "Stämmer" in row and "Stämmer inte" not in row
        assert event.hash[:12] in row
    decide = _row(page, 6)
    assert "Berit Beslutsfattare" in decide and "Beslutsfattare" in decide
    assert "Beslut fattat" in decide or "fattade beslut" in decide
    assert "Beslutsförslag lämnat" in _row(page, 5) or "lade beslutsförslag" in _row(page, 5)
    assert re.search(r"Under bedömning.*till</span> Beslutsförslag", _row(page, 5), re.S)
    # The payload, readable: the amount in kronor, the outcome as it was recorded.
    assert f"<code>amount</code></dt><dd>{money(granted.decisions.get().amount)}</dd>" in decide
    assert "<code>outcome</code></dt><dd>granted</dd>" in decide
    assert "Kedjan är obruten från den första händelsen till och med händelse nr 6." in page
    assert "journalhuvud pekar på den sista händelsen, nr 6" in page
    assert "Första händelsen som inte stämmer" not in page
    # Read-only: the only form on the page is the choice of page size, sent by GET.
    assert 'method="post"' not in page and page.count("<form") == 1


def test_the_case_page_links_to_the_journal_and_the_auditor_to_the_reads(granted, cast, client):
    journal_url = reverse("workflows:case_journal", args=[granted.pk])
    reads_url = reverse("workflows:case_reads", args=[granted.pk])
    client.force_login(cast.officer)
    page = client.get(reverse("workflows:case_detail", args=[granted.pk])).content.decode()
    assert journal_url in page and reads_url not in page
    assert client.get(journal_url).status_code == 200  # staff readers read the journal
    client.force_login(cast.auditor)
    page = client.get(reverse("workflows:case_detail", args=[granted.pk])).content.decode()
    assert journal_url in page and reads_url in page


def test_applicants_and_strangers_get_404(granted, cast, client):
    stranger = get_user_model().objects.create_user("okand2")
    for user in (cast.applicant, cast.signatory, stranger):
        client.force_login(user)
        assert client.get(reverse("workflows:case_journal", args=[granted.pk])).status_code == 404


@pytest.mark.owner_role
def test_an_altered_event_is_marked_as_the_first_that_does_not_check(granted, cast, client):
    events = list(JournalEvent.objects.filter(case=granted.case).order_by("seq"))
    _tamper("UPDATE arenden_journalevent SET actor_label = 'Någon Annan' WHERE id = %s", [events[2].pk])
    client.force_login(cast.auditor)
    page = _journal(client, granted)

    assert all(f'id="handelse-{e.seq}"' in page for e in events)  # every event still shown
    altered = _row(page, 3)
    assert "Första händelsen som inte stämmer" in altered and "Stämmer inte" in altered
    assert "händelsen har ändrats" in altered
    for seq in (1, 2):
        assert "Stämmer inte" not in _row(page, seq)
    assert "Första händelsen som inte stämmer" not in _row(page, 4)
    assert "Kedjan är bruten vid händelse nr 3 på den här sidan." in page
    assert "Händelserna 1–2 stämmer." in page
    assert "Kedjan är obruten" not in page


@pytest.mark.owner_role
def test_a_removed_last_event_leaves_the_head_naming_an_event_the_chain_lacks(granted, cast, client):
    last = JournalEvent.objects.get(case=granted.case, seq=6)
    _tamper("DELETE FROM arenden_journalevent WHERE id = %s", [last.pk])
    client.force_login(cast.auditor)
    page = _journal(client, granted)
    assert 'id="handelse-6"' not in page and 'id="handelse-5"' in page
    assert "Kedjan är obruten från den första händelsen till och med händelse nr 5." in page
    assert "Ärendets journalhuvud stämmer inte med kedjans sista händelse." in page
    assert "Enligt ärendet slutar kedjan vid händelse nr 6." in page


def test_personal_identity_numbers_are_not_shown_in_full(granted, cast, client):
    from django.db import transaction

    with transaction.atomic():
        journal_append(actor=cast.officer, case=granted.case, action=CaseEvent.REGISTER_ITEM,
                       payload={"note": "Samtal med 19121212-1212 om ansökan", "orgnr": "2120000142",
                                "caller": "121212-1212"})
    client.force_login(cast.auditor)
    row = _row(_journal(client, granted), 7)
    assert "1212-1212" not in row and "19121212-****" in row and "121212-****" in row
    assert "2120000142" in row  # an organisationsnummer is no personal identity number
    assert "Stämmer" in row and "Stämmer inte" not in row
    assert mask_identity_numbers("198112189876 och 8112189876") == "19811218-**** och 811218-****"
    assert mask_identity_numbers("8024000005") == "8024000005"


def _rounds(cast, application, n: int) -> None:
    soon = timezone.localdate() + timedelta(days=14)
    for i in range(n):
        perform(actor=cast.officer, application=application, node="review", action="request_supplement",
                data={"deadline": soon, "request_text": f"Komplettering nummer {i + 1}."})
        perform(actor=cast.applicant, application=application, node="await_supplement", action="receive_supplement",
                data={"answer": f"Svar nummer {i + 1}."})


def _queries(client, application, **params) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        page = _journal(client, application, **params)
    return page, len(queries)


@pytest.mark.owner_role
def test_pages_by_sequence_number_at_the_same_queries_for_one_event_and_sixty(make_application, cast, client):
    application = make_application(to=Status.IN_REVIEW)
    base = application.case.journal.count()
    _rounds(cast, application, (61 - base + 1) // 2)
    total = JournalEvent.objects.filter(case=application.case).count()
    assert total >= 61
    client.force_login(cast.auditor)

    sixty, sixty_queries = _queries(client, application, antal=100, efter=total - 60)
    one, one_queries = _queries(client, application, antal=100, efter=total - 1)
    assert len(re.findall(r'id="handelse-\d+"', sixty)) == 60
    assert len(re.findall(r'id="handelse-\d+"', one)) == 1 and f'id="handelse-{total}"' in one
    assert sixty_queries == one_queries

    # 25 a page: the first page, then the next by its cursor, the last page by itself.
    first = _journal(client, application, antal=25)
    assert 'id="handelse-1"' in first and 'id="handelse-25"' in first and 'id="handelse-26"' not in first
    assert "efter=25" in first and "sista=1" in first
    second = _journal(client, application, antal=25, efter=25)
    assert 'id="handelse-26"' in second and 'id="handelse-50"' in second and 'id="handelse-25"' not in second
    assert "fore=26" in second
    back = _journal(client, application, antal=25, fore=26)
    assert 'id="handelse-1"' in back and 'id="handelse-25"' in back
    last = _journal(client, application, antal=25, sista=1)
    assert f'id="handelse-{total}"' in last and f'id="handelse-{total - 24}"' in last
    assert "Kedjan är obruten från den första händelsen till och med händelse nr 50." in second

    # An event on an earlier page altered: a later page says the chain broke before it.
    event = JournalEvent.objects.get(case=application.case, seq=5)
    _tamper("UPDATE arenden_journalevent SET payload = '{\"x\": 1}' WHERE id = %s", [event.pk])
    second = _journal(client, application, antal=25, efter=25)
    assert "Kedjan är bruten före den här sidan." in second
    assert "Händelse nr 5 är den första som inte stämmer." in second
    assert "efter=4&amp;antal=25#handelse-5" in second
    assert "Stämmer inte" not in second  # the events of this page check by themselves
    first = _journal(client, application, antal=25)
    assert "Första händelsen som inte stämmer" in _row(first, 5)
