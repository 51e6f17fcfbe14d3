"""Actions on a case beside its flow (the application's state does not change): appeals,
the FL 11/12 § clocks, corrections, the diarium. Entered as every action is: the
application and its case locked in the fixed order (bidrag.locks), then the policy
checked under the locks, then the service, all in the caller's transaction."""

from collections.abc import Callable

from arenden.actors import Actor
from arenden.errors import ServiceError
from bidrag import selectors as bidrag_selectors
from bidrag.locks import lock_application, lock_case
from bidrag.models import Application


def locked(actor: Actor, application_id, check: Callable) -> Application:
    """The application, locked with its case, once `check(actor=, application=)` passes."""
    bidrag_selectors.application_get(actor=actor, application_id=application_id)  # 404 for a stranger
    application = lock_application(application_id)
    lock_case(application.case_id)
    check(actor=actor, application=application)
    return application


def may(check: Callable, actor, application) -> bool:
    try:
        check(actor=actor, application=application)
    except ServiceError:
        return False
    return True
