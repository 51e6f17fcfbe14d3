"""Proposals (föredragning) and decisions. Four eyes: the decider is never the proposer."""

from decimal import Decimal

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from arenden.errors import ErrorCode, NotAllowed, TransitionNotAllowed, ValidationFailed
from arenden.journal import journal_append
from arenden.models import DiariumEntry
from arenden.services import diarium_entry_add

from ..models import Decision, Proposal
from ..models.application import Status
from ..roles import Role
from .common import lock_application, notify_applicant, require_no_conflict, require_role, transition

# Which proposal belongs to which application state.
PROPOSAL_STATES = {
    Proposal.Kind.DECISION: {Status.IN_ASSESSMENT},
    Proposal.Kind.DISMISSAL: {Status.IN_REVIEW},
    Proposal.Kind.REPAYMENT: {Status.REPORT_REVIEW, Status.IN_PROGRESS},
}
KIND_OUTCOMES = {
    Proposal.Kind.DECISION: {Proposal.Outcome.GRANTED, Proposal.Outcome.REJECTED},
    Proposal.Kind.DISMISSAL: {Proposal.Outcome.DISMISSED},
    Proposal.Kind.REPAYMENT: {Proposal.Outcome.REPAYMENT},
}

APPEAL_NOTICE = (
    "Förordningen anger att beslutet inte får överklagas. Om ni ändå vill överklaga, skriv till Brå "
    "inom tre veckor från att ni fick del av beslutet och ange diarienumret; Brå registrerar "
    "överklagandet och lämnar det vidare till domstol för prövning."
)


def open_proposal(application, kind: str | None = None) -> Proposal | None:
    proposals = application.proposals.filter(is_open=True)
    if kind:
        proposals = proposals.filter(kind=kind)
    return proposals.first()


def proposal_create(
    *,
    actor,
    application,
    kind: str,
    outcome: str,
    reasons: str,
    amount: Decimal | None = None,
    conditions: str = "",
) -> Proposal:
    """The case officer presents a proposal. A decision proposal moves the application to
    decision_proposed; dismissal and repayment proposals leave its state for the decider."""
    require_role(actor, Role.CASE_OFFICER)
    with transaction.atomic():
        application = lock_application(application)
        require_no_conflict(actor, application)
        if application.status not in PROPOSAL_STATES[kind]:
            raise TransitionNotAllowed(
                _("Förslaget kan inte läggas när ansökan har status ”%(status)s”.")
                % {"status": application.get_status_display()}
            )
        if outcome not in KIND_OUTCOMES[kind]:
            raise ValidationFailed(_("Välj ett utfall som hör till förslaget."))
        if not reasons.strip():
            raise ValidationFailed(_("Skälen för beslutet måste anges (FL 32 §)."))
        if open_proposal(application):
            raise TransitionNotAllowed(_("Det finns redan ett förslag som väntar på beslut."))
        requested = application.requested_amount()
        if outcome == Proposal.Outcome.GRANTED:
            if amount is None or amount <= 0:
                raise ValidationFailed(_("Ange beviljat belopp."))
            if amount > requested:
                raise ValidationFailed(
                    _("Beviljat belopp kan inte överstiga sökt belopp (%(requested)s kr).") % {"requested": requested}
                )
            if amount < requested and not conditions.strip():
                raise ValidationFailed(_("Ett delvis beviljande ska ange villkor för det lägre beloppet."))
        elif outcome == Proposal.Outcome.REPAYMENT:
            if amount is None or amount <= 0:
                raise ValidationFailed(_("Ange belopp att återkräva."))
        else:
            amount = None
        proposal = Proposal.objects.create(
            application=application,
            kind=kind,
            outcome=outcome,
            amount=amount,
            reasons=reasons.strip(),
            conditions=conditions.strip(),
            proposed_by=actor,
        )
        payload = {"proposal": proposal.pk, "kind": kind, "outcome": outcome, "amount": amount}
        if kind == Proposal.Kind.DECISION:
            transition(actor=actor, application=application, name="propose_decision", payload=payload)
        else:
            journal_append(
                actor=actor,
                case=application.case,
                action=f"propose_{kind}",
                from_state=application.status,
                to_state=application.status,
                payload=payload,
            )
        return proposal


def _proposal_for_decider(actor, application, kind: str) -> Proposal:
    require_role(actor, Role.DECISION_MAKER)
    require_no_conflict(actor, application)
    proposal = open_proposal(application, kind)
    if proposal is None or application.status not in PROPOSAL_STATES[kind] | {Status.DECISION_PROPOSED}:
        raise TransitionNotAllowed(_("Det finns inget förslag att besluta om i ärendet."))
    if proposal.proposed_by_id == actor.pk:
        raise NotAllowed(
            _("Du har själv föredragit förslaget och får inte besluta i ärendet (fyraögonsprincipen)."),
            code=ErrorCode.FOUR_EYES,
        )
    return proposal


def _record_decision(*, actor, application, proposal: Proposal, outcome: str, corrects=None) -> Decision:
    decision = Decision.objects.create(
        application=application,
        outcome=outcome,
        amount=proposal.amount,
        reasons=proposal.reasons,
        conditions=proposal.conditions,
        decided_by=actor,
        presented_by=proposal.proposed_by,
        decided_at=timezone.now(),
        corrects=corrects,
    )
    proposal.is_open = False
    proposal.save(update_fields=["is_open"])
    diarium_entry_add(
        actor=actor,
        case=application.case,
        direction=DiariumEntry.Direction.OUTGOING,
        counterpart=application.organisation.name,
        description=f"Beslut: {decision.get_outcome_display()}",
    )
    amount_line = f"Belopp: {decision.amount} kr.\n" if decision.amount else ""
    conditions_line = f"Villkor: {decision.conditions}\n" if decision.conditions else ""
    notify_applicant(
        application=application,
        kind="decision",
        subject=f"Beslut: {decision.get_outcome_display()}",
        body=(
            f"Brå har den {formats.date_format(timezone.localtime(decision.decided_at), 'DATE_FORMAT')} "
            f"fattat beslut i ärendet ”{application.title}”: {decision.get_outcome_display()}.\n"
            f"{amount_line}{conditions_line}Skäl: {decision.reasons}\n\n"
            f"Beslutet har fattats av {actor.get_full_name() or actor.get_username()} efter föredragning av "
            f"{proposal.proposed_by.get_full_name() or proposal.proposed_by.get_username()}.\n\n{APPEAL_NOTICE}"
        ),
    )
    return decision


def application_decide(*, actor, application) -> Decision:
    """Decide on the open decision proposal: grant (fully or partly) or reject."""
    with transaction.atomic():
        application = lock_application(application)
        if application.status != Status.DECISION_PROPOSED:
            raise TransitionNotAllowed(
                _("Ärendet har inget beslutsförslag att besluta om (status ”%(status)s”). Någon kan redan ha beslutat.")
                % {"status": application.get_status_display()}
            )
        proposal = _proposal_for_decider(actor, application, Proposal.Kind.DECISION)
        granted = proposal.outcome == Proposal.Outcome.GRANTED
        outcome = Decision.Outcome.GRANTED if granted else Decision.Outcome.REJECTED
        decision = _record_decision(actor=actor, application=application, proposal=proposal, outcome=outcome)
        transition(
            actor=actor,
            application=application,
            name="grant" if granted else "reject",
            action="decide",
            payload={"decision": decision.pk, "outcome": outcome, "amount": decision.amount, "presented_by": proposal.proposed_by_id},
        )
        if not granted:
            application.case.closed_at = timezone.now()
            application.case.save(update_fields=["closed_at"])
        return decision


def application_dismiss(*, actor, application) -> Decision:
    """Dismiss on formal grounds (late, ineligible) on the case officer's proposal."""
    with transaction.atomic():
        application = lock_application(application)
        proposal = _proposal_for_decider(actor, application, Proposal.Kind.DISMISSAL)
        decision = _record_decision(
            actor=actor, application=application, proposal=proposal, outcome=Decision.Outcome.DISMISSED
        )
        transition(
            actor=actor,
            application=application,
            name="dismiss",
            payload={"decision": decision.pk, "outcome": decision.outcome},
        )
        application.case.closed_at = timezone.now()
        application.case.save(update_fields=["closed_at"])
        return decision


def application_return_proposal(*, actor, application, comment: str) -> Proposal:
    """The decision maker sends the open proposal back to the case officer."""
    if not comment.strip():
        raise ValidationFailed(_("Skriv vad som behöver arbetas om."))
    with transaction.atomic():
        application = lock_application(application)
        proposal = open_proposal(application)
        if proposal is None:
            raise TransitionNotAllowed(_("Det finns inget förslag att återremittera."))
        proposal = _proposal_for_decider(actor, application, proposal.kind)
        proposal.is_open = False
        proposal.save(update_fields=["is_open"])
        payload = {"proposal": proposal.pk, "comment": comment.strip()}
        if proposal.kind == Proposal.Kind.DECISION:
            transition(actor=actor, application=application, name="return_for_rework", payload=payload)
        else:
            journal_append(
                actor=actor,
                case=application.case,
                action=f"return_{proposal.kind}",
                from_state=application.status,
                to_state=application.status,
                payload=payload,
            )
        return proposal
