"""Reconsidering a sent decision (omprövning, FL 37–39 §§): a new decision that refers to
the old one, which stays as it was sent (the database refuses to change it). Unlike a
correction (FL 36 §), it may change what was decided: the outcome and the amount.

How one begins: the applicant asks (their firmatecknare, on the application's page), staff
register a letter asking, a case officer takes it up on Brå's own initiative, or an appeal
comes in (FL 38 §: before forwarding it, Brå considers whether the decision is obviously
wrong and can be changed quickly, simply and without detriment to anyone). A case officer
then proposes the new decision, or answers that the decision stands; a decision maker who
took no part in the assessment decides the proposal (four eyes, at the door).

The rules:
- a grant is lowered only on a ground of FL 37 § second paragraph, chosen and stated;
- reasons as for any decision that goes against the applicant (FL 32 §, decisions.check_reasons);
- once an appeal of the decision has been forwarded, the court has it: Brå changes nothing;
- FL 39 §: an appeal of the changed decision, not yet forwarded, covers the new one;
- FL 25 §: a proposal to the applicant's detriment is communicated to them with a deadline
  when it is made, and is not decided until they have answered or the deadline has passed.

What this build does not do, and refuses with a message: withdraw a grant entirely, change a
grant whose disbursement is prepared (stop it first) or paid (a repayment claim instead).

The proposal and the decision change the flow (a rejected or dismissed case granted on
reconsideration reopens and goes on to payment), so they run through workflows.door; the
request and the answer that the decision stands change no state and are entered beside the
flow (workflows.reconsiderations).
"""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from arenden.actors import Actor
from arenden.calendar import stockholm_today, working_deadline
from arenden.errors import NotFound, TransitionNotAllowed, ValidationFailed
from arenden.formatting import day, money
from arenden.models import DiariumEntry

from ..events import Event
from ..models import (
    Appeal,
    Application,
    Decision,
    DetrimentGround,
    Disbursement,
    Proposal,
    Reconsideration,
    ReconsiderationCommunication,
)
from ..models.application import Status
from .common import diarise, notify_applicant, record, record_beside_flow, require_door, transition
from .decisions import participants_check, proposal_create, proposal_for_decider, record_decision

# The decisions a reconsideration may change, and what each may become here.
CHANGES: dict[str, set[str]] = {
    Decision.Outcome.GRANTED: {Proposal.Outcome.GRANTED},
    Decision.Outcome.REJECTED: {Proposal.Outcome.GRANTED, Proposal.Outcome.REJECTED},
    Decision.Outcome.DISMISSED: {Proposal.Outcome.GRANTED, Proposal.Outcome.DISMISSED},
}
OUTCOMES: dict[str, str] = {
    Proposal.Outcome.GRANTED: Decision.Outcome.GRANTED,
    Proposal.Outcome.REJECTED: Decision.Outcome.REJECTED,
    Proposal.Outcome.DISMISSED: Decision.Outcome.DISMISSED,
}


def decision_in_force(application: Application) -> Decision | None:
    """The decision the case rests on: its latest grant, rejection or dismissal that no
    correction or reconsideration has replaced."""
    return (
        application.decisions.filter(outcome__in=list(CHANGES), corrections__isnull=True,
                                     reconsidered_by__isnull=True)
        .order_by("-decided_at").first()
    )


def open_reconsideration(application: Application) -> Reconsideration | None:
    return application.reconsiderations.filter(state=Reconsideration.State.OPEN).first()


def _appeals_of(decision: Decision):
    """The appeals of the decision, and those deemed to cover it (FL 39 §)."""
    return Appeal.objects.filter(Q(decision=decision) | Q(covers=decision))


def check_reconsiderable(application: Application, decision: Decision | None) -> Decision:
    """Refuse, in words, what may not be reconsidered here; the decision otherwise."""
    if decision is None:
        raise TransitionNotAllowed(_("Det finns inget beslut att ompröva i ärendet."))
    forwarded = _appeals_of(decision).filter(state=Appeal.State.FORWARDED).first()
    if forwarded is not None:
        raise TransitionNotAllowed(
            _("Överklagandet av beslutet är överlämnat till %(court)s. Domstolen prövar nu beslutet, och Brå "
              "ändrar det inte längre.") % {"court": forwarded.court})
    if decision.outcome == Decision.Outcome.GRANTED:
        if application.status != Status.GRANTED:
            raise TransitionNotAllowed(
                _("Bidraget är redan utbetalt, och beslutet ändras inte längre genom omprövning här. Ett lägre "
                  "belopp tas i stället ut genom återkrav (förslag om återkrav)."))
        if application.disbursements.filter(
                status__in=[Disbursement.Status.PLANNED, Disbursement.Status.ATTESTED]).exists():
            raise TransitionNotAllowed(
                _("En utbetalning av det beviljade beloppet är redan förberedd. Ekonomi stoppar den först "
                  "(Stoppa utbetalningen); därefter kan beslutet omprövas och utbetalningen förberedas på nytt."))
    return decision


def is_reconsiderable(application: Application) -> bool:
    """Whether the pages should offer a reconsideration at all (the service decides)."""
    try:
        check_reconsiderable(application, decision_in_force(application))
    except TransitionNotAllowed:
        return False
    return True


def is_detriment(old: Decision, *, outcome: str, amount: Decimal | None) -> bool:
    """Whether the change goes against the party: a grant lowered or withdrawn."""
    if old.outcome != Decision.Outcome.GRANTED:
        return False
    return outcome != Proposal.Outcome.GRANTED or (amount or Decimal(0)) < (old.amount or Decimal(0))


def _check_change(old: Decision, *, outcome: str, amount, reasons: str, conditions: str,
                  detriment_ground: str) -> str:
    """The FL 37 § rules on what the new decision may be; returns the ground to record."""
    if outcome not in CHANGES[old.outcome]:
        if old.outcome == Decision.Outcome.GRANTED:
            raise TransitionNotAllowed(
                _("Ett beviljat bidrag återkallas inte helt genom omprövning i Bidragsportalen: ompröva beloppet, "
                  "eller föreslå återkrav när bidraget är utbetalt."))
        raise ValidationFailed(
            _("Ett avslag omprövas till ett beviljande eller ett nytt avslag, en avvisning till ett beviljande eller "
              "en ny avvisning."), details={"field": "outcome"})
    if is_detriment(old, outcome=outcome, amount=amount):
        if detriment_ground not in DetrimentGround.values:
            raise ValidationFailed(
                _("Ändringen går sökanden emot. Ett gynnande beslut får bara ändras till sökandens nackdel på någon "
                  "av grunderna i 37 § andra stycket förvaltningslagen: välj den som gäller och redovisa den i "
                  "skälen."), details={"field": "detriment_ground"})
    else:
        detriment_ground = ""  # recorded only where the law asks for it
    same = (old.outcome == OUTCOMES.get(outcome) and old.amount == (amount if outcome == Proposal.Outcome.GRANTED else None)
            and old.reasons == reasons.strip() and old.conditions == conditions.strip())
    if same:
        raise ValidationFailed(
            _("Förslaget ändrar ingenting i beslutet. Står beslutet fast, svara sökanden det i stället."),
            details={"field": "reasons"})
    return detriment_ground


def _appeal_in(application: Application, appeal_id) -> Appeal:
    appeal = Appeal.objects.filter(pk=appeal_id, decision__application=application).first()
    if appeal is None:
        raise NotFound(_("Överklagandet finns inte i ärendet."))
    return appeal


def _check_communication_deadline(deadline: date | None) -> date:
    """FL 25 §: the applicant is given a set time to answer; after today, moved off a
    weekend or holiday as every deadline to the applicant is (lag 1930:173)."""
    if deadline is None:
        raise ValidationFailed(
            _("Ändringen går sökanden emot. Förslaget kommuniceras med sökanden innan det avgörs (25 § "
              "förvaltningslagen): ange till vilken dag sökanden kan yttra sig."),
            details={"field": "communication_deadline"})
    if deadline <= stockholm_today():
        raise ValidationFailed(_("Svarsfristen måste ligga efter dagens datum."),
                               details={"field": "communication_deadline"})
    return working_deadline(deadline)


def _communicated_text(old: Decision, proposal: Proposal, note: str) -> str:
    """What the applicant is told: the proposal as the decision maker will see it, in Swedish
    (the agency's document), with the officer's own words first."""
    amount = money(proposal.amount, language="sv")
    lines = [note.strip(), ""] if note.strip() else []
    with translation.override("sv"):
        lines += [
            f"Brå överväger att ändra beslutet {day(old.decided_at, language='sv')} till er nackdel "
            f"(37 § förvaltningslagen). Förslaget till nytt beslut:",
            f"Beslut: {Decision.Outcome(OUTCOMES[proposal.outcome]).label}" + (f", {amount}" if amount else ""),
            f"Grund för ändringen: {DetrimentGround(proposal.detriment_ground).label}",
            "", "Skäl:", proposal.reasons,
        ]
    if proposal.conditions:
        lines += ["", "Villkor:", proposal.conditions]
    return "\n".join(lines)


def _communicate(*, actor: Actor, application: Application, old: Decision, proposal: Proposal,
                 reconsideration: Reconsideration, deadline: date, note: str) -> ReconsiderationCommunication:
    """FL 25 §: the detrimental proposal sent to the applicant with the deadline to answer."""
    text = _communicated_text(old, proposal, note)
    communication = ReconsiderationCommunication.objects.create(
        reconsideration=reconsideration, proposal=proposal, text=text, deadline=deadline, sent_by=actor)
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.OUTGOING,
            kind=DiariumEntry.Kind.LETTER,
            description="Kommunicering enligt 25 § förvaltningslagen: förslag till ändrat beslut efter omprövning")
    record(actor=actor, application=application, event=Event.COMMUNICATE, payload={
        "proposal": proposal.pk, "reconsideration": str(reconsideration.pk), "communication": str(communication.pk),
        "deadline": deadline, "request": text})
    notify_applicant(application=application, kind="communication",
                     context={"deadline": deadline, "request_text": text})
    return communication


def reconsideration_propose(
    *, actor: Actor, application: Application, outcome: str, reasons: str, amount: Decimal | None = None,
    conditions: str = "", detriment_ground: str = "", why: str = "", appeal_id=None,
    communication_deadline: date | None = None, communication_text: str = "",
) -> Proposal:
    """A case officer proposes the decision in force changed (FL 37 §): on an open request,
    on an appeal (FL 38 §) or on Brå's initiative (`why` says what prompted it). A change to
    the applicant's detriment is communicated to them at once (FL 25 §), with the deadline
    `communication_deadline` and the officer's `communication_text` above the proposal."""
    require_door()
    old = check_reconsiderable(application, decision_in_force(application))
    ground = _check_change(old, outcome=outcome, amount=amount, reasons=reasons, conditions=conditions,
                           detriment_ground=detriment_ground)
    deadline = _check_communication_deadline(communication_deadline) if ground else None
    reconsideration = open_reconsideration(application)
    if reconsideration is None:  # not on a request: on an appeal or Brå's initiative
        appeal = _appeal_in(application, appeal_id) if appeal_id else None
        text = why.strip() or (appeal.summary if appeal else "")
        if not text:
            raise ValidationFailed(_("Skriv vad som föranleder omprövningen."), details={"field": "why"})
        reconsideration = Reconsideration.objects.create(
            application=application, decision=old, text=text, appeal=appeal, opened_by=actor,
            origin=Reconsideration.Origin.APPEAL if appeal else Reconsideration.Origin.INITIATIVE,
        )
    proposal = proposal_create(actor=actor, application=application, kind=Proposal.Kind.RECONSIDERATION,
                               outcome=outcome, reasons=reasons, amount=amount, conditions=conditions,
                               detriment_ground=ground)
    if deadline is not None:
        _communicate(actor=actor, application=application, old=old, proposal=proposal,
                     reconsideration=reconsideration, deadline=deadline, note=communication_text)
    return proposal


def open_communication(application: Application) -> ReconsiderationCommunication | None:
    """The communication of the reconsideration proposal now before the decision maker, if
    it still waits for the applicant's answer (unanswered, its deadline not past)."""
    communication = (ReconsiderationCommunication.objects
                     .filter(proposal__application=application, proposal__is_open=True).first())
    if communication is None or not communication.is_open(stockholm_today()):
        return None
    return communication


def check_communicated(old: Decision, proposal: Proposal) -> dict:
    """FL 25 §: a proposal that goes against the applicant is decided only once they have
    answered its communication or the deadline to answer has passed. What the journal
    records of it; refused in words otherwise."""
    if not is_detriment(old, outcome=proposal.outcome, amount=proposal.amount):
        return {}
    communication = ReconsiderationCommunication.objects.filter(proposal=proposal).first()
    if communication is None:
        raise TransitionNotAllowed(
            _("Förslaget går sökanden emot men har inte kommunicerats med sökanden (25 § förvaltningslagen). "
              "Återremittera det, så att handläggaren kan lägga det på nytt med en svarsfrist."))
    if communication.is_open(stockholm_today()):
        raise TransitionNotAllowed(
            _("Förslaget har kommunicerats med sökanden, som har till och med %(day)s på sig att yttra sig "
              "(25 § förvaltningslagen). Beslutet kan fattas när sökanden har svarat eller svarsfristen har gått ut.")
            % {"day": day(communication.deadline)})
    return {"communication": str(communication.pk), "communication_answered": communication.answered_at is not None,
            "communication_deadline": communication.deadline.isoformat()}


def application_reconsider(*, actor: Actor, application: Application, participants=()) -> Decision:
    """The decision maker decides the reconsideration as proposed: a new decision referring
    to the old one. A rejection or dismissal turned into a grant reopens the case (the flow
    goes on to payment); a grant changed before payment keeps its place."""
    require_door()
    proposal = proposal_for_decider(application, Proposal.Kind.RECONSIDERATION)
    reconsideration = open_reconsideration(application)
    # Again under the locks: an appeal may have been forwarded or a payment prepared since.
    old = check_reconsiderable(application, decision_in_force(application))
    if reconsideration is None:
        raise TransitionNotAllowed(_("Det finns ingen omprövning att besluta om i ärendet."))
    communicated = check_communicated(old, proposal)
    people = participants_check(actor=actor, application=application, proposal=proposal, participants=participants)
    decision = record_decision(actor=actor, application=application, proposal=proposal,
                               outcome=OUTCOMES[proposal.outcome], participants=people, reconsiders=old,
                               detriment_ground=proposal.detriment_ground)
    reconsideration.state, reconsideration.result = Reconsideration.State.CHANGED, decision
    reconsideration.closed_by, reconsideration.closed_at = actor, timezone.now()
    reconsideration.save(update_fields=["state", "result", "closed_by", "closed_at"])
    # FL 39 §: an appeal of the changed decision is deemed to cover the new one.
    covered = [str(pk) for pk in _appeals_of(old).filter(state=Appeal.State.REGISTERED).values_list("pk", flat=True)]
    Appeal.objects.filter(pk__in=covered).update(covers=decision)
    payload = {
        "decision": decision.pk, "reconsiders": old.pk, "reconsideration": reconsideration.pk,
        "outcome": decision.outcome, "amount": decision.amount, "detriment_ground": decision.detriment_ground,
        "presented_by": proposal.proposed_by_id, "participants": [p.pk for p in people], "appeals": covered,
        **communicated,
    }
    if decision.outcome == Decision.Outcome.GRANTED and application.status != Status.GRANTED:
        transition(actor=actor, application=application, event=Event.RECONSIDER, payload=payload)
    else:
        record(actor=actor, application=application, event=Event.RECONSIDER, payload=payload)
    return decision


# --- beside the flow: the request and the answer that the decision stands ---------------

def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("reconsiderations are entered inside workflows.reconsiderations' transaction, under its locks")


def reconsideration_request(
    *, actor: Actor, application: Application, text: str, received_on: date | None = None, by_letter: bool = False,
) -> Reconsideration:
    """The applicant asks Brå to reconsider the decision in force: on the application's page
    (the firmatecknare, `actor`), or by a letter staff register (`by_letter`, the day it came in)."""
    _require_transaction()
    old = check_reconsiderable(application, decision_in_force(application))
    if open_reconsideration(application) is not None:
        raise TransitionNotAllowed(_("Brå prövar redan om beslutet ska ändras. Ni får besked när prövningen är klar."))
    text = text.strip()
    received_on = received_on or stockholm_today()
    if not text:
        raise ValidationFailed(_("Skriv vad i beslutet som ska ändras och varför."), details={"field": "text"})
    if received_on > stockholm_today():
        raise ValidationFailed(_("Dagen då begäran kom in kan inte ligga i framtiden."),
                               details={"field": "received_on"})
    reconsideration = Reconsideration.objects.create(
        application=application, decision=old, origin=Reconsideration.Origin.REQUEST, text=text,
        received_on=received_on, requested_by=None if by_letter else actor, opened_by=actor,
    )
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.INCOMING,
            kind=DiariumEntry.Kind.LETTER,
            description=f"Begäran om omprövning av beslut {day(old.decided_at, language='sv')}")
    record_beside_flow(actor=actor, application=application, event=Event.REQUEST_RECONSIDERATION, payload={
        "reconsideration": str(reconsideration.pk), "decision": str(old.pk), "received_on": received_on.isoformat(),
        "by_letter": by_letter, "text": text,
    })
    return reconsideration


def reconsideration_comments(*, actor: Actor, application: Application, answer: str) -> ReconsiderationCommunication:
    """The applicant answers the communication of a proposal to change the decision to their
    detriment (FL 25 §). Taken while the proposal waits for its decision, also after the
    deadline: what the decision maker has not yet decided on is worth reading."""
    _require_transaction()
    communication = (ReconsiderationCommunication.objects.select_for_update(of=("self",))
                     .filter(proposal__application=application, proposal__is_open=True).first())
    if communication is None:
        raise TransitionNotAllowed(_("Brå väntar inte på något yttrande över ett förslag till ändrat beslut."))
    if communication.answered_at is not None:
        raise TransitionNotAllowed(_("Ert yttrande har redan kommit in till Brå."))
    answer = answer.strip()
    if not answer:
        raise ValidationFailed(_("Skriv ert yttrande."), details={"field": "answer"})
    communication.answer, communication.answered_by, communication.answered_at = answer, actor, timezone.now()
    communication.save(update_fields=["answer", "answered_by", "answered_at"])
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.INCOMING,
            kind=DiariumEntry.Kind.LETTER, description="Yttrande över förslag till ändrat beslut (25 § förvaltningslagen)")
    record_beside_flow(actor=actor, application=application, event=Event.RECEIVE_COMMENTS, payload={
        "communication": str(communication.pk), "proposal": str(communication.proposal_id), "answer": answer,
        "late": communication.deadline < stockholm_today()})
    return communication


def reconsideration_keep(*, actor: Actor, application: Application, answer: str) -> Reconsideration:
    """The open reconsideration ends without a new decision: the decision stands, and the
    applicant is told why."""
    _require_transaction()
    reconsideration = open_reconsideration(application)
    if reconsideration is None:
        raise TransitionNotAllowed(_("Det finns ingen pågående omprövning i ärendet."))
    if application.proposals.filter(is_open=True, kind=Proposal.Kind.RECONSIDERATION).exists():
        raise TransitionNotAllowed(_("Ett förslag om ändrat beslut väntar på beslutsfattaren: låt det avgöras "
                                     "eller återförvisas först."))
    answer = answer.strip()
    if not answer:
        raise ValidationFailed(_("Skriv varför beslutet står fast."), details={"field": "answer"})
    reconsideration.state, reconsideration.answer = Reconsideration.State.UNCHANGED, answer
    reconsideration.closed_by, reconsideration.closed_at = actor, timezone.now()
    reconsideration.save(update_fields=["state", "answer", "closed_by", "closed_at"])
    decided = day(reconsideration.decision.decided_at, language="sv")
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.OUTGOING,
            kind=DiariumEntry.Kind.LETTER, description=f"Svar på begäran om omprövning av beslut {decided}: beslutet står fast")
    record_beside_flow(actor=actor, application=application, event=Event.KEEP_DECISION, payload={
        "reconsideration": str(reconsideration.pk), "decision": str(reconsideration.decision_id), "answer": answer,
    })
    # Told by e-mail and notice only when they asked: Brå's own second look (on its
    # initiative, or on an appeal before forwarding it, FL 38 §) changes nothing for them.
    if reconsideration.origin == Reconsideration.Origin.REQUEST:
        notify_applicant(application=application, kind="reconsideration_kept",
                         context={"decided_at": reconsideration.decision.decided_at, "answer": answer})
    return reconsideration
