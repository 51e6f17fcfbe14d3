"""The bank's statement read back: ISO 20022 camt.054 (debit notification) or camt.053
(account statement), any version, and each booked debit matched to the disbursement it
paid by the EndToEndId the payment file gave it (bidrag.payments.pain001) and its amount;
each booked credit with an OCR number to the repayment claim it pays back.

Reading and matching change nothing. Each match is then registered as paid through the
door, like the pay button (workflows.payments.statement_reconcile), so the same roles,
jäv and four eyes (payer ≠ attester) apply; whatever does not match is listed with why.
"""

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from arenden.actors import Actor
from arenden.errors import ValidationFailed
from arenden.formatting import money

from ..models import Disbursement, Repayment
from .files import finance_disbursements
from .pain001 import disbursement_of

MAX_STATEMENT_BYTES = 20 * 1024 * 1024
_KINDS = ("BkToCstmrDbtCdtNtfctn", "BkToCstmrStmt")  # camt.054, camt.053


@dataclass(frozen=True)
class StatementEntry:
    """One transaction of the statement, as far as matching needs it."""

    end_to_end_id: str
    amount: Decimal | None
    currency: str
    debit: bool
    booked: bool
    bank_reference: str
    booking_date: date | None
    # A credit's structured reference (RmtInf/Strd/CdtrRefInf/Ref): the OCR number of a
    # repayment (bidrag.payments.ocr) when the applicant pays a claim back.
    creditor_reference: str = ""


@dataclass(frozen=True)
class Statement:
    message_id: str
    kind: str
    entries: list[StatementEntry]


@dataclass
class Match:
    entry: StatementEntry
    disbursement: Disbursement | None = None
    repayment: Repayment | None = None
    problem: str = ""
    already_paid: bool = False

    @property
    def payable(self) -> bool:
        return self.disbursement is not None and not self.problem and not self.already_paid

    @property
    def repaid(self) -> bool:
        return self.repayment is not None and not self.problem and not self.already_paid


@dataclass
class Matching:
    statement: Statement
    matches: list[Match] = field(default_factory=list)

    @property
    def payable(self) -> list[Match]:
        return [m for m in self.matches if m.payable]

    @property
    def repaid(self) -> list[Match]:
        return [m for m in self.matches if m.repaid]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element | None, *path: str) -> ET.Element | None:
    """The first descendant along path, by local names (any camt version's namespace)."""
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if _local(c.tag) == name), None)
    return element


def _children(element: ET.Element, name: str) -> Iterator[ET.Element]:
    return (c for c in element if _local(c.tag) == name)


def _text(element: ET.Element | None, *path: str) -> str:
    found = _child(element, *path) if path else element
    return (found.text or "").strip() if found is not None else ""


def _amount(element: ET.Element | None) -> tuple[Decimal | None, str]:
    if element is None:
        return None, ""
    try:
        return Decimal((element.text or "").strip()), element.get("Ccy", "")
    except InvalidOperation:
        return None, element.get("Ccy", "")


def _status(entry: ET.Element) -> str:
    status = _child(entry, "Sts")
    if status is None:
        return ""
    return _text(status, "Cd") or _text(status)  # <Sts><Cd>BOOK</Cd></Sts> (v08) or <Sts>BOOK</Sts> (v02)


def _date(entry: ET.Element) -> date | None:
    text = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")[:10]
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _entries(entry: ET.Element) -> Iterator[StatementEntry]:
    debit = _text(entry, "CdtDbtInd") == "DBIT"
    booked = _status(entry) == "BOOK"
    entry_amount = _amount(_child(entry, "Amt"))
    entry_reference = _text(entry, "AcctSvcrRef")
    details = [tx for block in _children(entry, "NtryDtls") for tx in _children(block, "TxDtls")]
    for tx in details:
        # The transaction's own amount: TxDtls/Amt (v04 on) or TxDtls/AmtDtls/TxAmt/Amt (v02);
        # the entry's when the entry holds this one transaction only.
        amount = _amount(_child(tx, "Amt"))
        if amount[0] is None:
            amount = _amount(_child(tx, "AmtDtls", "TxAmt", "Amt"))
        if amount[0] is None and len(details) == 1:
            amount = entry_amount
        yield StatementEntry(
            end_to_end_id=_text(tx, "Refs", "EndToEndId"),
            amount=amount[0], currency=amount[1], debit=debit, booked=booked,
            bank_reference=_text(tx, "Refs", "AcctSvcrRef") or entry_reference,
            booking_date=_date(entry),
            creditor_reference=(_text(tx, "RmtInf", "Strd", "CdtrRefInf", "Ref")
                                or _text(tx, "RmtInf", "Strd", "CdtrRefInf", "CdtrRef")),
        )
    if not details:
        yield StatementEntry(end_to_end_id="", amount=entry_amount[0], currency=entry_amount[1], debit=debit,
                             booked=booked, bank_reference=entry_reference, booking_date=_date(entry))


def camt_read(*, content: bytes) -> Statement:
    """The statement's booked transactions; ValidationFailed (in Swedish) for anything else."""
    if len(content) > MAX_STATEMENT_BYTES:
        raise ValidationFailed(_("Filen är för stor för ett kontoutdrag."), details={"field": "statement"})
    if b"<!DOCTYPE" in content[:4096].upper() or b"<!ENTITY" in content.upper():
        # No document type or entities in a bank file: refusing them refuses every entity attack.
        raise ValidationFailed(_("Filen är inte ett kontoutdrag i ISO 20022-format (camt.053 eller camt.054)."),
                               details={"field": "statement"})
    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        raise ValidationFailed(_("Filen är inte giltig XML."), details={"field": "statement"}) from None
    body = next((c for c in root if _local(c.tag) in _KINDS), None)
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if _local(root.tag) != "Document" or body is None or ":camt.05" not in namespace:
        raise ValidationFailed(_("Filen är inte ett kontoutdrag i ISO 20022-format (camt.053 eller camt.054)."),
                               details={"field": "statement"})
    reports = [r for name in ("Ntfctn", "Stmt") for r in _children(body, name)]
    entries = [tx for report in reports for entry in _children(report, "Ntry") for tx in _entries(entry)]
    return Statement(message_id=_text(body, "GrpHdr", "MsgId"), kind=namespace.rsplit(":", 1)[-1], entries=entries)


def camt_match(*, actor: Actor, statement: Statement) -> Matching:
    """Each booked debit with the disbursement it paid, or the reason it matches none.
    Only disbursements the actor may see are matched (scoped as finance's lists)."""
    ids = [d for d in (disbursement_of(e.end_to_end_id) for e in statement.entries) if d is not None]
    known = {d.pk: d for d in finance_disbursements(actor=actor).filter(pk__in=ids)}
    matching = Matching(statement=statement)
    seen: set = set()
    repayments = _repayments_by_ocr(statement)
    for entry in statement.entries:
        match = Match(entry=entry)
        matching.matches.append(match)
        if not entry.debit and entry.creditor_reference:
            _match_repayment(match, repayments.get(entry.creditor_reference))
            continue
        disbursement_id = disbursement_of(entry.end_to_end_id)
        if not entry.debit or not entry.booked:
            match.problem = str(_("Inte en bokförd utbetalning från kontot."))
            continue
        disbursement = known.get(disbursement_id) if disbursement_id else None
        if disbursement is None:
            match.problem = str(_("Referensen hör inte till någon utbetalning som du kan hantera i Bidragsportalen."))
            continue
        match.disbursement = disbursement
        if disbursement.pk in seen:
            match.problem = str(_("Samma utbetalning står två gånger i kontoutdraget."))
            continue
        seen.add(disbursement.pk)
        if entry.currency and entry.currency != "SEK":
            match.problem = str(_("Betalningen är i %(ccy)s, inte i kronor.") % {"ccy": entry.currency})
        elif entry.amount != disbursement.amount:
            match.problem = str(
                _("Beloppet %(bank)s stämmer inte med utbetalningens %(ours)s.")
                % {"bank": money(entry.amount) if entry.amount is not None else "–", "ours": money(disbursement.amount)}
            )
        elif disbursement.status == Disbursement.Status.PAID:
            match.already_paid = True
        elif disbursement.status == Disbursement.Status.STOPPED:
            match.problem = str(_("Utbetalningen är stoppad men har betalats av banken: kontakta banken och handläggaren."))
        elif disbursement.status != Disbursement.Status.ATTESTED:
            match.problem = str(_("Utbetalningen är inte attesterad."))
    return matching


def _repayments_by_ocr(statement: Statement) -> dict[str, Repayment]:
    references = {e.creditor_reference for e in statement.entries if not e.debit and e.creditor_reference}
    found = Repayment.objects.filter(ocr__in=references).select_related("application__case") if references else []
    return {r.ocr: r for r in found}


def _match_repayment(match: Match, repayment: Repayment | None) -> None:
    """A booked credit with a repayment's OCR number and its amount pays that claim back."""
    entry = match.entry
    if not entry.booked:
        match.problem = str(_("Inte en bokförd inbetalning till kontot."))
    elif repayment is None:
        match.problem = str(_("OCR-numret hör inte till något återkrav i Bidragsportalen."))
    else:
        match.repayment = repayment
        if repayment.status == Repayment.Status.REPAID:
            match.already_paid = True
        elif repayment.status != Repayment.Status.CLAIMED:
            match.problem = str(_("Återkravet är inte längre öppet: %(status)s.") % {"status": repayment.get_status_display()})
        elif entry.amount != repayment.amount:
            match.problem = str(
                _("Beloppet %(bank)s stämmer inte med återkravets %(ours)s.")
                % {"bank": money(entry.amount) if entry.amount is not None else "–", "ours": money(repayment.amount)}
            )


def payment_reference(*, statement: Statement, entry: StatementEntry) -> str:
    """What the disbursement records as its payment reference: the statement and the bank's own reference."""
    return f"{statement.kind} {statement.message_id} {entry.bank_reference or entry.end_to_end_id}".strip()[:100]
