"""Issue 7, queues and assignment: a role's queue by kind (all, unassigned, mine, overdue,
waiting for the applicant), each counted on its tab; filtered by call, scheme, track,
state, county, municipality, requested amount and deadline; searched by diarienummer or
organisation; sorted by received date, deadline and amount, paged by keyset in each sort."""

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task

from bidrag.models import Organisation
from bidrag.models.application import Status
from workflows import door
from workflows.queue_entries import queue_sync
from workflows.selectors import QUEUE_TARGET_DAYS, active_tasks

pytestmark = pytest.mark.django_db

QUEUE = reverse("workflows:queue")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(client, **params) -> list[str]:
    response = client.get(QUEUE, params)
    assert response.status_code == 200
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', response.content.decode())


def page_of(client, url_or_params) -> str:
    response = client.get(QUEUE + url_or_params) if isinstance(url_or_params, str) else client.get(QUEUE, url_or_params)
    assert response.status_code == 200
    return response.content.decode()


def municipality(i: int) -> Organisation:
    """A municipality of its own per application: the call takes one application per organisation."""
    return Organisation.objects.exclude(kommunkod="").order_by("kommunkod")[i]


def number(application) -> str:
    application.case.refresh_from_db()
    return application.case.diarienummer


def test_queues_per_role_unassigned_mine_overdue_and_waiting_for_the_applicant(make_application, cast):
    mine, old, other = (make_application(to=Status.IN_REVIEW, organisation=municipality(i), title=f"Projekt {i}")
                        for i in range(3))
    # cast.officer asked for the supplement
    asked = make_application(to=Status.AWAITING_SUPPLEMENT, organisation=municipality(3), title="Projekt väntar")
    door.claim(actor=cast.officer, application_id=mine.pk, node="review")
    # Time passes: the task has waited longer than the queue's target (the rows follow the task).
    Task.objects.filter(pk=next(t for t in active_tasks(old) if t.flow_task.name == "review").pk).update(
        created=timezone.now() - timedelta(days=QUEUE_TARGET_DAYS + 1))
    queue_sync(old.pk)
    officer = client_for(cast.officer)
    everything = {number(a) for a in (mine, old, other)}
    assert set(listed(officer, ko="handlaggare")) == everything
    assert set(listed(officer, ko="handlaggare", vy="ej-tilldelade")) == everything - {number(mine)}
    assert listed(officer, ko="handlaggare", vy="mina") == [number(mine)]
    assert listed(officer, ko="handlaggare", vy="forsenade") == [number(old)]
    assert listed(officer, ko="handlaggare", vy="vantar-pa-sokanden") == [number(asked)]
    # the tabs carry each queue's count
    page = html.unescape(page_of(officer, {"ko": "handlaggare"}))
    for label, count in (("Alla öppna", 3), ("Ej tilldelade", 2), ("Mina", 1), ("Försenade", 1),
                         ("Väntar på sökanden", 1)):
        assert re.search(rf">{label} <span class=\"tabs__count\">\({count}\)</span>", page), label
    # the answer is awaited by the one who asked, not by every officer
    assert listed(client_for(cast.officer2), ko="handlaggare", vy="vantar-pa-sokanden") == []
    assert listed(client_for(cast.officer2), ko="handlaggare", vy="mina") == []
    # the registrar has no waiting queue of their own: the tab is not offered and the kind falls back
    registrar_page = page_of(client_for(cast.registrar), {"ko": "registrator", "vy": "vantar-pa-sokanden"})
    assert "Väntar på sökanden" not in html.unescape(registrar_page)


def test_the_queue_filters_by_call_scheme_track_state_county_municipality_amount_and_deadline(
    make_application, cast, reference, stockholm, malmo
):
    small = make_application(to=Status.SUBMITTED, organisation=stockholm, amount=Decimal("120000"), title="Liten")
    large = make_application(to=Status.SUBMITTED, organisation=malmo, amount=Decimal("390000"), title="Stor")
    registrar = client_for(cast.registrar)
    both = {number(small), number(large)}
    base = {"ko": "registrator"}
    assert set(listed(registrar, **base)) == both
    call = small.call
    assert set(listed(registrar, **base, utlysning=str(call.pk))) == both
    other_call = reference["calls"]["utvardering"]
    assert listed(registrar, **base, utlysning=str(other_call.pk)) == []
    assert set(listed(registrar, **base, stodform=str(call.scheme_id))) == both
    assert listed(registrar, **base, stodform=str(other_call.scheme_id)) == []
    assert set(listed(registrar, **base, inriktning=str(small.track_id))) == both
    other_track = call.tracks.exclude(pk=small.track_id).first()
    assert listed(registrar, **base, inriktning=str(other_track.pk)) == []
    assert set(listed(registrar, **base, status=Status.SUBMITTED)) == both
    assert listed(registrar, **base, status=Status.IN_REVIEW) == []
    # län from the kommunkod's first two digits: Stockholm 0180 is in 01, Malmö 1280 in 12
    assert (stockholm.kommunkod[:2], malmo.kommunkod[:2]) == ("01", "12")
    assert listed(registrar, **base, lan="01") == [number(small)]
    assert listed(registrar, **base, lan="12") == [number(large)]
    assert listed(registrar, **base, kommun=malmo.kommunkod) == [number(large)]
    assert listed(registrar, **base, kommun=Organisation.objects.exclude(kommunkod="").exclude(
        pk__in=[stockholm.pk, malmo.pk]).first().kommunkod) == []
    # the requested amount as the applicant signed it
    assert listed(registrar, **base, belopp_fran="200000") == [number(large)]
    assert listed(registrar, **base, belopp_till="200000") == [number(small)]
    assert set(listed(registrar, **base, belopp_fran="120000", belopp_till="390000")) == both
    # a range the wrong way round is an error shown at the field, and filters nothing
    page = html.unescape(page_of(registrar, {**base, "belopp_fran": "5", "belopp_till": "1"}))
    assert "Beloppet till får inte vara lägre än beloppet från." in page
    # the applicant's deadline: the waiting queue of the officer who asked
    soon = make_application(to=Status.AWAITING_SUPPLEMENT, organisation=municipality(5), title="Frist")
    officer = client_for(cast.officer)
    deadline = type(soon).objects.get(pk=soon.pk).deadline
    waiting = {"ko": "handlaggare", "vy": "vantar-pa-sokanden"}
    assert listed(officer, **waiting, frist_fran=deadline.isoformat(), frist_till=deadline.isoformat()) == [number(soon)]
    assert listed(officer, **waiting, frist_fran=(deadline + timedelta(days=1)).isoformat()) == []


def test_the_queue_searches_by_diarienummer_or_organisation(make_application, cast, stockholm, malmo):
    first = make_application(to=Status.SUBMITTED, organisation=stockholm)
    second = make_application(to=Status.SUBMITTED, organisation=malmo)
    registrar = client_for(cast.registrar)
    assert listed(registrar, ko="registrator", q=number(second)) == [number(second)]
    assert listed(registrar, ko="registrator", q=stockholm.name.upper()) == [number(first)]
    assert listed(registrar, ko="registrator", q="zzzz") == []
    assert "Inga uppgifter i kön matchar urvalet." in html.unescape(page_of(registrar, {"ko": "registrator", "q": "zzzz"}))


def test_the_queue_sorts_by_received_deadline_and_amount_and_pages_by_keyset_in_each(make_application, cast):
    municipalities = Organisation.objects.exclude(kommunkod="").order_by("kommunkod")[:4]
    amounts = [Decimal("150000"), Decimal("390000"), Decimal("100000"), Decimal("250000")]
    made = [make_application(to=Status.SUBMITTED, organisation=o, amount=a, title=f"Projekt {i}")
            for i, (o, a) in enumerate(zip(municipalities, amounts, strict=True))]
    registrar = client_for(cast.registrar)
    by_amount = [number(a) for a in sorted(made, key=lambda a: -a.requested_amount())]
    assert listed(registrar, ko="registrator", sortering="belopp") == by_amount
    assert listed(registrar, ko="registrator", sortering="inkom") == [number(a) for a in made]
    assert listed(registrar, ko="registrator", sortering="svarsfrist") == [number(a) for a in made]  # none: by task
    # keyset in the amount's order: a page of 25 holds all, so page through by hand with a cursor
    page = page_of(registrar, {"ko": "registrator", "sortering": "belopp", "antal": 25})
    assert 'rel="next"' not in page
    from arenden.keyset import keyset_page
    from workflows import selectors

    query = selectors.queue_query(actor=cast.registrar, role=selectors.Role.REGISTRAR, sort=selectors.QueueSort.AMOUNT)
    first = keyset_page(selectors.queue_page_entries(query), ordering=query.ordering, params={}, size=2)
    second = keyset_page(selectors.queue_page_entries(query), ordering=query.ordering,
                         params={"efter": first.next_cursor}, size=2)
    last = keyset_page(selectors.queue_page_entries(query), ordering=query.ordering, params={"sista": "1"}, size=2)
    amounts_read = [t.requested for t in [*first.rows, *second.rows]]
    assert amounts_read == sorted(amounts, reverse=True) and not second.has_next
    assert [t.pk for t in last.rows] == [t.pk for t in second.rows]


def test_an_unknown_county_or_municipality_is_an_error_that_filters_nothing(make_application, cast):
    made = [make_application(to=Status.SUBMITTED, organisation=municipality(i)) for i in range(2)]
    registrar = client_for(cast.registrar)
    for params in ({"lan": "99"}, {"kommun": "9999"}):
        page = page_of(registrar, {"ko": "registrator", **params})
        assert "Välj ett giltigt alternativ." in page
        assert set(listed(registrar, ko="registrator", **params)) == {number(a) for a in made}
    # a known one is offered as an option and filters
    page = page_of(registrar, {"ko": "registrator", "kommun": made[0].organisation.kommunkod})
    assert f'<option value="{made[0].organisation.kommunkod}" selected>' in page
    assert listed(registrar, ko="registrator", kommun=made[0].organisation.kommunkod) == [number(made[0])]


def test_the_filter_fields_keep_what_was_typed_escaped_and_tie_each_error_to_its_field(cast):
    """The filter's fields are built in Python (QueueFilterForm.fields_html): what the user
    typed comes back escaped, a field with an error says so to assistive technology
    (aria-invalid, aria-describedby naming the error list), and a select keeps its choice."""
    registrar = client_for(cast.registrar)
    page = page_of(registrar, {"ko": "registrator", "q": '<script>"x"</script>', "belopp_fran": "5",
                               "belopp_till": "1", "lan": "01"})
    assert "<script>" not in page
    assert 'value="&lt;script&gt;&quot;x&quot;&lt;/script&gt;"' in page
    field = re.search(r'<input type="number" name="belopp_till" id="id_belopp_till" value="1"([^>]*)>', page)
    assert field and 'aria-invalid="true"' in field.group(1) and 'aria-describedby="id_belopp_till_error"' in field.group(1)
    errors = re.search(r'<ul class="field__errors" id="id_belopp_till_error">(.*?)</ul>', page)
    assert errors and "Beloppet till får inte vara lägre än beloppet från." in html.unescape(errors.group(1))
    assert '<label for="id_lan">' in page and '<option value="01" selected>' in page
    untouched = re.search(r'<input type="number" name="belopp_fran"[^>]*>', page).group(0)
    assert "aria-invalid" not in untouched and 'min="0" step="1" inputmode="numeric"' in untouched
