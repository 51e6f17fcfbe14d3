"""The one path every application state change takes (DESIGN.md §3)."""

from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition, can_proceed
from django_fsm import TransitionNotAllowed as FsmTransitionNotAllowed

from arenden.errors import Conflict, ErrorCode, NotAllowed, TransitionNotAllowed
from arenden.journal import journal_append
from arenden.services import has_conflict
from notifications.services import outbox_enqueue

from ..models import Application, Membership
from ..roles import Role, has_role


def lock_application(application: Application) -> Application:
    """Re-read the application under a row lock; every service starts here."""
    return Application.objects.select_for_update().select_related("case", "organisation", "call").get(
        pk=application.pk
    )


def require_role(actor, *roles: Role) -> None:
    if actor is None or not any(has_role(actor, role) for role in roles):
        raise NotAllowed(_("Du har inte behörighet att utföra den här åtgärden."))


def require_member(actor, application: Application, *, signatory: bool = False) -> None:
    memberships = Membership.objects.filter(organisation_id=application.organisation_id, user=actor)
    if signatory:
        memberships = memberships.filter(role=Membership.Role.SIGNATORY)
    if actor is None or not memberships.exists():
        if signatory:
            raise NotAllowed(_("Endast organisationens firmatecknare får göra detta."))
        raise NotAllowed(_("Du företräder inte den sökande organisationen."))


def require_no_conflict(actor, application: Application) -> None:
    if has_conflict(user=actor, case=application.case):
        raise NotAllowed(
            _("Du har anmält jäv i ärendet och får inte delta i handläggningen (FL 16 §)."),
            code=ErrorCode.CONFLICT_OF_INTEREST,
        )


def transition(
    *,
    actor,
    application: Application,
    name: str,
    payload: dict | None = None,
    action: str | None = None,
) -> Application:
    """Run the named FSM transition on a locked application and journal it."""
    method = getattr(application, name)
    from_state = application.status
    if not can_proceed(method):
        raise TransitionNotAllowed(
            _("Åtgärden går inte att utföra när ansökan har status ”%(status)s”.")
            % {"status": application.get_status_display()},
            details={"status": from_state, "action": name},
        )
    try:
        method()
        application.save(update_fields=["status", "updated_at"])
    except FsmTransitionNotAllowed:
        raise TransitionNotAllowed(_("Åtgärden går inte att utföra i ansökans nuvarande status.")) from None
    except ConcurrentTransition as exc:
        raise Conflict(_("Ansökan ändrades av någon annan samtidigt. Ladda om sidan och försök igen.")) from exc
    journal_append(
        actor=actor,
        case=application.case,
        action=action or name,
        from_state=from_state,
        to_state=application.status,
        payload=payload,
    )
    return application


def applicant_recipients(application: Application) -> list[str]:
    org = application.organisation
    emails = [org.email] if org.email else []
    emails += list(
        Membership.objects.filter(organisation=org).exclude(user__email="").values_list("user__email", flat=True)
    )
    return emails


def notify_applicant(*, application: Application, kind: str, subject: str, body: str) -> None:
    """Write the applicant's notice to the outbox, inside the caller's transaction."""
    reference = application.case.diarienummer or str(application.pk)
    outbox_enqueue(
        kind=kind,
        reference=f"application:{application.pk}",
        recipients=applicant_recipients(application),
        subject=f"{subject} – {reference}",
        body=body,
    )
