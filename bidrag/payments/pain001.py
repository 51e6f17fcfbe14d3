"""The payment order to the bank: ISO 20022 pain.001.001.03 (CustomerCreditTransferInitiationV03)
for Swedish domestic payments in SEK to bankgiro and plusgiro, as the Swedish banks read it
(Svenska Bankföreningen, "Swedish Common Interpretation of ISO 20022 Payment Messages",
appendix 1 "Common Payment Types in Sweden"; Danske Bank's and Swedbank's guides follow it):

- the debtor is Brå (BRA_NAME, BRA_ORGNR) paying from its own bankgiro (BRA_BANKGIRO) as
  `DbtrAcct/Id/Othr/Id` with `SchmeNm/Prtry` "BGNR", through its bank (BRA_BANK_BIC);
- a bankgiro payee: `CdtrAcct/Id/Othr/Id` = the number, `SchmeNm/Prtry` "BGNR";
- a plusgiro payee: `CdtrAcct/Id/Othr/Id` = the number, `SchmeNm/Cd` "BBAN", and the
  creditor agent is PlusGirot by its clearing number: `CdtrAgt/FinInstnId/ClrSysMmbId`
  with `ClrSysId/Cd` "SESBA" and `MmbId` "9960";
- the payee's name (`Cdtr/Nm`) always: from 2026 the banks require it;
- `EndToEndId` = the disbursement's id without hyphens (32 characters, stable, and read
  back from the bank's statement, bidrag.payments.camt);
- `NbOfTxs` and `CtrlSum` count and add exactly the payments in the file.

A pure function of its input: building the file changes nothing. payment_file_create
(bidrag.payments.files) picks the attested disbursements, journals them and calls it.
"""

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ..models.organisation import PaymentMethod

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
# PlusGirot's clearing number at Nordea, through the Swedish bank clearing code (SESBA).
PLUSGIRO_CLEARING = ("SESBA", "9960")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Debtor:
    name: str
    orgnr: str
    bankgiro: str
    bic: str


@dataclass(frozen=True)
class Payment:
    """One credit transfer: what the bank needs, copied from an attested disbursement."""

    end_to_end_id: str
    amount: Decimal
    payee_name: str
    payee_method: str
    payee_account: str
    remittance: str


def end_to_end_id(disbursement_id) -> str:
    """The disbursement's id as the file and the bank's statement carry it (max 35 characters)."""
    return uuid.UUID(str(disbursement_id)).hex


def disbursement_of(reference: str) -> uuid.UUID | None:
    """The disbursement id an EndToEndId names, or None when it names none of ours."""
    try:
        return uuid.UUID(hex=reference.strip())
    except (ValueError, AttributeError):
        return None


def _amount(value: Decimal) -> str:
    return f"{value.quantize(_CENT):.2f}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def _path(parent: ET.Element, path: str, text: str) -> ET.Element:
    """Create the chain of elements a/b/c under parent and put text in the last one."""
    element = parent
    for tag in path.split("/"):
        element = _sub(element, tag)
    element.text = text
    return element


def _organisation_id(parent: ET.Element, orgnr: str) -> None:
    other = _sub(_sub(_sub(parent, "Id"), "OrgId"), "Othr")
    _sub(other, "Id", orgnr)
    _path(other, "SchmeNm/Cd", "TXID")  # the organisationsnummer is the tax identity of a legal person


def _creditor_account(transaction: ET.Element, payment: Payment) -> None:
    if payment.payee_method == PaymentMethod.PLUSGIRO:
        member = _sub(_sub(_sub(transaction, "CdtrAgt"), "FinInstnId"), "ClrSysMmbId")
        _path(member, "ClrSysId/Cd", PLUSGIRO_CLEARING[0])
        _sub(member, "MmbId", PLUSGIRO_CLEARING[1])
    _path(transaction, "Cdtr/Nm", payment.payee_name[:70])
    other = _sub(_sub(_sub(transaction, "CdtrAcct"), "Id"), "Othr")
    _sub(other, "Id", payment.payee_account)
    if payment.payee_method == PaymentMethod.PLUSGIRO:
        _path(other, "SchmeNm/Cd", "BBAN")
    else:
        _path(other, "SchmeNm/Prtry", "BGNR")


def pain001_build(
    *,
    payments: Sequence[Payment],
    debtor: Debtor,
    message_id: str,
    created_at: datetime,
    execution_date: date,
) -> bytes:
    """The pain.001.001.03 document for `payments`, in UTF-8, all in one payment
    information block (one debit of Brå's account per payment, in SEK)."""
    if not payments:
        raise ValueError("a payment file holds at least one payment")
    for payment in payments:
        if not payment.payee_name.strip() or not payment.payee_account or payment.amount <= 0:
            raise ValueError(f"payment {payment.end_to_end_id} lacks its payee, account or amount")
    count, total = str(len(payments)), _amount(sum((p.amount for p in payments), start=Decimal(0)))
    ET.register_namespace("", NAMESPACE)
    document = ET.Element(f"{{{NAMESPACE}}}Document")
    initiation = _sub(document, "CstmrCdtTrfInitn")

    header = _sub(initiation, "GrpHdr")
    _sub(header, "MsgId", message_id[:35])
    _sub(header, "CreDtTm", created_at.replace(microsecond=0, tzinfo=None).isoformat())
    _sub(header, "NbOfTxs", count)
    _sub(header, "CtrlSum", total)
    initiating = _sub(header, "InitgPty")
    _sub(initiating, "Nm", debtor.name[:70])
    _organisation_id(initiating, debtor.orgnr)

    block = _sub(initiation, "PmtInf")
    _sub(block, "PmtInfId", f"{message_id[:31]}-1")
    _sub(block, "PmtMtd", "TRF")
    _sub(block, "BtchBookg", "false")
    _sub(block, "NbOfTxs", count)
    _sub(block, "CtrlSum", total)
    _path(block, "PmtTpInf/SvcLvl/Cd", "NURG")  # giro payments are non-urgent
    _sub(block, "ReqdExctnDt", execution_date.isoformat())
    party = _sub(block, "Dbtr")
    _sub(party, "Nm", debtor.name[:70])
    _organisation_id(party, debtor.orgnr)
    _sub(party, "CtryOfRes", "SE")
    account = _sub(_sub(_sub(block, "DbtrAcct"), "Id"), "Othr")
    _sub(account, "Id", debtor.bankgiro)
    _path(account, "SchmeNm/Prtry", "BGNR")
    _sub(_sub(_sub(block, "DbtrAgt"), "FinInstnId"), "BIC", debtor.bic)
    _sub(block, "ChrgBr", "SLEV")

    for payment in payments:
        transaction = _sub(block, "CdtTrfTxInf")
        _path(transaction, "PmtId/EndToEndId", payment.end_to_end_id)
        _sub(_sub(transaction, "Amt"), "InstdAmt", _amount(payment.amount), Ccy="SEK")
        _creditor_account(transaction, payment)
        if payment.remittance:
            _path(transaction, "RmtInf/Ustrd", payment.remittance[:140])

    ET.indent(document)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(document, encoding="utf-8") + b"\n"
