"""A reconsideration's parts beside the flow (bidrag.services.reconsiderations): the
applicant's request, on their page or as a letter staff register, and the answer that the
decision stands. Entered the way every action is: the application and its case locked in
the fixed order, the policy applied under the locks, then the service, in one transaction.
The proposal and the decision change the flow and go through workflows.door
(flows.PROPOSE_RECONSIDERATION, the decide_reconsideration step)."""

from django.db import transaction

from arenden.actors import Actor
from bidrag.services import reconsiderations

from . import policy
from .beside import locked


def request(*, actor: Actor, application_id, text: str):
    """The applicant's firmatecknare asks on the application's page."""
    with transaction.atomic():
        application = locked(actor, application_id, policy.check_reconsideration_request)
        return reconsiderations.reconsideration_request(actor=actor, application=application, text=text)


def comments(*, actor: Actor, application_id, answer: str):
    """The applicant answers the communication of a proposal to their detriment (FL 25 §)."""
    with transaction.atomic():
        application = locked(actor, application_id, policy.check_reconsideration_comments)
        return reconsiderations.reconsideration_comments(actor=actor, application=application, answer=answer)


def register_letter(*, actor: Actor, application_id, text: str, received_on):
    """Staff register a request that came by post or e-mail, with the day it came in."""
    with transaction.atomic():
        application = locked(actor, application_id, policy.check_reconsideration_letter)
        return reconsiderations.reconsideration_request(actor=actor, application=application, text=text,
                                                        received_on=received_on, by_letter=True)


def keep(*, actor: Actor, application_id, answer: str):
    """A case officer answers that the decision stands."""
    with transaction.atomic():
        application = locked(actor, application_id, policy.check_reconsideration_answer)
        return reconsiderations.reconsideration_keep(actor=actor, application=application, answer=answer)
