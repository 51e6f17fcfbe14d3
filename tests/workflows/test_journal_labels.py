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
from bidrag.events import ACTION_LABELS, Event, action_label
from bidrag.models.application import Status

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("event", [*Event, *CaseEvent])
def test_every_journal_event_has_words(event):
    assert event in ACTION_LABELS
    assert action_label(event) != event.value and not re.fullmatch(r"[a-z_]+", action_label(event))


def test_the_case_page_journal_shows_words_and_no_pseudo_changes(make_application, cast):
    application = make_application(to=Status.IN_PROGRESS)
    client = Client()
    client.force_login(cast.officer)
    page = html.unescape(client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode())
    journal = page[page.index('id="journal"'):page.index('id="jav"')]
    actions = set(JournalEvent.objects.filter(case_id=application.case_id).values_list("action", flat=True))
    assert {"submit", "decide", "pay_disbursement"} <= actions
    for action in actions:
        assert f"<td>{action}</td>" not in journal and f"<code>{action}</code>" not in journal
        assert str(action_label(action)) in journal
    events = JournalEvent.objects.filter(case_id=application.case_id)
    changes = sum(1 for e in events if e.from_state != e.to_state)
    assert 0 < changes < events.count()  # some events change nothing: those rows show no arrow
    assert journal.count("→") == changes
