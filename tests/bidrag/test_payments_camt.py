"""Issue 7, disbursement: the bank's camt.054 statement read back. Each booked debit that
matches a disbursement by EndToEndId and amount is registered as paid through the door, so
four eyes holds (an attester cannot register what they attested); whatever does not match
is listed with its reason, and nothing is half done."""

import html
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from arenden.errors import ValidationFailed
from arenden.models import JournalEvent
from bidrag.events import Event
from bidrag.models import Application, Disbursement
from bidrag.models.application import Status
from bidrag.payments.camt import camt_read
from bidrag.payments.files import payment_file_create
from bidrag.payments.pain001 import end_to_end_id
from workflows.payments import statement_reconcile

from .payments_cases import camt054_from

pytestmark = pytest.mark.django_db


def status_of(application) -> str:
    return Application.objects.get(pk=application.pk).status


def test_the_statement_marks_the_matched_payments_paid_through_the_door(cases, cast):
    pain = payment_file_create(actor=cast.finance).content
    result = statement_reconcile(actor=cast.finance2, content=camt054_from(pain, message_id="CAMT-42"))
    assert {m.disbursement.pk for m in result.paid} == {cases.disbursement(cases.bankgiro).pk,
                                                        cases.disbursement(cases.plusgiro).pk}
    assert not result.problems
    for application in (cases.bankgiro, cases.plusgiro):
        disbursement = cases.disbursement(application)
        assert disbursement.status == Disbursement.Status.PAID and disbursement.paid_by_id == cast.finance2.pk
        assert disbursement.payment_reference.startswith("camt.054.001.02 CAMT-42 BANK-")
        assert status_of(application) == Status.IN_PROGRESS  # the flow moved on, as with the button
        event = JournalEvent.objects.get(case_id=application.case_id, action=Event.PAY_DISBURSEMENT)
        assert event.actor_id == cast.finance2.pk
    assert cases.disbursement(cases.stopped).status == Disbursement.Status.STOPPED


def test_an_attester_uploading_it_is_refused_for_what_they_attested(cases, cast):
    pain = payment_file_create(actor=cast.finance).content
    result = statement_reconcile(actor=cast.finance, content=camt054_from(pain))  # cast.finance attested both
    assert result.paid == []
    assert len(result.problems) == 2
    assert all("fyraögonsprincipen" in m.problem for m in result.problems)
    for application in (cases.bankgiro, cases.plusgiro):
        assert cases.disbursement(application).status == Disbursement.Status.ATTESTED
        assert status_of(application) == Status.GRANTED
        assert not JournalEvent.objects.filter(case_id=application.case_id, action=Event.PAY_DISBURSEMENT).exists()


def test_unmatched_and_mismatched_entries_are_listed_with_their_reasons(cases, cast):
    pain = payment_file_create(actor=cast.finance).content
    plus = end_to_end_id(cases.disbursement(cases.plusgiro).pk)
    stopped = end_to_end_id(cases.disbursement(cases.stopped).pk)
    extra = f"""
      <Ntry><Amt Ccy="SEK">99.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
        <NtryDtls><TxDtls><Refs><EndToEndId>NOTOURS-1</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>
      <Ntry><Amt Ccy="SEK">{cases.disbursement(cases.stopped).amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
        <NtryDtls><TxDtls><Refs><EndToEndId>{stopped}</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>
      <Ntry><Amt Ccy="SEK">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts></Ntry>"""
    statement = camt054_from(pain, amounts={plus: Decimal("1.00")}, extra=extra)
    result = statement_reconcile(actor=cast.finance2, content=statement)
    assert [m.disbursement.pk for m in result.paid] == [cases.disbursement(cases.bankgiro).pk]
    reasons = {m.entry.end_to_end_id: m.problem for m in result.problems}
    assert "stämmer inte med utbetalningens" in reasons[plus]
    assert "hör inte till någon utbetalning" in reasons["NOTOURS-1"]
    assert "stoppad" in reasons[stopped]
    assert "Inte en bokförd utbetalning" in reasons[""]
    assert cases.disbursement(cases.plusgiro).status == Disbursement.Status.ATTESTED
    # Read again: what was paid is said to be paid already, and nothing is paid twice.
    again = statement_reconcile(actor=cast.finance2, content=statement)
    assert again.paid == [] and [m.disbursement.pk for m in again.already_paid] == [cases.disbursement(cases.bankgiro).pk]
    assert JournalEvent.objects.filter(case_id=cases.bankgiro.case_id, action=Event.PAY_DISBURSEMENT).count() == 1


def test_a_file_that_is_no_statement_is_refused(cases, cast):
    for content in (b"not xml", b'<?xml version="1.0"?><Document xmlns="urn:x"><A/></Document>',
                    b'<!DOCTYPE x [<!ENTITY a "b">]><Document/>'):
        with pytest.raises(ValidationFailed):
            camt_read(content=content)


def test_finance_uploads_the_statement_on_the_payments_page(cases, cast):
    pain = payment_file_create(actor=cast.finance).content
    client = Client()
    client.force_login(cast.finance2)
    upload = SimpleUploadedFile("camt054.xml", camt054_from(pain, message_id="CAMT-WEB"), content_type="text/xml")
    response = client.post(reverse("workflows:statement_upload"), {"statement": upload})
    assert response.status_code == 200
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())
    assert "Kontoutdrag CAMT-WEB" in words and "2 utbetalningar registrerade som utbetalda" in words
    assert cases.bankgiro.case.diarienummer in words
    assert cases.disbursement(cases.bankgiro).status == Disbursement.Status.PAID
    client.force_login(cast.officer)
    upload = SimpleUploadedFile("camt054.xml", camt054_from(pain), content_type="text/xml")
    assert client.post(reverse("workflows:statement_upload"), {"statement": upload}).status_code == 403


def test_a_camt053_statement_of_a_later_version_is_read_too():
    statement = camt_read(content=b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
  <GrpHdr><MsgId>STMT-7</MsgId><CreDtTm>2026-12-03T06:00:00</CreDtTm></GrpHdr>
  <Stmt><Id>S-1</Id>
    <Ntry><Amt Ccy="SEK">1500.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
      <BookgDt><Dt>2026-12-03</Dt></BookgDt><AcctSvcrRef>E-9</AcctSvcrRef>
      <NtryDtls><TxDtls><Refs><EndToEndId>abc</EndToEndId></Refs><Amt Ccy="SEK">1000.00</Amt></TxDtls>
        <TxDtls><Refs><EndToEndId>def</EndToEndId><AcctSvcrRef>T-2</AcctSvcrRef></Refs>
          <Amt Ccy="SEK">500.00</Amt></TxDtls></NtryDtls></Ntry>
  </Stmt></BkToCstmrStmt></Document>""")
    assert statement.message_id == "STMT-7" and statement.kind == "camt.053.001.08"
    assert [(e.end_to_end_id, e.amount, e.bank_reference, e.booked, e.debit) for e in statement.entries] == [
        ("abc", Decimal("1000.00"), "E-9", True, True), ("def", Decimal("500.00"), "T-2", True, True)]


def test_a_case_on_which_the_payer_declared_jäv_is_not_theirs_to_pay(cases, cast):
    from workflows import door

    pain = payment_file_create(actor=cast.finance).content
    door.declare_conflict(actor=cast.finance2, application_id=cases.bankgiro.pk, reason="Min make arbetar där.")
    result = statement_reconcile(actor=cast.finance2, content=camt054_from(pain))
    assert [m.disbursement.pk for m in result.paid] == [cases.disbursement(cases.plusgiro).pk]
    bankgiro = end_to_end_id(cases.disbursement(cases.bankgiro).pk)
    assert "hör inte till någon utbetalning som du kan hantera" in {
        m.entry.end_to_end_id: m.problem for m in result.problems}[bankgiro]
    assert cases.disbursement(cases.bankgiro).status == Disbursement.Status.ATTESTED
