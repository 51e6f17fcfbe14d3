"""Issue 7, disbursement: the payment file for the bank, ISO 20022 pain.001.001.03 for
Swedish domestic payments to bankgiro and plusgiro, validated against ISO's own XSD; its
totals are the attested sum; stopped and paid disbursements stay out; the payee's name is
always there; making it is journaled on each case and pays nothing."""

import html
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from arenden.errors import NotAllowed, TransitionNotAllowed
from arenden.models import JournalEvent
from bidrag.events import Event
from bidrag.models import Disbursement
from bidrag.models.application import Status
from bidrag.payments.files import payment_file_create
from bidrag.payments.pain001 import end_to_end_id

from .payments_cases import PAIN, pain_schema, text, transactions

pytestmark = pytest.mark.django_db


def test_pain001_total_equals_attested_sum(cases, cast):
    made = payment_file_create(actor=cast.finance)
    attested = [cases.disbursement(cases.bankgiro), cases.disbursement(cases.plusgiro)]
    expected = sum((d.amount for d in attested), start=Decimal(0))
    assert {d.status for d in attested} == {Disbursement.Status.ATTESTED}
    root = ET.fromstring(made.content)
    for where in (f"{PAIN}CstmrCdtTrfInitn/{PAIN}GrpHdr", f"{PAIN}CstmrCdtTrfInitn/{PAIN}PmtInf"):
        block = root.find(where)
        assert block is not None
        assert Decimal(text(block, "CtrlSum")) == expected
        assert text(block, "NbOfTxs") == "2"
    amounts = [Decimal(text(tx, "Amt/InstdAmt")) for tx in transactions(made.content)]
    assert sum(amounts) == expected == made.total and made.count == 2
    assert {tx.find(f"{PAIN}Amt/{PAIN}InstdAmt").get("Ccy") for tx in transactions(made.content)} == {"SEK"}


def test_pain001_validates_against_the_official_xsd(cases, cast):
    made = payment_file_create(actor=cast.finance)
    schema = pain_schema()
    schema.validate(made.content.decode())  # raises on the first error
    broken = made.content.replace(b"<PmtMtd>TRF</PmtMtd>", b"")
    assert not schema.is_valid(broken.decode())  # the schema does check


def test_stopped_and_paid_disbursements_are_left_out(cases, cast):
    made = payment_file_create(actor=cast.finance)
    references = {text(tx, "PmtId/EndToEndId") for tx in transactions(made.content)}
    assert references == {end_to_end_id(cases.disbursement(cases.bankgiro).pk),
                          end_to_end_id(cases.disbursement(cases.plusgiro).pk)}
    assert cases.disbursement(cases.stopped).status == Disbursement.Status.STOPPED
    assert cases.disbursement(cases.paid).status == Disbursement.Status.PAID
    for left_out in (cases.stopped, cases.paid):
        assert end_to_end_id(cases.disbursement(left_out).pk) not in references


def test_the_payee_name_and_account_are_in_every_payment(cases, cast, settings):
    made = payment_file_create(actor=cast.finance)
    by_reference = {text(tx, "PmtId/EndToEndId"): tx for tx in transactions(made.content)}
    giro = by_reference[end_to_end_id(cases.disbursement(cases.bankgiro).pk)]
    assert text(giro, "Cdtr/Nm") == cases.bankgiro.organisation.name
    assert text(giro, "CdtrAcct/Id/Othr/Id") == cases.bankgiro.organisation.payment_account
    assert text(giro, "CdtrAcct/Id/Othr/SchmeNm/Prtry") == "BGNR"
    assert cases.bankgiro.case.diarienummer in text(giro, "RmtInf/Ustrd")
    plus = by_reference[end_to_end_id(cases.disbursement(cases.plusgiro).pk)]
    assert text(plus, "Cdtr/Nm") == cases.plusgiro.organisation.name
    assert text(plus, "CdtrAcct/Id/Othr/Id") == "123455"
    assert text(plus, "CdtrAcct/Id/Othr/SchmeNm/Cd") == "BBAN"
    assert text(plus, "CdtrAgt/FinInstnId/ClrSysMmbId/MmbId") == "9960"
    block = ET.fromstring(made.content).find(f"{PAIN}CstmrCdtTrfInitn/{PAIN}PmtInf")
    assert text(block, "DbtrAcct/Id/Othr/Id") == "50501055"
    assert text(block, "Dbtr/Nm") == settings.BRA_NAME


def test_making_the_file_is_journaled_on_each_case_and_pays_nothing(cases, cast):
    made = payment_file_create(actor=cast.finance)
    for application in (cases.bankgiro, cases.plusgiro):
        event = JournalEvent.objects.get(case_id=application.case_id, action=Event.ADD_TO_PAYMENT_FILE)
        assert event.actor_id == cast.finance.pk and event.payload["message_id"] == made.message_id
        assert event.payload["file_sha256"] == made.sha256
        assert event.from_state == event.to_state == Status.GRANTED
        assert cases.disbursement(application).status == Disbursement.Status.ATTESTED
    assert not JournalEvent.objects.filter(case_id=cases.stopped.case_id, action=Event.ADD_TO_PAYMENT_FILE).exists()
    # "All" means all not yet in a file: a payment sent to the bank is not sent twice by default.
    with pytest.raises(TransitionNotAllowed):
        payment_file_create(actor=cast.finance)
    again = payment_file_create(actor=cast.finance, disbursement_ids=[cases.disbursement(cases.plusgiro).pk])
    assert again.count == 1 and again.message_id != made.message_id


def test_only_finance_makes_a_payment_file(cases, cast):
    for person in (cast.auditor, cast.officer, cast.admin, cast.signatory):
        with pytest.raises(NotAllowed):
            payment_file_create(actor=person)
    assert not JournalEvent.objects.filter(action=Event.ADD_TO_PAYMENT_FILE).exists()


def test_without_brås_own_bankgiro_no_file_is_made(cases, cast, settings):
    settings.BRA_BANKGIRO = ""
    with pytest.raises(TransitionNotAllowed) as excinfo:
        payment_file_create(actor=cast.finance)
    assert "BRA_BANKGIRO" in str(excinfo.value.message)


def page_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_finance_downloads_the_file_from_the_payments_page(cases, cast):
    client = Client()
    client.force_login(cast.finance)
    page = client.get(reverse("workflows:payments"))
    assert page.status_code == 200
    words = page_text(page)
    assert cases.bankgiro.organisation.name in words and "Plusgiro 12345-5" in words
    assert cases.stopped.organisation.name not in words
    chosen = cases.disbursement(cases.bankgiro)
    response = client.post(reverse("workflows:payment_file"),
                           {"disbursement": [str(chosen.pk)], "execution_date": "2099-01-02"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert 'attachment; filename="BRA' in response["Content-Disposition"]
    references = [text(tx, "PmtId/EndToEndId") for tx in transactions(response.content)]
    assert references == [end_to_end_id(chosen.pk)]
    assert b"<ReqdExctnDt>2099-01-02</ReqdExctnDt>" in response.content
    assert "Ja, BRA" in page_text(client.get(reverse("workflows:payments")))  # now shown as in a file


def test_the_payments_page_is_for_finance_only(cases, cast):
    client = Client()
    for person, status in ((cast.officer, 403), (cast.auditor, 403), (cast.signatory, 404), (cast.applicant, 404)):
        client.force_login(person)
        assert client.get(reverse("workflows:payments")).status_code == status, person
        assert client.post(reverse("workflows:payment_file"), {"execution_date": "2099-01-02"}).status_code == status
    assert not JournalEvent.objects.filter(action=Event.ADD_TO_PAYMENT_FILE).exists()


def test_a_chosen_id_that_is_no_disbursement_makes_no_file(cases, cast):
    client = Client()
    client.force_login(cast.finance)
    url = reverse("workflows:payment_file")
    assert client.post(url, {"disbursement": ["nonsense"], "execution_date": "2099-01-02"}).status_code == 404
    other = cases.disbursement(cases.paid).pk  # exists, but is no attested payment
    assert client.post(url, {"disbursement": [str(other)], "execution_date": "2099-01-02"}).status_code == 409
    assert not JournalEvent.objects.filter(action=Event.ADD_TO_PAYMENT_FILE).exists()
