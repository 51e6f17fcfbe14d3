"""Appeals of a decision, entered the way every action is: the application and its case
locked in the fixed order, the policy (workflows.policy.check_appeal) applied under the
locks, then the service (bidrag.services.appeals), all in one transaction."""

from functools import partial

from django.db import transaction

from arenden.actors import Actor
from bidrag import selectors as bidrag_selectors
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
    """FL 45 §: the översändelse is written and stored first, outside the locks (no network
    I/O under a row lock) and only for someone the policy lets forward; then the appeal is
    forwarded under the locks, or the stored letter removed again."""
    application = bidrag_selectors.application_get(actor=actor, application_id=application_id)  # 404 for a stranger
    policy.check_appeal(actor=actor, application=application)
    letter = appeals.appeal_letter_prepare(actor=actor, application=application, appeal_id=appeal_id, court=court)
    try:
        with transaction.atomic():
            application = _locked(actor, application_id)
            return appeals.appeal_forward(actor=actor, application=application, appeal_id=appeal_id, letter=letter)
    except BaseException:
        appeals.appeal_letter_discard(letter)
        raise


def dismiss(*, actor: Actor, application_id, appeal_id, reasons: str):
    with transaction.atomic():
        application = _locked(actor, application_id, dismiss=True)
        return appeals.appeal_dismiss(actor=actor, application=application, appeal_id=appeal_id, reasons=reasons)


def may(actor, application, *, dismiss: bool = False) -> bool:
    return beside_may(partial(policy.check_appeal, dismiss=dismiss), actor, application)
