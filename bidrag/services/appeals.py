"""Appeals (överklagande) of Brå's decisions: registered, checked for time, forwarded or
dismissed (FL 44–45 §§). Even where the ordinance says a decision may not be appealed, an
appeal is registered and forwarded, never dropped: the court decides whether it can be
heard (HFD 2016 ref. 49).

Not a step of the application's flow (its status does not change, the case may be
closed), but entered the same way: workflows.appeals locks the application and its case,
applies the policy and calls these, which journal, diarise and write the outbox in the
caller's transaction.

Forwarding sends the court a letter (översändelse, bidrag.appeal_letters). It is written and
stored before the locks are taken, as an upload is (no network I/O under a row lock), under
a key of its own that nothing overwrites; under the locks the forwarding checks that what
the letter says still holds, records it and puts its SHA-256 in the forward_appeal event.
A forwarding that fails removes its object again.
"""

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenden.actors import Actor
from arenden.calendar import stockholm_today, working_deadline
from arenden.errors import Conflict, NotAllowed, NotFound, ServiceError, TransitionNotAllowed, ValidationFailed
from arenden.formatting import day
from arenden.models import DiariumEntry
from arenden.storage import StoredUpload, document_put, document_read, upload_discard

from ..appeal_letters import forwarding_documents, forwarding_letter_pdf
from ..events import Event
from ..models import Appeal, AppealLetter, Application, Decision, Reconsideration
from .common import diarise, notify_applicant, record_beside_flow
from .letters import letter_issue, letter_queue

logger = logging.getLogger(__name__)

LETTER_PREFIX = "appeal-letters"

# FL 44 §: three weeks from the day the party was notified of the decision.
APPEAL_PERIOD = timedelta(weeks=3)


def appeal_deadline(notified_on: date) -> date:
    """The last day an appeal may come in; a weekend or holiday moves it to the next working
    day (lag (1930:173) om beräkning av lagstadgad tid)."""
    return working_deadline(notified_on + APPEAL_PERIOD)


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("appeals are handled inside workflows.appeals' transaction, under its locks")


def appeal_register(
    *, actor: Actor, application: Application, decision_id, received_on: date, notified_on: date | None,
    summary: str,
) -> Appeal:
    """Register an appeal as it came in: the day it reached Brå, the day the applicant was
    notified of the decision (the decision's day when not known otherwise) and what it asks."""
    _require_transaction()
    decision = application.decisions.filter(pk=decision_id).exclude(outcome=Decision.Outcome.APPEAL_DISMISSED).first()
    if decision is None:
        raise NotFound(_("Beslutet finns inte i ärendet."))
    decided_on = timezone.localdate(decision.decided_at)
    notified_on = notified_on or decided_on
    problems: dict[str, list] = {}
    if not summary.strip():
        problems["summary"] = [_("Skriv kort vad överklagandet gäller.")]
    if received_on > stockholm_today():
        problems["received_on"] = [_("Dagen då överklagandet kom in kan inte ligga i framtiden.")]
    if notified_on < decided_on:
        problems["notified_on"] = [_("Sökanden kan inte ha fått del av beslutet före beslutsdagen %(day)s.")
                                   % {"day": day(decision.decided_at)}]
    if problems:
        field, messages = next(iter(problems.items()))
        raise ValidationFailed(messages[0], details={"field": field, "fields": problems})
    appeal = Appeal.objects.create(
        decision=decision, received_on=received_on, notified_on=notified_on, deadline=appeal_deadline(notified_on),
        summary=summary.strip(), registered_by=actor,
    )
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.INCOMING,
            description=f"Överklagande av beslut {day(decision.decided_at, language='sv')}",
            kind=DiariumEntry.Kind.LETTER)
    record_beside_flow(actor=actor, application=application, event=Event.REGISTER_APPEAL, payload={
        "appeal": str(appeal.pk), "decision": str(decision.pk), "received_on": received_on.isoformat(),
        "notified_on": notified_on.isoformat(), "deadline": appeal.deadline.isoformat(), "timely": appeal.timely,
    })
    return appeal


def _open_appeal(application: Application, appeal_id) -> Appeal:
    appeal = (
        Appeal.objects.select_for_update(of=("self",)).select_related("decision")
        .filter(pk=appeal_id, decision__application=application).first()
    )
    if appeal is None:
        raise NotFound(_("Överklagandet finns inte i ärendet."))
    if appeal.state != Appeal.State.REGISTERED:
        raise TransitionNotAllowed(_("Överklagandet är redan hanterat: %(state)s.") % {"state": appeal.get_state_display()})
    return appeal


@dataclass(frozen=True)
class ForwardingLetter:
    """An översändelse stored before the locks, and what it was written on."""

    id: uuid.UUID
    key: str
    sha256: str
    size: int
    court: str
    basis: tuple
    documents: list


class ForwardingLetterAltered(ServiceError):
    """The stored översändelse no longer has the SHA-256 the journal recorded for it."""

    http_status = 500

    def __init__(self):
        super().__init__(_("Översändelsen i arkivet stämmer inte med den som registrerades. Kontakta Brå."))


def _check_forwardable(appeal: Appeal) -> None:
    if appeal.state != Appeal.State.REGISTERED:
        raise TransitionNotAllowed(_("Överklagandet är redan hanterat: %(state)s.") % {"state": appeal.get_state_display()})
    if not appeal.timely:
        raise TransitionNotAllowed(
            _("Överklagandet kom in efter sista dagen %(day)s: det avvisas av en beslutsfattare och lämnas inte över "
              "(FL 45 §).") % {"day": day(appeal.deadline)})


def _basis(appeal: Appeal) -> tuple:
    """What the letter says that may change before the locks: the new decision the appeal
    covers (FL 39 §), whether a reconsideration kept the decision, the diarium it lists."""
    kept = Reconsideration.objects.filter(decision=appeal.decision, state=Reconsideration.State.UNCHANGED).exists()
    diarium = DiariumEntry.objects.filter(case_id=appeal.decision.application.case_id)
    return (appeal.covers_id, kept, diarium.count(), str(diarium.order_by("-created_at").values_list("pk", flat=True).first()))


def appeal_letter_prepare(*, actor: Actor, application: Application, appeal_id, court: str = "") -> ForwardingLetter:
    """Write the översändelse of a timely appeal and store it (PDF/A), before any lock and
    outside any transaction. The caller has checked that `actor` may forward (the policy)."""
    appeal = (Appeal.objects.select_related("decision__application__case", "decision__application__organisation",
                                            "decision__application__call__scheme", "covers")
              .filter(pk=appeal_id, decision__application=application).first())
    if appeal is None:
        raise NotFound(_("Överklagandet finns inte i ärendet."))
    _check_forwardable(appeal)
    court = court.strip() or settings.APPEAL_COURT
    for decision in (appeal.decision, appeal.covers):
        if decision is not None:
            letter_issue(decision_id=decision.pk)  # the decision's letter goes with it: issued if not yet
    basis = _basis(appeal)
    diarium = list(DiariumEntry.objects.filter(case_id=application.case_id).order_by("entry_date", "created_at"))
    content = forwarding_letter_pdf(appeal=appeal, court=court, actor=actor, covers=appeal.covers, kept=basis[1],
                                    diarium=diarium)
    letter_id = uuid.uuid4()
    key = f"{LETTER_PREFIX}/{application.case_id}/{letter_id}.pdf"
    document_put(key=key, content=content, content_type="application/pdf")
    return ForwardingLetter(id=letter_id, key=key, sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                            court=court, basis=basis,
                            documents=[d["title"] for d in forwarding_documents(appeal, appeal.covers)])


def appeal_letter_discard(letter: ForwardingLetter) -> None:
    """Remove a stored översändelse no forwarding recorded (best effort, after the transaction)."""
    upload_discard(StoredUpload(letter.key, "", "application/pdf", letter.size, ""))


def appeal_forward(*, actor: Actor, application: Application, appeal_id, letter: ForwardingLetter) -> Appeal:
    """FL 45 §: an appeal that came in time goes to the court with the case's documents and
    the översändelse `letter` (appeal_letter_prepare), recorded here under the locks."""
    _require_transaction()
    appeal = _open_appeal(application, appeal_id)
    _check_forwardable(appeal)
    if _basis(appeal) != letter.basis:
        raise Conflict(_("Ärendet ändrades medan översändelsen skrevs. Försök igen."))
    appeal.court = letter.court
    appeal.state, appeal.handled_by, appeal.handled_at = Appeal.State.FORWARDED, actor, timezone.now()
    appeal.save(update_fields=["court", "state", "handled_by", "handled_at"])
    AppealLetter.objects.create(id=letter.id, appeal=appeal, file=letter.key, sha256=letter.sha256, size=letter.size)
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.OUTGOING,
            description=f"Överklagandet med ärendets handlingar överlämnat till {appeal.court} (översändelse)",
            kind=DiariumEntry.Kind.LETTER)
    record_beside_flow(actor=actor, application=application, event=Event.FORWARD_APPEAL, payload={
        "appeal": str(appeal.pk), "court": appeal.court, "letter": str(letter.id), "sha256": letter.sha256,
        "size": letter.size, "documents": letter.documents, "received_on": appeal.received_on.isoformat(),
        "deadline": appeal.deadline.isoformat(), "covers": str(appeal.covers_id) if appeal.covers_id else None})
    notify_applicant(application=application, kind="appeal_forwarded",
                     context={"decided_at": appeal.decision.decided_at, "court": appeal.court})
    return appeal


def appeal_letter_content(letter: AppealLetter) -> bytes:
    """The stored översändelse's bytes, refused if they are not the ones recorded."""
    content = document_read(str(letter.file.name))
    if hashlib.sha256(content).hexdigest() != letter.sha256:
        logger.error("appeal letter %s differs from its recorded SHA-256", letter.file.name)
        raise ForwardingLetterAltered()
    return content


def appeal_dismiss(*, actor: Actor, application: Application, appeal_id, reasons: str) -> Decision:
    """FL 45 §: an appeal that came in too late is dismissed, by a decision of its own (with
    its letter), on the registrar's presentation: the decider is someone else."""
    _require_transaction()
    appeal = _open_appeal(application, appeal_id)
    if appeal.timely:
        raise TransitionNotAllowed(_("Överklagandet kom in i tid och ska lämnas över till domstolen (FL 45 §)."))
    if appeal.registered_by_id == actor.pk:
        raise NotAllowed(_("Den som registrerade överklagandet beslutar inte om att avvisa det (fyraögonsprincipen)."))
    if not reasons.strip():
        raise ValidationFailed(_("Skälen för beslutet måste anges (FL 32 §)."), details={"field": "reasons"})
    decision = Decision.objects.create(
        application=application, outcome=Decision.Outcome.APPEAL_DISMISSED, amount=None, reasons=reasons.strip(),
        decided_by=actor, presented_by=appeal.registered_by, decided_at=timezone.now(),
    )
    appeal.state, appeal.handled_by, appeal.handled_at, appeal.dismissal = (
        Appeal.State.DISMISSED, actor, timezone.now(), decision)
    appeal.save(update_fields=["state", "handled_by", "handled_at", "dismissal"])
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.OUTGOING,
            description="Beslut: överklagandet avvisat som för sent inkommet", kind=DiariumEntry.Kind.DECISION)
    record_beside_flow(actor=actor, application=application, event=Event.DISMISS_APPEAL,
                       payload={"appeal": str(appeal.pk), "decision": str(decision.pk), "deadline": appeal.deadline.isoformat(),
                                "received_on": appeal.received_on.isoformat()})
    letter_queue(decision)
    notify_applicant(application=application, kind="appeal_dismissed",
                     context={"received_on": appeal.received_on, "deadline": appeal.deadline, "reasons": decision.reasons})
    return decision
