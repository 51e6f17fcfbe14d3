"""Issue 9, open data: the granted projects for anyone, as a page and as CSV and JSON.

Only grants whose decision has been sent (its letter stored) and still stands appear;
rejections, dismissals, undecided cases and unsent grants never do; a rejection granted
on reconsideration (FL 37 §) appears with its new amount. No personal data: no person's
name, no personnummer (a sole trader's number and name are left out). Both files parse,
with the documented headers and keys, and are reachable without logging in from the start
page."""

import csv
import io
import json
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bidrag.models import Application, Organisation
from bidrag.models.application import Status
from bidrag.open_data import FIELDS
from bidrag.services.letters import letter_issue
from tests.domain import MALMO, STOCKHOLM, perform
from workflows import demo

pytestmark = pytest.mark.django_db

PAGE, CSV, JSON = (reverse(f"public:{name}") for name in ("open_data", "open_data_csv", "open_data_json"))
GOTEBORG, UPPSALA, LINKOPING, LUND = "2120001355", "2120003005", "2120000449", "2120001132"
SOLE_TRADER = "8505121239"  # a personnummer (born 1985-05-12) that passes as an organisationsnummer
RECONSIDERED = ("Vid omprövningen visar kommunens protokoll att verksamheten startade i år och inte ryms i "
                "socialförvaltningens ordinarie budget. Hela det sökta beloppet beviljas.")


def applied(cast, call, organisation, *, to, title, amount=Decimal("300000")) -> Application:
    application = demo.new_application(cast=cast, organisation=organisation, call=call, title=title, complete=False)
    demo.complete_draft(application=application, actor=cast.applicant, amount=amount)
    return demo.drive(application=application, to=to, cast=cast)


def sent(application: Application) -> Application:
    for decision in application.decisions.all():
        letter_issue(decision_id=decision.pk)
    return application


@dataclass
class Cases:
    granted: Application  # Stockholm, 250 000 kr, sent
    unsent: Application  # Malmö, granted, letter not yet stored
    reconsidered: Application  # Lund, rejected, granted 300 000 kr on reconsideration, sent
    sole_trader: Application  # utvärdering, granted, sent
    hidden: list[Application]  # rejected, dismissed (both sent), decision proposed


@pytest.fixture
def cases(cast, reference) -> Cases:
    a, b = reference["calls"]["kommunala-atgarder"], reference["calls"]["utvardering"]
    org = Organisation.objects.get
    granted = sent(applied(cast, a, org(orgnr=STOCKHOLM), to=Status.IN_PROGRESS, title="Trygg i Stockholm"))
    unsent = applied(cast, a, org(orgnr=MALMO), to=Status.GRANTED, title="Trygg i Malmö")
    rejected = sent(applied(cast, a, org(orgnr=GOTEBORG), to=Status.REJECTED, title="Avslaget projekt"))
    dismissed = sent(applied(cast, a, org(orgnr=UPPSALA), to=Status.DISMISSED, title="Avvisat projekt"))
    proposed = applied(cast, a, org(orgnr=LINKOPING), to=Status.DECISION_PROPOSED, title="Föreslaget projekt")
    reconsidered = applied(cast, a, org(orgnr=LUND), to=Status.REJECTED, title="Omprövat projekt")
    perform(actor=cast.officer, application=reconsidered, node=None, action="propose_reconsideration",
            data={"outcome": "granted", "amount": Decimal("300000"), "reasons": RECONSIDERED, "conditions": "",
                  "why": "Kommunen har kommit in med protokollet som visar att verksamheten är ny."})
    perform(actor=cast.decision_maker, application=reconsidered, node="decide_reconsideration", action="reconsider")
    sent(reconsidered)
    trader = Organisation.objects.create(name="Karl Karlsson Konsult", orgnr=SOLE_TRADER, kommunkod="0380",
                                         email="karl@example.se")
    sole_trader = sent(applied(cast, b, trader, to=Status.GRANTED, title="Utvärdering av nattvandring"))
    return Cases(granted=granted, unsent=unsent, reconsidered=reconsidered, sole_trader=sole_trader,
                 hidden=[rejected, dismissed, proposed])


def csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark
    reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";")
    assert reader.fieldnames == [f.header for f in FIELDS]
    return list(reader)


def json_document(response) -> dict:
    return json.loads(b"".join(response.streaming_content).decode("utf-8"))


def test_only_sent_standing_grants_are_published(cases):
    rows = {row["diarienummer"]: row for row in csv_rows(Client().get(CSV))}
    granted, reconsidered, trader = cases.granted, cases.reconsidered, cases.sole_trader
    assert set(rows) == {granted.case.diarienummer, reconsidered.case.diarienummer, trader.case.diarienummer}
    for hidden in [cases.unsent, *cases.hidden]:
        assert hidden.case.diarienummer not in rows and hidden.title not in str(rows)
    year = str(timezone.localdate().year)
    assert rows[granted.case.diarienummer] == {
        "diarienummer": granted.case.diarienummer, "organisation": "Stockholms kommun",
        "organisationsnummer": "212000-0142",
        "kommunkod": "0180", "kommun": "Stockholms kommun", "länskod": "01", "län": "Stockholms län",
        "projekt": "Trygg i Stockholm", "belopp_kr": "250000,00", "år": year,
        "stödform": granted.call.scheme.name, "stödform_kod": "kommunala-atgarder", "utlysning": granted.call.title,
    }
    assert rows[reconsidered.case.diarienummer]["belopp_kr"] == "300000,00"  # the reconsidered amount
    # Once the letter is stored, the grant is sent, and published.
    sent(cases.unsent)
    assert cases.unsent.case.diarienummer in {row["diarienummer"] for row in csv_rows(Client().get(CSV))}


def test_no_personal_data_in_either_file(cases, cast):
    body = b"".join(Client().get(CSV).streaming_content).decode("utf-8-sig")
    body += b"".join(Client().get(JSON).streaming_content).decode("utf-8")
    people = [cast.signatory, cast.applicant, cast.officer, cast.officer2, cast.decision_maker, cast.registrar]
    for person in people:
        assert person.last_name not in body and person.username not in body and person.email not in body
    assert "Eva Exempel" not in body  # the evaluator the applications name
    # The sole trader: neither the personnummer (in any writing) nor the name is published.
    for text in (SOLE_TRADER, "850512-1239", "Karl Karlsson"):
        assert text not in body
    [trader] = [p for p in json.loads(body[body.index("{"):])["projects"]
                if p["case_number"] == cases.sole_trader.case.diarienummer]
    assert (trader["organisation"], trader["organisation_number"], trader["municipality"]) == ("", "", "Uppsala kommun")


def test_json_has_stable_english_keys_and_decimal_strings(cases):
    response = Client().get(JSON)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    document = json_document(response)
    assert [f["key"] for f in document["fields"]] == [
        "case_number", "organisation", "organisation_number", "municipality_code", "municipality", "county_code",
        "county", "project_title", "amount_sek", "year", "scheme", "scheme_code", "call"]
    projects = {p["case_number"]: p for p in document["projects"]}
    granted = projects[cases.granted.case.diarienummer]
    assert granted["amount_sek"] == "250000.00" and granted["year"] == timezone.localdate().year
    assert (granted["county_code"], granted["county"]) == ("01", "Stockholms län")
    assert set(granted) == {f["key"] for f in document["fields"]}


def test_the_files_filter_by_year_and_scheme(cases):
    year = timezone.localdate().year
    assert len(csv_rows(Client().get(CSV, {"ar": year}))) == 3
    assert csv_rows(Client().get(CSV, {"ar": year - 1})) == []
    only_b = json_document(Client().get(JSON, {"stodform": "utvardering"}))["projects"]
    assert [p["case_number"] for p in only_b] == [cases.sole_trader.case.diarienummer]
    assert json_document(Client().get(JSON, {"stodform": "utvardering"}))["filters"] == {"stodform": "utvardering"}
    assert Client().get(CSV, {"stodform": "finns-inte"}).status_code == 400
    assert Client().get(JSON, {"ar": "tjugo"}).status_code == 400


def test_the_page_is_public_and_linked_from_the_start_page(cases):
    visitor = Client()
    start = visitor.get(reverse("home")).content.decode()
    assert f'href="{PAGE}"' in start
    response = visitor.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Trygg i Stockholm" in page and "250\u00a0000\u00a0kr" in page and "Omprövat projekt" in page
    assert "Trygg i Malmö" not in page and "Avslaget projekt" not in page
    assert "Karl Karlsson" not in page and "Enskild näringsidkare" in page
    for field in FIELDS:  # the schema is documented on the page
        assert f"<code>{field.header}</code>" in page and f"<code>{field.key}</code>" in page
    assert f'href="{CSV}"' in page and f'href="{JSON}"' in page


def test_a_file_is_read_in_one_query(cases, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        rows = csv_rows(Client().get(CSV))
    assert len(rows) == 3


def test_the_call_page_and_open_data_publish_the_same_grants(cases, cast, reference):
    """One rule for what a grant makes public (bidrag.selectors.published_grants): the
    closed call's page lists exactly the projects the open-data file lists for that call,
    with the same amounts; a grant under change review or with a repayment claimed is still
    a grant, an unsent one is not yet, and a sole trader's name is on neither."""
    from tests.public.test_public_pages import close

    a, b = reference["calls"]["kommunala-atgarder"], reference["calls"]["utvardering"]
    in_change = sent(applied(cast, a, Organisation.objects.get(orgnr="2120002627"), to=Status.IN_PROGRESS,
                             title="Projekt med ändringsansökan"))
    Application.objects.filter(pk=in_change.pk).update(status=Status.CHANGE_REVIEW)
    claimed = sent(applied(cast, a, Organisation.objects.get(orgnr="2120001439"), to=Status.IN_PROGRESS,
                           title="Projekt med återkrav"))
    Application.objects.filter(pk=claimed.pk).update(status=Status.REPAYMENT_CLAIMED)
    for call in (a, b):
        close(call)
    files = {row["projekt"]: row for row in csv_rows(Client().get(CSV))}
    for call in (a, b):
        page = Client().get(reverse("public:call_detail", args=[call.pk])).content.decode()
        table = page.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in page else ""
        listed = set(re.findall(r'<th scope="row">([^<]+)</th>', table))
        published = {title for title, row in files.items() if row["utlysning"] == call.title}
        assert listed == published, (call.title, listed, published)
        for title in published:
            assert files[title]["belopp_kr"].replace(",00", "") .replace(",", "") in table.replace("\u00a0", "")
    assert {"Projekt med ändringsansökan", "Projekt med återkrav", "Trygg i Stockholm"} <= set(files)
    assert cases.unsent.title not in files
    page = Client().get(reverse("public:call_detail", args=[b.pk])).content.decode()
    assert cases.sole_trader.title in page and "Karl Karlsson" not in page
