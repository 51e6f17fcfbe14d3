"""Issue 7: the case page is paginated where it grows (journal, diarium, correspondence): a
case with many supplement rounds shows the newest 25 of each, links to older ones, and
costs the same queries as a case with one round."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from arenden.sections import PER_PAGE
from bidrag.models.application import Status
from tests.domain import perform

pytestmark = pytest.mark.django_db


def _rounds(cast, application, n: int, first: int = 1) -> None:
    soon = timezone.localdate() + timedelta(days=14)
    for i in range(first - 1, first - 1 + n):
        perform(actor=cast.officer, application=application, node="review", action="request_supplement",
                data={"deadline": soon, "request_text": f"Komplettering nummer {i + 1}."})
        perform(actor=cast.applicant, application=application, node="await_supplement", action="receive_supplement",
                data={"answer": f"Svar nummer {i + 1}."})


def _page(client, application, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("workflows:case_detail", args=[application.pk]), params)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_a_long_case_shows_its_newest_rows_and_links_to_older_ones(make_application, cast, client):
    application = make_application(to=Status.IN_REVIEW)
    client.force_login(cast.officer)
    _rounds(cast, application, 1)
    _, short_case_queries = _page(client, application)

    _rounds(cast, application, 14, first=2)  # 28 more journal events, letters and diarium entries
    page, long_case_queries = _page(client, application)

    assert long_case_queries == short_case_queries
    events = application.case.journal.count()
    assert events > PER_PAGE
    assert f"Visar {events - PER_PAGE + 1}–{events} av {events}" in page
    import re
    shown = sorted({int(n) for n in re.findall(r"Svar nummer (\d+)\.", page)})
    assert shown[-1] == 15 and 1 not in shown, shown  # the newest letters, not the oldest
    assert "?logg=2#journal" in page and "?skrift=2#skriftvaxling" in page and "?diarium=2#diarium" in page

    older, _ = _page(client, application, skrift=2)
    assert "Svar nummer 1." in older and "Svar nummer 15." not in older
    journal_two, _ = _page(client, application, logg=2)
    assert f"Visar 1–{events - PER_PAGE} av {events}" in journal_two
    # A page past the end shows the oldest; nonsense shows the newest.
    assert "Visar 1–" in _page(client, application, logg=99)[0]
    assert f"av {events}, de senaste först" in _page(client, application, logg="x")[0]


def test_the_summary_says_who_has_the_case_and_the_money_in_play(make_application, cast, client, malmo):
    from arenden.formatting import money

    application = make_application(to=Status.IN_PROGRESS)
    decision = application.decisions.get()
    client.force_login(cast.officer)
    page, _ = _page(client, application)
    summary = page.split('<nav class="toc"')[0]
    assert "Handläggs av" in summary and "Beviljat belopp" in summary
    assert money(decision.amount) in summary and "utbetalt" in summary

    fresh = make_application(to=Status.DECISION_PROPOSED, organisation=malmo)
    page, _ = _page(client, fresh)
    summary = page.split('<nav class="toc"')[0]
    proposal = fresh.proposals.get(is_open=True)
    assert "Föreslaget belopp" in summary and money(proposal.amount) in summary
    assert "Beviljat belopp" not in summary

