"""Proposals (föredragning) and decisions. The door has checked who may act (roles, jäv,
four eyes: the decider took no part in the assessment and is not the proposer)."""

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenden.actors import Actor
from arenden.errors import TransitionNotAllowed, ValidationFailed
from arenden.formatting import day, money
from arenden.models import DiariumEntry

from ..events import Event
from ..letters import appeal_notice
from ..models import Decision, Proposal
from ..models.application import Status
from .common import diarise, notify_applicant, record, require_door, transition

# Which proposal may be put in which application state, and the event that records it.
PROPOSAL_STATES: dict[str, set[str]] = {
    Proposal.Kind.DECISION: {Status.IN_ASSESSMENT},
    Proposal.Kind.DISMISSAL: {Status.IN_REVIEW},
    Proposal.Kind.REPAYMENT: {Status.REPORT_REVIEW, Status.IN_PROGRESS},
    Proposal.Kind.WAIVER: {Status.REPAYMENT_CLAIMED},
}
PROPOSAL_EVENTS: dict[str, Event] = {
    Proposal.Kind.DECISION: Event.PROPOSE_DECISION,
    Proposal.Kind.DISMISSAL: Event.PROPOSE_DISMISSAL,
    Proposal.Kind.REPAYMENT: Event.PROPOSE_REPAYMENT,
    Proposal.Kind.WAIVER: Event.PROPOSE_WAIVER,
}
KIND_OUTCOMES: dict[str, set[str]] = {
    Proposal.Kind.DECISION: {Proposal.Outcome.GRANTED, Proposal.Outcome.REJECTED},
    Proposal.Kind.DISMISSAL: {Proposal.Outcome.DISMISSED},
    Proposal.Kind.REPAYMENT: {Proposal.Outcome.REPAYMENT},
    Proposal.Kind.WAIVER: {Proposal.Outcome.WAIVER},
}

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
    """The föredragande presents a proposal. A decision proposal moves the application to
    decision_proposed; the other kinds leave its state for the decider."""
    require_door()
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
                _("Beviljat belopp kan inte överstiga sökt belopp (%(requested)s).") % {"requested": money(requested)}
            )
        if amount < requested and not conditions.strip():
            raise ValidationFailed(_("Ett delvis beviljande ska ange villkor för det lägre beloppet."))
    elif outcome == Proposal.Outcome.REPAYMENT:
        if amount is None or amount <= 0:
            raise ValidationFailed(_("Ange belopp att återkräva."))
    elif outcome == Proposal.Outcome.WAIVER:
        repayment = application.repayments.filter(status="claimed").first()
        amount = repayment.amount if repayment else None
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
    event = PROPOSAL_EVENTS[kind]
    payload = {"proposal": proposal.pk, "kind": kind, "outcome": outcome, "amount": amount}
    if kind == Proposal.Kind.DECISION:
        transition(actor=actor, application=application, event=event, payload=payload)
    else:
        record(actor=actor, application=application, event=event, payload=payload)
    return proposal


def proposal_for_decider(application, kind: str) -> Proposal:
    proposal = open_proposal(application, kind)
    if proposal is None or application.status not in PROPOSAL_STATES[kind] | {Status.DECISION_PROPOSED}:
        raise TransitionNotAllowed(_("Det finns inget förslag att besluta om i ärendet. Någon kan redan ha beslutat."))
    return proposal


def record_decision(*, actor: Actor, application, proposal: Proposal, outcome: str, corrects=None) -> Decision:
    """The decision as sent (Myndighetsförordningen 21 §): who decided, who presented."""
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
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.OUTGOING, description=f"Beslut: {decision.get_outcome_display()}")
    amount_line = f"Belopp: {money(decision.amount, language='sv')}.\n" if decision.amount else ""
    conditions_line = f"Villkor: {decision.conditions}\n" if decision.conditions else ""
    notify_applicant(
        application=application,
        kind="decision",
        subject=f"Beslut: {decision.get_outcome_display()}",
        body=(
            f"Brå har den {day(decision.decided_at, language='sv')} "
            f"fattat beslut i ärendet ”{application.title}”: {decision.get_outcome_display()}.\n"
            f"{amount_line}{conditions_line}Skäl: {decision.reasons}\n\n"
            f"Beslutet har fattats av {actor.get_full_name() or actor.get_username()} efter föredragning av "
            f"{proposal.proposed_by.get_full_name() or proposal.proposed_by.get_username()}.\n\n{appeal_notice('sv')}"
        ),
    )
    return decision


def application_decide(*, actor: Actor, application) -> Decision:
    """Decide on the open decision proposal: grant (fully or partly) or reject."""
    require_door()
    if application.status != Status.DECISION_PROPOSED:
        raise TransitionNotAllowed(
            _("Ärendet har inget beslutsförslag att besluta om (status ”%(status)s”). Någon kan redan ha beslutat.")
            % {"status": application.get_status_display()}
        )
    proposal = proposal_for_decider(application, Proposal.Kind.DECISION)
    granted = proposal.outcome == Proposal.Outcome.GRANTED
    outcome = Decision.Outcome.GRANTED if granted else Decision.Outcome.REJECTED
    decision = record_decision(actor=actor, application=application, proposal=proposal, outcome=outcome)
    transition(
        actor=actor,
        application=application,
        event=Event.DECIDE,
        granted=granted,
        payload={
            "decision": decision.pk,
            "outcome": outcome,
            "amount": decision.amount,
            "presented_by": proposal.proposed_by_id,
        },
    )
    return decision


def application_dismiss(*, actor: Actor, application) -> Decision:
    """Dismiss on formal grounds (late, ineligible) on the case officer's proposal."""
    require_door()
    proposal = proposal_for_decider(application, Proposal.Kind.DISMISSAL)
    decision = record_decision(
        actor=actor, application=application, proposal=proposal, outcome=Decision.Outcome.DISMISSED
    )
    transition(
        actor=actor,
        application=application,
        event=Event.DISMISS,
        payload={"decision": decision.pk, "outcome": decision.outcome, "presented_by": proposal.proposed_by_id},
    )
    return decision


def application_return_proposal(*, actor: Actor, application, comment: str) -> Proposal:
    """The decision maker sends the open proposal back to its author."""
    require_door()
    if not comment.strip():
        raise ValidationFailed(_("Skriv vad som behöver arbetas om."))
    proposal = open_proposal(application)
    if proposal is None:
        raise TransitionNotAllowed(_("Det finns inget förslag att återremittera."))
    proposal = proposal_for_decider(application, proposal.kind)
    proposal.is_open = False
    proposal.save(update_fields=["is_open"])
    payload = {"proposal": proposal.pk, "kind": proposal.kind, "comment": comment.strip()}
    if proposal.kind == Proposal.Kind.DECISION:
        transition(actor=actor, application=application, event=Event.RETURN_PROPOSAL, payload=payload)
    else:
        record(actor=actor, application=application, event=Event.RETURN_PROPOSAL, payload=payload)
    return proposal
