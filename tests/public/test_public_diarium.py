"""Issue 7, the public diarium (OSL 5 kap.): anyone, without logging in, searches the
registered items by diarienummer, date and sender/recipient. Only what may be shown is
shown: a marked entry (sekretessmarkering) shows that the item exists with its date, number
and kind, never its sender/recipient or description; a draft's entries (no diarienummer)
never appear; no private person is named (the applicant's contact people are not shown,
the organisation is)."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from arenden.models import DiariumEntry
from arenden.services import diarium_entry_add
from bidrag.models.application import Status
from workflows.diarium import register_item

pytestmark = pytest.mark.django_db
URL = "/diariet/"


def public(params=None) -> tuple[int, str]:
    response = Client().get(URL, params or {})
    return response.status_code, response.content.decode()


def item(**overrides) -> dict:
    data = {"kind": DiariumEntry.Kind.LETTER, "direction": DiariumEntry.Direction.INCOMING,
            "entry_date": timezone.localdate(), "counterpart": "Polisregion Syd", "description": "Yttrande om lägesbilden",
            "counterpart_private": False, "secrecy": "", "note": ""}
    return data | overrides


@pytest.fixture
def submitted(make_application):
    return make_application(to=Status.IN_REVIEW)


def test_osl5_the_public_diarium_is_open_without_login_and_lists_registered_items(submitted):
    assert reverse("diarium:public") == URL
    status, page = public()
    assert status == 200
    number = submitted.case.diarienummer
    assert number in page and "Ansökan om ekonomiskt stöd" in page and submitted.organisation.name in page
    assert 'role="search"' in page and '<label for="id_dnr"' in page and "<caption" in page
    assert "<td>Ansökan</td>" in page  # the kind of item: the application as it came in


def test_osl5_a_marked_entrys_counterpart_and_description_never_reach_the_html(submitted, cast):
    register_item(actor=cast.registrar, application_id=submitted.pk, data=item(
        kind=DiariumEntry.Kind.EMAIL, counterpart="Skyddad Avsändare AB", description="Hotbild mot projektledaren",
        secrecy="OSL 21 kap. 3 §"))
    number = submitted.case.diarienummer
    for params in ({}, {"dnr": number}, {"fran": timezone.localdate().isoformat()}, {"motpart": "Skyddad"}):
        status, page = public(params)
        assert status == 200
        assert "Skyddad Avsändare" not in page and "Hotbild" not in page and "projektledaren" not in page
    status, page = public({"dnr": number})
    row = re.search(r"<tr>(?:(?!</tr>).)*E-post(?:(?!</tr>).)*</tr>", page, re.S).group(0)
    assert number in row and timezone.localdate().isoformat() in row and "Uppgift omfattas av sekretess" in row
    # Searching by the hidden name finds nothing: the search is no way round the mark.
    assert "Inga handlingar matchar sökningen." in public({"motpart": "Skyddad"})[1]


def test_osl5_a_drafts_data_never_reaches_the_public_diarium(draft, cast):
    diarium_entry_add(actor=cast.applicant, case=draft.case, direction=DiariumEntry.Direction.INCOMING,
                      counterpart="Utkastorganisationen", description="Utkastets hemliga beskrivning")
    assert draft.case.diarienummer is None
    for params in ({}, {"motpart": "Utkast"}, {"fran": timezone.localdate().isoformat()}):
        page = public(params)[1]
        assert "Utkastorganisationen" not in page and "Utkastets hemliga" not in page and draft.title not in page


def test_osl5_no_private_person_is_named(submitted, cast):
    register_item(actor=cast.registrar, application_id=submitted.pk, data=item(
        kind=DiariumEntry.Kind.EMAIL, counterpart="Greta Privatsson", counterpart_private=True,
        description="Synpunkter på projektet"))
    page = public()[1]
    assert "Greta Privatsson" not in page and "Privatperson" in page and "Synpunkter på projektet" in page
    assert "Synpunkter på projektet" not in public({"motpart": "Greta"})[1]  # not found by the hidden name
    # The applicant's contact people (members of the organisation) are named nowhere.
    for person in (cast.signatory, cast.applicant):
        assert person.get_full_name() not in page and person.last_name not in page


def test_osl5_a_public_description_replaces_one_that_names_a_person(submitted, cast):
    diarium_entry_add(actor=cast.registrar, case=submitted.case, direction=DiariumEntry.Direction.INCOMING,
                      counterpart=submitted.organisation.name,
                      description="Bevis om behörighet att teckna Stockholms stad från Kerstin Kommunjurist",
                      public_description="Bevis om behörighet att teckna Stockholms stad")
    page = public()[1]
    assert "Kerstin" not in page and "Bevis om behörighet att teckna Stockholms stad" in page


def test_osl5_search_by_number_date_range_and_organisation(make_application, malmo, cast):
    stockholm_case = make_application(to=Status.IN_REVIEW)
    malmo_case = make_application(to=Status.IN_REVIEW, organisation=malmo, title="Trygg i Malmö")
    register_item(actor=cast.registrar, application_id=stockholm_case.pk,
                  data=item(entry_date=timezone.localdate() - timedelta(days=40), description="Gammalt brev"))
    page = public({"dnr": malmo_case.case.diarienummer})[1]
    assert malmo_case.case.diarienummer in page and stockholm_case.case.diarienummer not in page
    page = public({"motpart": "malmö"})[1]
    assert malmo_case.case.diarienummer in page and stockholm_case.case.diarienummer not in page
    old = (timezone.localdate() - timedelta(days=40)).isoformat()
    page = public({"fran": old, "till": old})[1]
    assert "Gammalt brev" in page and "Ansökan om ekonomiskt stöd" not in page
    status, page = public({"fran": timezone.localdate().isoformat(), "till": old})
    assert status == 400 and "Slutdatumet ligger före startdatumet." in page
    assert public({"fran": "igår"})[0] == 400


def test_osl5_the_public_diarium_pages_by_keyset_with_constant_queries(submitted, cast, django_assert_max_num_queries):
    for n in range(30):
        diarium_entry_add(actor=cast.registrar, case=submitted.case, direction=DiariumEntry.Direction.OUTGOING,
                          counterpart=submitted.organisation.name, description=f"Brev nummer {n:02d}")
    with django_assert_max_num_queries(4):
        status, first = public()
    assert status == 200 and "Brev nummer 29" in first and "Brev nummer 04" not in first
    after = re.search(r'href="\?efter=([^"&]+)"', first).group(1)
    second = public({"efter": after.replace("%3A", ":").replace("%2B", "+")})[1]
    assert "Brev nummer 04" in second and "Brev nummer 29" not in second
    heading = re.search(r'<h2 id="diarium-results-heading">(.*?)</h2>', first, re.S).group(1)
    assert heading.split() == ["31", "handlingar"], heading  # the application and the 30 letters


def test_osl5_the_public_diarium_reads_its_order_from_an_index(submitted):
    from django.db import connection

    from arenden.selectors import PUBLIC_DIARIUM_ORDER, public_diarium_entries

    with connection.cursor() as cursor:
        # A handful of rows: make the planner show what it would do at 100 000 (walk the index, stop at 26).
        for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin", "enable_sort"):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'arenden_diariumentry'")
        indexes = {row[0] for row in cursor.fetchall()}
    assert {"diarium_entry_date_order", "diarium_entry_counterpart_trgm"} <= indexes
    plan = public_diarium_entries().order_by(*PUBLIC_DIARIUM_ORDER)[:26].explain()
    assert "diarium_entry_date_order" in plan and "Sort" not in plan, plan
