"""Proposals (föredragning) and decisions. The door has checked who may act (roles, jäv,
four eyes: the decider took no part in the assessment and is not the proposer)."""

import re
from decimal import Decimal

from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from arenden.actors import Actor
from arenden.errors import TransitionNotAllowed, ValidationFailed
from arenden.formatting import money
from arenden.models import DiariumEntry, JournalEvent
from arenden.services import conflict_barred_user_ids

from ..events import Event
from ..letters import appeal_notice
from ..models import Decision, Proposal
from ..models.application import Status
from .clocks import demands_answered_by_decision
from .common import diarise, notify_applicant, record, require_door, transition
from .letters import letter_queue

# Which proposal may be put in which application state, and the event that records it.
PROPOSAL_STATES: dict[str, set[str]] = {
    Proposal.Kind.DECISION: {Status.IN_ASSESSMENT},
    Proposal.Kind.DISMISSAL: {Status.IN_REVIEW},
    Proposal.Kind.REPAYMENT: {Status.REPORT_REVIEW, Status.IN_PROGRESS},
    Proposal.Kind.WAIVER: {Status.REPAYMENT_CLAIMED},
    # FL 37 §: after a decision (bidrag.services.reconsiderations says which may change).
    Proposal.Kind.RECONSIDERATION: {Status.GRANTED, Status.REJECTED, Status.DISMISSED},
}
PROPOSAL_EVENTS: dict[str, Event] = {
    Proposal.Kind.DECISION: Event.PROPOSE_DECISION,
    Proposal.Kind.DISMISSAL: Event.PROPOSE_DISMISSAL,
    Proposal.Kind.REPAYMENT: Event.PROPOSE_REPAYMENT,
    Proposal.Kind.WAIVER: Event.PROPOSE_WAIVER,
    Proposal.Kind.RECONSIDERATION: Event.PROPOSE_RECONSIDERATION,
}
KIND_OUTCOMES: dict[str, set[str]] = {
    Proposal.Kind.DECISION: {Proposal.Outcome.GRANTED, Proposal.Outcome.REJECTED},
    Proposal.Kind.DISMISSAL: {Proposal.Outcome.DISMISSED},
    Proposal.Kind.REPAYMENT: {Proposal.Outcome.REPAYMENT},
    Proposal.Kind.WAIVER: {Proposal.Outcome.WAIVER},
    Proposal.Kind.RECONSIDERATION: {Proposal.Outcome.GRANTED, Proposal.Outcome.REJECTED, Proposal.Outcome.DISMISSED},
}

def _substance(reasons: str, phrases) -> int:
    """How many characters of ``reasons`` say something: letters and digits, not counting
    the call's stock phrases (case-insensitive)."""
    text = reasons
    for phrase in sorted((p for p in phrases or () if p.strip()), key=len, reverse=True):
        text = re.sub(re.escape(phrase.strip()), " ", text, flags=re.IGNORECASE)
    return len(re.sub(r"[\W_]+", "", text))


def is_adverse(*, kind: str, outcome: str, amount: Decimal | None, requested: Decimal) -> bool:
    """Whether the proposal goes against the applicant, wholly or in part."""
    if kind == Proposal.Kind.WAIVER:
        return False
    if outcome == Proposal.Outcome.GRANTED:
        return amount is not None and amount < requested
    return True


def check_reasons(*, call, reasons: str) -> None:
    """FL 32 §: an adverse decision gives the real reasons. JO has criticised refusals given
    with stock phrases only, so the reasons must reach the call's minimum without them."""
    if _substance(reasons, call.boilerplate_phrases) < call.reasons_min_length:
        raise ValidationFailed(
            _("Skälen räcker inte för ett beslut som går sökanden emot: skriv vad i ansökan som avgjorde, "
              "minst %(min)s tecken utöver standardformuleringar som ”%(example)s” (FL 32 §).")
            % {"min": call.reasons_min_length, "example": (call.boilerplate_phrases or ["…"])[0]},
            details={"field": "reasons"},
        )


def check_communicated(*, application, communication_waived: str) -> None:
    """FL 25 §: before a decision that goes against the applicant, the material is
    communicated with a deadline, unless that is plainly unnecessary; then the proposer says why."""
    communicated = JournalEvent.objects.filter(case_id=application.case_id, action=Event.COMMUNICATE).exists()
    if not communicated and not communication_waived.strip():
        raise ValidationFailed(
            _("Förslaget går sökanden emot: kommunicera underlaget först (FL 25 §), eller ange varför det är "
              "uppenbart obehövligt."),
            details={"field": "communication_waived"},
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
    communication_waived: str = "",
    detriment_ground: str = "",
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
    if is_adverse(kind=kind, outcome=outcome, amount=amount, requested=requested):
        check_reasons(call=application.call, reasons=reasons)
        if kind == Proposal.Kind.DECISION:
            # Only the assessment step offers the communication (FL 25 §) to take first.
            check_communicated(application=application, communication_waived=communication_waived)
    proposal = Proposal.objects.create(
        application=application,
        kind=kind,
        outcome=outcome,
        amount=amount,
        reasons=reasons.strip(),
        conditions=conditions.strip(),
        communication_waived=communication_waived.strip(),
        detriment_ground=detriment_ground,
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


def record_decision(
    *, actor: Actor, application, proposal: Proposal, outcome: str, corrects=None, participants=(),
    reconsiders: Decision | None = None, detriment_ground: str = "",
) -> Decision:
    """The decision as sent (Myndighetsförordningen 21 §): who decided, who presented, who
    else took part in the final handling; on reconsideration (FL 37 §) the decision it changes."""
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
        reconsiders=reconsiders,
        detriment_ground=detriment_ground,
    )
    if participants:
        decision.participants.set(participants)
    # FL 12 §: a decision on the case answers a demand that it be decided.
    demands_answered_by_decision(application=application)
    proposal.is_open = False
    proposal.save(update_fields=["is_open"])
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.OUTGOING,
            kind=DiariumEntry.Kind.DECISION,
            description=(f"Beslut efter omprövning (37 § förvaltningslagen): {decision.get_outcome_display()}"
                         if reconsiders else f"Beslut: {decision.get_outcome_display()}"))
    # The letter is rendered and stored after this commits, not under the door's locks.
    letter_queue(decision)
    notify_applicant(
        application=application,
        kind="decision",
        context={
            "decided_at": decision.decided_at,
            # Lazy: each recipient reads the outcome and the appeal notice in their own language.
            "outcome": Decision.Outcome(decision.outcome).label,
            "amount": decision.amount,
            "conditions": decision.conditions,
            "reasons": decision.reasons,
            "decided_by": actor.get_full_name() or actor.get_username(),
            "presented_by": proposal.proposed_by.get_full_name() or proposal.proposed_by.get_username(),
            "appeal_notice": lazy(appeal_notice, str)(application.call.scheme),
            # FL 37 §: the decision this one changes on reconsideration.
            "reconsidered_decided_at": reconsiders.decided_at if reconsiders else None,
        },
    )
    return decision


def participants_check(*, actor: Actor, application, proposal: Proposal, participants) -> list:
    """MF 21 §: who else took part in the final handling. Not the decider or the presenter
    (recorded as such), and never someone barred by jäv (FL 16 §)."""
    people = list(participants or ())
    barred = conflict_barred_user_ids(case=application.case)
    for person in people:
        if person.pk in barred:
            raise ValidationFailed(
                _("%(name)s har anmält jäv i ärendet och kan inte delta i handläggningen (FL 16 §).")
                % {"name": person.get_full_name() or person.get_username()},
                details={"field": "participants"},
            )
    return [p for p in people if p.pk not in (actor.pk, proposal.proposed_by_id)]


def application_decide(*, actor: Actor, application, participants=()) -> Decision:
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
    people = participants_check(actor=actor, application=application, proposal=proposal, participants=participants)
    decision = record_decision(
        actor=actor, application=application, proposal=proposal, outcome=outcome, participants=people
    )
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
            "participants": [p.pk for p in people],
        },
    )
    return decision


def application_dismiss(*, actor: Actor, application, participants=()) -> Decision:
    """Dismiss on formal grounds (late, ineligible) on the case officer's proposal."""
    require_door()
    proposal = proposal_for_decider(application, Proposal.Kind.DISMISSAL)
    people = participants_check(actor=actor, application=application, proposal=proposal, participants=participants)
    decision = record_decision(
        actor=actor, application=application, proposal=proposal, outcome=Decision.Outcome.DISMISSED,
        participants=people,
    )
    transition(
        actor=actor,
        application=application,
        event=Event.DISMISS,
        payload={"decision": decision.pk, "outcome": decision.outcome, "presented_by": proposal.proposed_by_id,
                 "participants": [p.pk for p in people]},
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
