"""Cases for the payment-file tests: disbursements attested, stopped and paid, through the
real door, for organisations paid to a bankgiro and to a plusgiro."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal
from importlib.resources import files

import pytest
import xmlschema

from bidrag.models import Application, Disbursement, Organisation
from bidrag.models.application import Status
from tests.domain import MALMO, STOCKHOLM, perform

GOTEBORG, UPPSALA = "2120001355", "2120003005"
PAIN = "{urn:iso:std:iso:20022:tech:xsd:pain.001.001.03}"


@dataclass
class Cases:
    bankgiro: Application  # attested, Stockholm, bankgiro
    plusgiro: Application  # attested, Malmö, plusgiro
    stopped: Application  # attested, then stopped
    paid: Application  # paid already

    def disbursement(self, application: Application) -> Disbursement:
        return Disbursement.objects.filter(application=application).order_by("-prepared_at").first()


def attest(cast, application):
    perform(actor=cast.officer, application=application, node="prepare_payment", action="prepare_disbursement")
    perform(actor=cast.finance, application=application, node="attest_payment", action="attest_disbursement")


@pytest.fixture
def cases(make_application, cast, settings) -> Cases:
    settings.BRA_BANKGIRO = "5050-1055"
    bankgiro = make_application(to=Status.GRANTED, organisation=Organisation.objects.get(orgnr=STOCKHOLM))
    plusgiro = make_application(to=Status.GRANTED, organisation=Organisation.objects.get(orgnr=MALMO))
    Organisation.objects.filter(orgnr=MALMO).update(payment_method="plusgiro", payment_account="123455")
    stopped = make_application(to=Status.GRANTED, organisation=Organisation.objects.get(orgnr=GOTEBORG))
    paid = make_application(to=Status.IN_PROGRESS, organisation=Organisation.objects.get(orgnr=UPPSALA))
    for application in (bankgiro, plusgiro, stopped):
        attest(cast, application)
    perform(actor=cast.finance2, application=stopped, node="pay", action="stop_disbursement",
            data={"note": "Fel konto enligt kommunen"})
    return Cases(bankgiro=bankgiro, plusgiro=plusgiro, stopped=stopped, paid=paid)


def pain_schema() -> xmlschema.XMLSchema:
    """ISO 20022's own pain.001.001.03.xsd, as the sepaxml package ships it (a dev dependency)."""
    return xmlschema.XMLSchema(str(files("sepaxml") / "schemas" / "pain.001.001.03.xsd"))


def transactions(content: bytes) -> list[ET.Element]:
    return ET.fromstring(content).findall(f".//{PAIN}CdtTrfTxInf")


def text(element: ET.Element, path: str) -> str:
    found = element.find("/".join(f"{PAIN}{part}" for part in path.split("/")))
    assert found is not None, path
    return found.text or ""


def camt054_from(content: bytes, *, amounts: dict | None = None, extra: str = "", message_id: str = "CAMT-1") -> bytes:
    """The bank's debit notification (camt.054.001.02) for a pain.001 it executed: one booked
    debit per payment, with the payment's EndToEndId; `amounts` overrides some amounts."""
    amounts = amounts or {}
    entries = []
    for number, tx in enumerate(transactions(content), start=1):
        reference = text(tx, "PmtId/EndToEndId")
        amount = amounts.get(reference, Decimal(text(tx, "Amt/InstdAmt")))
        entries.append(f"""
      <Ntry>
        <Amt Ccy="SEK">{amount}</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-12-02</Dt></BookgDt>
        <ValDt><Dt>2026-12-02</Dt></ValDt>
        <AcctSvcrRef>BANK-{number:04d}</AcctSvcrRef>
        <BkTxCd><Prtry><Cd>BGDEBIT</Cd></Prtry></BkTxCd>
        <NtryDtls><TxDtls><Refs><EndToEndId>{reference}</EndToEndId></Refs>
          <AmtDtls><TxAmt><Amt Ccy="SEK">{amount}</Amt></TxAmt></AmtDtls></TxDtls></NtryDtls>
      </Ntry>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>{message_id}</MsgId><CreDtTm>2026-12-02T08:00:00</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>N-1</Id>
      <CreDtTm>2026-12-02T08:00:00</CreDtTm>
      <Acct><Id><Othr><Id>50501055</Id><SchmeNm><Prtry>BGNR</Prtry></SchmeNm></Othr></Id></Acct>{"".join(entries)}{extra}
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>""".encode()
