"""Issue 7: the case page's journal says in words what happened ("Utbetalning gjord"), not
the internal code (`pay_disbursement`), and a row without a change of status says so
instead of "Beviljad → Beviljad"."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from arenden.journal import CaseEvent
from arenden.models import JournalEvent
from bidrag.events import ACTION_LABELS, SENTENCES, Event, action_label, journal_sentence
from bidrag.models.application import Status

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("event", [*Event, *CaseEvent])
def test_every_journal_event_has_words(event):
    assert event in ACTION_LABELS and event in SENTENCES
    assert action_label(event) != event.value and not re.fullmatch(r"[a-z_]+", action_label(event))


def test_the_case_page_journal_shows_words_and_no_pseudo_changes(make_application, cast):
    application = make_application(to=Status.IN_PROGRESS)
    client = Client()
    client.force_login(cast.officer)
    page = html.unescape(client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode())
    journal = page[page.index('id="journal"'):page.index('id="jav"')]
    actions = set(JournalEvent.objects.filter(case_id=application.case_id).values_list("action", flat=True))
    assert {"submit", "decide", "pay_disbursement"} <= actions
    for event in JournalEvent.objects.filter(case_id=application.case_id):
        assert f"<td>{event.action}</td>" not in journal and f">{event.action}</code>" not in journal
        assert journal_sentence(event) in journal
    events = JournalEvent.objects.filter(case_id=application.case_id)
    changes = sum(1 for e in events if e.from_state != e.to_state)
    assert 0 < changes < events.count()  # some events change nothing: those rows show no arrow
    assert journal.count("→") == changes


def test_the_journal_reads_as_sentences_and_auditors_see_the_code(make_application, cast):
    from arenden.formatting import money

    application = make_application(to=Status.IN_PROGRESS)
    paid = JournalEvent.objects.get(case_id=application.case_id, action="pay_disbursement")
    sentence = journal_sentence(paid)
    amount = application.disbursements.get().amount
    assert sentence == f"{paid.actor_label} registrerade utbetalning {money(amount)}"
    client = Client()
    client.force_login(cast.auditor)
    page = html.unescape(client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode())
    journal = page[page.index('id="journal"'):page.index('id="jav"')]
    assert sentence in journal and ">pay_disbursement</code>" in journal
