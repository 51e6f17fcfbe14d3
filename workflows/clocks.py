"""The clocks of förvaltningslagen on a case (bidrag.services.clocks) and the correction of
a sent decision (bidrag.services.corrections), entered the way every action is: the application and its case locked in the fixed order, the policy applied
under the locks, the service called, in one transaction."""

from django.db import transaction

from arenden.actors import Actor
from bidrag.services import clocks, corrections

from . import policy
from .beside import locked
from .queue_entries import queue_sync


def demand(*, actor: Actor, application_id):
    with transaction.atomic():
        application = locked(actor, application_id, policy.check_decision_demand)
        demand = clocks.decision_demand(actor=actor, application=application)
        queue_sync(application.pk)  # the case is under the overdue queue until the demand is answered
        return demand


def refuse_demand(*, actor: Actor, application_id, reasons: str):
    with transaction.atomic():
        application = locked(actor, application_id, policy.check_demand_refusal)
        refusal = clocks.demand_refuse(actor=actor, application=application, reasons=reasons)
        queue_sync(application.pk)
        return refusal


def notify_delay(*, actor: Actor, application_id, reason: str, expected_by):
    with transaction.atomic():
        application = locked(actor, application_id, policy.check_delay_notice)
        return clocks.delay_notify(actor=actor, application=application, reason=reason, expected_by=expected_by)


def correct(*, actor: Actor, application_id, decision_id, reasons: str, conditions: str, note: str):
    """FL 36 §: a decision maker corrects an obvious error in a sent decision."""
    with transaction.atomic():
        application = locked(actor, application_id, policy.check_correction)
        return corrections.decision_correct(actor=actor, application=application, decision_id=decision_id,
                                            reasons=reasons, conditions=conditions, note=note)
