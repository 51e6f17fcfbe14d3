"""What every state-changing service of the grant domain shares (DESIGN.md §3).

The services change the domain, journal and write the outbox. They run only inside the
door (workflows/door.py), which has already locked the rows in order, applied the policy
(roles, claims, jäv, four eyes) and will complete the flow's task in the same transaction:
called from anywhere else they refuse, as journal_append refuses outside a transaction.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition, can_proceed
from django_fsm import TransitionNotAllowed as FsmTransitionNotAllowed

from arenden.actors import Actor
from arenden.errors import Conflict, NotAllowed, TransitionNotAllowed
from arenden.journal import journal_append
from arenden.models import DiariumEntry
from arenden.services import diarium_entry_add
from notifications.messages import Recipient, notify

from ..events import Event
from ..models import Application, Membership

_inside_door: ContextVar[bool] = ContextVar("bidrag_inside_door", default=False)


class OutsideTheDoor(RuntimeError):
    """A state-changing service was called without workflows.door: status and tasks would disagree."""


@contextmanager
def door_open() -> Iterator[None]:
    """Entered by workflows.door only, inside its transaction, after its locks and policy."""
    if not transaction.get_connection().in_atomic_block:
        raise OutsideTheDoor("the door opens only inside its transaction")
    token = _inside_door.set(True)
    try:
        yield
    finally:
        _inside_door.reset(token)


def require_door() -> None:
    if not _inside_door.get():
        raise OutsideTheDoor(
            "state-changing services run only through workflows.door.act(), which locks, applies "
            "the policy and moves the flow in the same transaction"
        )


def require_member(actor, application: Application, *, signatory: bool = False) -> None:
    """For draft editing, which is no state change and does not go through the door."""
    memberships = Membership.objects.filter(organisation_id=application.organisation_id, user=actor)
    if signatory:
        memberships = memberships.filter(role=Membership.Role.SIGNATORY)
    if actor is None or not memberships.exists():
        if signatory:
            raise NotAllowed(_("Endast organisationens firmatecknare får göra detta."))
        raise NotAllowed(_("Du företräder inte den sökande organisationen."))


def transition(
    *,
    actor: Actor | None,
    application: Application,
    event: Event,
    name: str | None = None,
    payload: dict | None = None,
    **kwargs,
) -> Application:
    """Run an FSM transition (named `name`, by default the event's name) on the locked
    application and journal it as `event`."""
    require_door()
    method = getattr(application, name or event.value)
    from_state = application.status
    if not can_proceed(method):
        raise TransitionNotAllowed(
            _("Åtgärden går inte att utföra när ansökan har status ”%(status)s”.")
            % {"status": application.get_status_display()},
            details={"status": from_state, "action": event.value},
        )
    try:
        method(**kwargs)
        application.save(update_fields=["status", "updated_at"])
    except FsmTransitionNotAllowed:
        raise TransitionNotAllowed(_("Åtgärden går inte att utföra i ansökans nuvarande status.")) from None
    except ConcurrentTransition as exc:
        raise Conflict(_("Ansökan ändrades av någon annan samtidigt. Ladda om sidan och försök igen.")) from exc
    journal_append(
        actor=actor,
        case_id=application.case_id,
        action=event,
        from_state=from_state,
        to_state=application.status,
        payload=payload,
    )
    return application


def record(*, actor: Actor | None, application: Application, event: Event, payload: dict | None = None) -> None:
    """Journal an action that leaves the application's status as it is (a proposal, an
    attestation): the event still names the action and the state it happened in."""
    require_door()
    journal_append(
        actor=actor,
        case_id=application.case_id,
        action=event,
        from_state=application.status,
        to_state=application.status,
        payload=payload,
    )


def record_beside_flow(*, actor: Actor | None, application: Application, event: Event, payload: dict) -> None:
    """Journal what happens on a case beside its flow (an appeal, a delay notice, a stored
    letter): the state stays as it is. The caller holds the case's lock (its own entry in
    workflows, or the letter's issuer), as journal_append needs."""
    journal_append(actor=actor, case_id=application.case_id, action=event, from_state=application.status,
                   to_state=application.status, payload=payload)


def diarise(*, actor: Actor | None, application: Application, direction: str, description: str, attachment=None,
            kind: str = DiariumEntry.Kind.OTHER):
    """A diarium entry on the application's case, with the applicant organisation as counterpart
    (an organisation: its name is public in the diarium, OSL 5 kap.)."""
    return diarium_entry_add(
        actor=actor,
        case=application.case,
        direction=direction,
        counterpart=application.organisation.name,
        description=description,
        attachment=attachment,
        kind=kind,
    )


def applicant_recipients(application: Application) -> list[str]:
    org = application.organisation
    emails = [org.email] if org.email else []
    emails += list(
        Membership.objects.filter(organisation=org).exclude(user__email="").values_list("user__email", flat=True)
    )
    return emails


def applicant_people(application: Application) -> list[Recipient]:
    """Who hears of the case: the organisation's own address and every member (their notice,
    and their e-mail if they have one)."""
    org = application.organisation
    people = [Recipient(email=org.email)] if org.email else []
    people += [
        Recipient(email=email, user_id=user_id)
        for user_id, email in Membership.objects.filter(organisation=org).values_list("user_id", "user__email")
    ]
    return people


def notify_applicant(*, application: Application, kind: str, context: dict | None = None) -> None:
    """Message ``kind`` (templates/notifications/<kind>/) to the applicant, each person in their
    language, by e-mail and as a notice, inside the caller's transaction. The context has the
    case's title, diarienummer and organisation; the link leads to the application's page."""
    notify(
        kind=kind,
        reference=f"application:{application.pk}",
        recipients=applicant_people(application),
        context={
            "title": application.title,
            "diarienummer": application.case.diarienummer,
            "organisation": application.organisation.name,
            **(context or {}),
        },
        link=reverse("workflows:application_detail", args=[application.pk]),
    )
