"""Appeals of a decision, entered the way every action is: the application and its case
locked in the fixed order, the policy (workflows.policy.check_appeal) applied under the
locks, then the service (bidrag.services.appeals), all in one transaction."""

from functools import partial

from django.db import transaction

from arenden.actors import Actor
from bidrag.services import appeals

from . import policy
from .beside import locked
from .beside import may as beside_may


def _locked(actor: Actor, application_id, *, dismiss: bool = False):
    return locked(actor, application_id, partial(policy.check_appeal, dismiss=dismiss))


def register(*, actor: Actor, application_id, decision_id, received_on, notified_on, summary: str):
    with transaction.atomic():
        application = _locked(actor, application_id)
        return appeals.appeal_register(actor=actor, application=application, decision_id=decision_id,
                                       received_on=received_on, notified_on=notified_on, summary=summary)


def forward(*, actor: Actor, application_id, appeal_id, court: str = ""):
    with transaction.atomic():
        application = _locked(actor, application_id)
        return appeals.appeal_forward(actor=actor, application=application, appeal_id=appeal_id, court=court)


def dismiss(*, actor: Actor, application_id, appeal_id, reasons: str):
    with transaction.atomic():
        application = _locked(actor, application_id, dismiss=True)
        return appeals.appeal_dismiss(actor=actor, application=application, appeal_id=appeal_id, reasons=reasons)


def may(actor, application, *, dismiss: bool = False) -> bool:
    return beside_may(partial(policy.check_appeal, dismiss=dismiss), actor, application)
