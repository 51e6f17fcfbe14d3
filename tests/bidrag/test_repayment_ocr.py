"""Issue 7, follow-up: a repayment claim names its amount, grounds, due date and how to pay
(Brå's bankgiro and an OCR reference the bank checks), in the letter and the notice."""

import io

import pytest
from django.core.files.storage import default_storage
from pypdf import PdfReader

from arenden.formatting import day
from bidrag.models.application import Status
from bidrag.payments.ocr import is_valid_ocr, ocr_reference
from bidrag.services.letters import letter_issue
from notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_an_ocr_reference_carries_a_length_digit_and_a_check_digit():
    reference = ocr_reference("2026-00042")
    # The case's digits, then the length digit (11 digits in all: 1), then the check digit.
    assert reference[:9] == "202600042" and reference[9] == "1" and len(reference) == 11
    assert is_valid_ocr(reference)
    mistyped = reference[:3] + str((int(reference[3]) + 1) % 10) + reference[4:]
    assert not is_valid_ocr(mistyped)
    assert not is_valid_ocr(reference[:-2] + "9" + reference[-1])  # wrong length digit


def test_the_claim_says_how_and_by_when_to_pay_it_back(make_application, cast, settings):
    settings.BRA_BANKGIRO = "5050-1055"
    application = make_application(to=Status.REPAYMENT_CLAIMED)
    repayment = application.repayments.get()
    assert repayment.due_on is not None and is_valid_ocr(repayment.ocr)
    assert repayment.ocr.startswith("".join(c for c in application.case.diarienummer if c.isdigit()))
    notice = OutboxMessage.objects.filter(kind="repayment_instructions").first()
    assert notice is not None
    for text in ("5050-1055", repayment.ocr, day(repayment.due_on, language="sv")):
        assert text in notice.body
    decision = application.decisions.get(outcome="repayment_claimed")
    letter = letter_issue(decision_id=decision.pk)
    text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(
        default_storage.open(letter.file.name).read())).pages).split())
    assert "Så betalar ni tillbaka" in text and repayment.ocr in text and "5050-1055" in text


def _credit(ocr: str, amount, *, booked: bool = True) -> str:
    return f"""
      <Ntry>
        <Amt Ccy="SEK">{amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>{"BOOK" if booked else "PDNG"}</Sts>
        <BookgDt><Dt>2026-12-03</Dt></BookgDt>
        <AcctSvcrRef>BANK-IN-{ocr[-4:]}</AcctSvcrRef>
        <NtryDtls><TxDtls><AmtDtls><TxAmt><Amt Ccy="SEK">{amount}</Amt></TxAmt></AmtDtls>
          <RmtInf><Strd><CdtrRefInf><CdtrRef>{ocr}</CdtrRef></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls>
      </Ntry>"""


def _statement(entries: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>CAMT-IN-1</MsgId><CreDtTm>2026-12-03T08:00:00</CreDtTm></GrpHdr>
    <Ntfctn><Id>N-IN</Id><CreDtTm>2026-12-03T08:00:00</CreDtTm>{entries}
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>""".encode()


def test_a_credit_with_the_claims_ocr_registers_the_repayment_through_the_door(make_application, cast):
    from bidrag.models import Application, Repayment
    from workflows.payments import statement_reconcile

    application = make_application(to=Status.REPAYMENT_CLAIMED)
    repayment = application.repayments.get()
    # A wrong amount and an unknown OCR are listed, and register nothing.
    result = statement_reconcile(actor=cast.finance, content=_statement(
        _credit(repayment.ocr, repayment.amount - 1) + _credit(ocr_reference("999"), repayment.amount)))
    assert not result.paid and len(result.problems) == 2
    assert Repayment.objects.get(pk=repayment.pk).status == Repayment.Status.CLAIMED

    result = statement_reconcile(actor=cast.finance, content=_statement(_credit(repayment.ocr, repayment.amount)))

    assert [m.repayment.pk for m in result.paid] == [repayment.pk]
    repayment.refresh_from_db()
    assert repayment.status == Repayment.Status.REPAID and repayment.settled_by == cast.finance
    assert Application.objects.get(pk=application.pk).status == Status.CLOSED
    again = statement_reconcile(actor=cast.finance, content=_statement(_credit(repayment.ocr, repayment.amount)))
    assert not again.paid and [m.repayment.pk for m in again.already_paid] == [repayment.pk]
