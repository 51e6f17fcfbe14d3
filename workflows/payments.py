"""The bank's statement registered as payments, through the door (DESIGN.md §3).

bidrag.payments.camt reads the statement and matches each booked debit to the disbursement
it paid; each match is then one `door.act(node="pay", action=PAY_DISBURSEMENT)` by the
person who uploaded it, exactly as if they had pressed the pay button: the policy applies
roles, claims, jäv and four eyes (the payer is not the attester), and each payment is its
own transaction, done whole or not at all. A credit with a repayment claim's OCR number
registers the repayment the same way (node settle_repayment). What the door refuses is
listed with its reason.
"""

from dataclasses import dataclass

from arenden.actors import Actor
from arenden.errors import ServiceError
from bidrag.events import Event
from bidrag.payments.camt import Match, Matching, camt_match, camt_read, payment_reference
from bidrag.payments.files import require_finance

from . import door


@dataclass
class Reconciliation:
    matching: Matching
    paid: list[Match]
    already_paid: list[Match]
    problems: list[Match]


def statement_reconcile(*, actor: Actor, content: bytes) -> Reconciliation:
    """Register every matched payment of the statement as paid; list the rest with why."""
    require_finance(actor)
    statement = camt_read(content=content)
    matching = camt_match(actor=actor, statement=statement)
    paid: list[Match] = []
    for match in matching.payable:
        disbursement = match.disbursement
        assert disbursement is not None  # payable says so
        try:
            door.act(
                actor=actor, application_id=disbursement.application_id, node="pay", action=Event.PAY_DISBURSEMENT,
                data={"payment_reference": payment_reference(statement=statement, entry=match.entry),
                      "disbursement_id": disbursement.pk},
            )
        except ServiceError as error:
            match.problem = str(error.message)
        else:
            paid.append(match)
    for match in matching.repaid:
        repayment = match.repayment
        assert repayment is not None  # repaid says so
        try:
            door.act(
                actor=actor, application_id=repayment.application_id, node="settle_repayment",
                action=Event.REGISTER_REPAYMENT,
                data={"note": f"OCR {repayment.ocr}: {payment_reference(statement=statement, entry=match.entry)}"},
            )
        except ServiceError as error:
            match.problem = str(error.message)
        else:
            paid.append(match)
    return Reconciliation(
        matching=matching,
        paid=paid,
        already_paid=[m for m in matching.matches if m.already_paid],
        problems=[m for m in matching.matches if m.problem],
    )
