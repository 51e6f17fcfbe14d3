"""Correcting a sent decision (FL 36 §): an obvious error in its text, a writing or
calculation slip, is put right by a new decision that refers to the old one; the old one
stays as it was sent (the database refuses to change it). What the decision decided (its
outcome and amount) is not changed this way: that is a reconsideration (FL 37–39 §§).

Not a step of the flow (the status does not change): workflows.corrections locks the
application and its case, applies the policy and calls this in its transaction.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenden.actors import Actor
from arenden.errors import NotFound, TransitionNotAllowed, ValidationFailed
from arenden.formatting import day
from arenden.models import DiariumEntry

from ..events import Event
from ..models import Application, Decision
from .common import diarise, notify_applicant, record_beside_flow
from .letters import letter_queue


def decision_correct(
    *, actor: Actor, application: Application, decision_id, reasons: str, conditions: str, note: str,
) -> Decision:
    """A new decision, the same in outcome and amount, with the corrected reasons and
    conditions; `note` says what was wrong (it goes to the journal and the applicant)."""
    old = application.decisions.filter(pk=decision_id).first()
    if old is None:
        raise NotFound(_("Beslutet finns inte i ärendet."))
    if old.corrections.exists():
        raise TransitionNotAllowed(_("Beslutet är redan rättat: rätta det senaste beslutet i stället."))
    reasons, conditions, note = reasons.strip(), conditions.strip(), note.strip()
    if not note:
        raise ValidationFailed(_("Skriv vad som var fel i beslutet (36 § förvaltningslagen)."),
                               details={"field": "note"})
    if not reasons:
        raise ValidationFailed(_("Skälen för beslutet måste anges (FL 32 §)."), details={"field": "reasons"})
    if (reasons, conditions) == (old.reasons, old.conditions):
        raise ValidationFailed(_("Rättelsen ändrar ingenting i beslutet."), details={"field": "reasons"})
    decision = Decision.objects.create(
        application=application, outcome=old.outcome, amount=old.amount, reasons=reasons, conditions=conditions,
        decided_by=actor, presented_by=old.presented_by, decided_at=timezone.now(), corrects=old,
    )
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.OUTGOING,
            kind=DiariumEntry.Kind.DECISION,
            description=f"Rättelse av beslut {day(old.decided_at, language='sv')} (36 § förvaltningslagen)")
    record_beside_flow(actor=actor, application=application, event=Event.CORRECT_DECISION,
                       payload={"decision": str(decision.pk), "corrects": str(old.pk), "note": note})
    letter_queue(decision)
    notify_applicant(application=application, kind="decision_corrected",
                     context={"corrected_decided_at": old.decided_at, "note": note})
    return decision
