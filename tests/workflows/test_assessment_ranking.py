"""Issue 7, ranking: a call's applications in assessment or later by mean score, with the
requested and proposed amounts, a running total against the budget and where it runs out;
the allocation simulator (partial amounts, cut rows) computed from a GET form and writing
nothing; a constant number of queries however many rows."""

import html
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from arenden.models import JournalEvent
from bidrag.models import Application, Assessment, Organisation, Proposal
from bidrag.models.application import Status
from bidrag.models.assessment import criteria_of
from bidrag.ranking import allocate, call_ranking
from tests.domain import perform, to_queue
from workflows import door

pytestmark = pytest.mark.django_db


def municipalities(n):
    return list(Organisation.objects.exclude(kommunkod="").order_by("kommunkod")[:n])


def scored(make_application, cast, organisation, *, value, amount, to=Status.IN_ASSESSMENT, title="Projekt"):
    application = make_application(to=Status.IN_ASSESSMENT, organisation=organisation, amount=amount, title=title)
    perform(actor=cast.officer, application=application, node="assess", action="score",
            data={"scores": {c["code"]: (value, "Motiverat") for c in criteria_of(application.call)}})
    if to == Status.DECISION_PROPOSED:
        perform(actor=cast.officer, application=application, node="assess", action="propose_decision",
                data={"outcome": Proposal.Outcome.GRANTED, "amount": amount, "reasons": "Lägesbilden visar behovet och åtgärdsplanen är genomförbar inom bidragsåret, men budgetens personalkostnad är högre än rimligt."})
    return application


@pytest.fixture
def three(make_application, cast, call):
    """Three municipalities: 300 000 scored 5s, 200 000 scored 4s, 250 000 scored 3s."""
    a, b, c = municipalities(3)
    first = scored(make_application, cast, a, value=5, amount=Decimal("300000"), title="Först")
    second = scored(make_application, cast, b, value=4, amount=Decimal("200000"), title="Tvåa")
    third = scored(make_application, cast, c, value=3, amount=Decimal("250000"), title="Trea")
    call.budget = Decimal("600000")
    call.save(update_fields=["budget"])
    return first, second, third


def page_of(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_ranking_orders_by_mean_score_with_running_total_and_budget_line(three, cast, call, make_application):
    first, second, third = three
    make_application(to=Status.IN_REVIEW, organisation=municipalities(4)[3])  # not yet in assessment: not ranked
    ranking = call_ranking(actor=cast.decision_maker, call_id=call.pk)
    assert [r.application.pk for r in ranking.rows] == [first.pk, second.pk, third.pk]
    assert [r.mean_score for r in ranking.rows] == [15, 12, 9] and ranking.total_max == 15
    summary = allocate(ranking.rows, budget=call.budget)
    assert [(r.cumulative, r.funded) for r in ranking.rows] == [
        (Decimal("300000"), "full"), (Decimal("500000"), "full"), (Decimal("750000"), "partial")]
    assert summary["line_at"] == 3 and summary["left"] == Decimal("100000") and summary["over"] == Decimal("150000")


def test_the_ranking_page_shows_amounts_running_total_and_where_the_budget_runs_out(three, cast, call):
    client = Client()
    client.force_login(cast.officer)
    page = page_of(client, reverse("workflows:ranking", args=[call.pk]))
    first, second, third = three
    order = [page.index(a.case.diarienummer) for a in three]
    assert order == sorted(order)
    assert "300\u00a0000\u00a0kr" in page and "500\u00a0000\u00a0kr" in page and "750\u00a0000\u00a0kr" in page
    assert "Budgetgränsen: här räcker budgeten inte längre, 100\u00a0000\u00a0kr kvar" in page
    assert "Ryms delvis (100\u00a0000\u00a0kr)" in page
    assert 'name="ansokan"' not in page  # a case officer decides nothing


def test_simulator_cut_and_partial_amount_move_rows_and_write_nothing(three, cast, call):
    first, second, third = three
    client = Client()
    client.force_login(cast.decision_maker)
    url = reverse("workflows:ranking", args=[call.pk])
    before = (JournalEvent.objects.count(), list(Application.objects.order_by("pk").values_list("status", flat=True)))
    cut = page_of(client, url, stryk=str(first.pk))
    assert "Ryms nu i budgeten:" in cut and third.case.diarienummer in cut.split("Ryms nu i budgeten:")[1][:200]
    assert "struken" in cut and "räcker till alla; 150\u00a0000\u00a0kr blir över" in cut
    # a partial amount for the second: 300 000 + 150 000 + 250 000 = 700 000 > 600 000
    partial = page_of(client, url, rad=str(second.pk), nytt_belopp="150 000")
    assert "ändrat" in partial and "Ryms delvis (150\u00a0000\u00a0kr)" in partial
    # the change travels in the links, as the changes only
    assert f"belopp={second.pk}%3A150000.00" in partial
    # more than requested is refused, with the reason
    too_much = page_of(client, url, rad=str(second.pk), nytt_belopp="900000")
    assert "kan inte vara högre än det sökta" in too_much
    # a smaller budget moves the line up
    small = page_of(client, url, ram="250 000")
    assert "vid plats 1" in small
    after = (JournalEvent.objects.count(), list(Application.objects.order_by("pk").values_list("status", flat=True)))
    assert after == before


def _queries(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_ranking_queries_do_not_grow_with_the_rows(three, cast, call, make_application, django_assert_max_num_queries):
    client = Client()
    client.force_login(cast.decision_maker)
    url = reverse("workflows:ranking", args=[call.pk])
    few = _queries(client, url)
    for i, organisation in enumerate(municipalities(8)[3:]):
        application = scored(make_application, cast, organisation, value=1 + i % 5, amount=Decimal("100000"),
                             to=Status.DECISION_PROPOSED if i % 2 else Status.IN_ASSESSMENT)
        if i == 0:  # a decided one among them too
            perform(actor=cast.officer, application=application, node="assess", action="propose_decision",
                    data={"outcome": Proposal.Outcome.REJECTED, "reasons": "Projektet avser den befintliga kommunala verksamheten som ansökans metodavsnitt beskriver, vilket förordningen inte ger stöd för.", "communication_waived": "Sökanden har redan yttrat sig över hela underlaget."})
            door.act(actor=cast.decision_maker, application_id=application.pk, node="decide", action="decide")
    assert Assessment.objects.count() == 8
    with django_assert_max_num_queries(few):
        page = client.get(url)
    assert page.content.decode().count('<tr id="plats-') == 8
    assert few <= 12


def test_who_reads_the_ranking(three, cast, call):
    url = reverse("workflows:ranking", args=[call.pk])
    for person, status in [(cast.officer, 200), (cast.decision_maker, 200), (cast.auditor, 200),
                           (cast.registrar, 404), (cast.finance, 404), (cast.signatory, 404)]:
        client = Client()
        client.force_login(person)
        assert client.get(url).status_code == status, person
    auditor = Client()
    auditor.force_login(cast.auditor)
    assert 'form="batch-decide"' not in auditor.get(url).content.decode()


def test_fl16_a_jav_declarer_sees_no_scores_or_amounts_of_that_case(three, cast, call):
    first, _second, _third = three
    door.declare_conflict(actor=cast.officer2, application_id=first.pk, reason="Min bror leder projektet")
    client = Client()
    client.force_login(cast.officer2)
    page = page_of(client, reverse("workflows:ranking", args=[call.pk]))
    row = re.search(r'<tr id="plats-1">(.*?)</tr>', page, re.S).group(1)
    assert "Du har anmält jäv i ärendet" in row and "300\u00a0000" not in row and 'name="stryk"' not in row


def test_links_from_the_queue_and_the_case_page(three, cast, call):
    client = Client()
    client.force_login(cast.officer)
    ranking_url = reverse("workflows:ranking", args=[call.pk])
    case_page = client.get(reverse("workflows:case_detail", args=[three[0].pk])).content.decode()
    assert ranking_url in case_page
    index = client.get(reverse("workflows:ranking_index")).content.decode()
    assert ranking_url in index
    to_queue(three[0])
    queue = client.get(reverse("workflows:queue")).content.decode()
    assert reverse("workflows:ranking_index") in queue
