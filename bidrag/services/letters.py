"""Decision letters as stored documents: rendered once (PDF/A), kept in object storage
under a key of their own that nothing overwrites, recorded with their SHA-256 in the case's
journal, and read back checked against it.

A letter is issued after its decision has committed, never under the decision's locks
(rendering takes a moment and the upload waits on the network): the decision queues
`bidrag.tasks.issue_decision_letter` in its own transaction, the scheduler's `letters_issue`
sweeps up any decision still without a letter, and a reader who asks first gets it issued
there and then. However many of them race, one letter is recorded; the others' objects are
removed again.
"""

from __future__ import annotations

import hashlib
import logging
import uuid

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from arenden.errors import ServiceError
from arenden.storage import StoredUpload, document_put, document_read, upload_discard
from notifications.services import enqueue_with_this_transaction

from ..events import Event
from ..letters import decision_letter_pdf
from ..locks import lock_application, lock_case
from ..models import Decision, DecisionLetter
from .common import record_beside_flow

logger = logging.getLogger(__name__)

PREFIX = "letters"


class LetterAltered(ServiceError):
    """The stored object no longer has the SHA-256 the journal recorded for it."""

    http_status = 500

    def __init__(self):
        super().__init__(_("Beslutsbrevet i arkivet stämmer inte med det som registrerades. Kontakta Brå."))


def letter_queue(decision: Decision) -> None:
    """Queue the decision's letter to be issued once the decision's transaction commits."""
    from ..tasks import issue_decision_letter  # the task module imports this one

    enqueue_with_this_transaction(issue_decision_letter, decision.pk)


def letter_issue(*, decision_id) -> DecisionLetter:
    """The decision's letter, issued now if it has none yet. Call it outside any transaction."""
    existing = DecisionLetter.objects.filter(decision_id=decision_id).first()
    if existing is not None:
        return existing
    decision = Decision.objects.select_related(
        "application__case", "application__organisation", "application__call__scheme", "decided_by", "presented_by",
        "corrects", "reconsiders",
    ).get(pk=decision_id)
    content = decision_letter_pdf(decision)
    letter_id = uuid.uuid4()
    key = f"{PREFIX}/{decision.application.case_id}/{letter_id}.pdf"
    document_put(key=key, content=content, content_type="application/pdf")
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        application = lock_application(decision.application_id)
        lock_case(application.case_id)
        existing = DecisionLetter.objects.filter(decision_id=decision_id).first()
        if existing is None:
            letter = DecisionLetter.objects.create(
                id=letter_id, decision=decision, file=key, sha256=digest, size=len(content)
            )
            record_beside_flow(actor=None, application=application, event=Event.ISSUE_LETTER, payload={
                "decision": str(decision.pk), "letter": str(letter_id), "sha256": digest, "size": len(content)})
    if existing is not None:
        # Another issuer was first: ours is an orphan.
        upload_discard(StoredUpload(key, "", "application/pdf", len(content), ""))
        return existing
    return letter


def letter_content(letter: DecisionLetter) -> bytes:
    """The stored letter's bytes, refused if they are not the ones recorded."""
    content = document_read(str(letter.file.name))
    if hashlib.sha256(content).hexdigest() != letter.sha256:
        logger.error("decision letter %s differs from its recorded SHA-256", letter.file.name)
        raise LetterAltered()
    return content


def letters_missing() -> list:
    """Decisions that have no letter yet, oldest first."""
    return list(Decision.objects.filter(letter__isnull=True).order_by("decided_at").values_list("pk", flat=True))


def letters_verify() -> list[str]:
    """Every stored letter re-read from object storage and held against its row and the
    SHA-256 its issue_letter event recorded; a decision with no letter is named too. Returns
    what is wrong, one line each (empty: all letters are as sent)."""
    from arenden.models import JournalEvent

    recorded = {
        (event.payload or {}).get("letter"): (event.payload or {}).get("sha256")
        for event in JournalEvent.objects.filter(action=Event.ISSUE_LETTER).only("payload")
    }
    problems = []
    for letter in DecisionLetter.objects.select_related("decision__application__case").order_by("created_at"):
        case = letter.decision.application.case.diarienummer or letter.decision.application.case_id
        if recorded.get(str(letter.pk)) != letter.sha256:
            problems.append(f"{case}: the letter {letter.pk} differs from the SHA-256 its journal event recorded")
            continue
        try:
            content = document_read(str(letter.file.name))
        except Exception as exc:  # a missing object is a finding, not a crash of the check
            problems.append(f"{case}: the letter {letter.file.name} could not be read: {type(exc).__name__}")
            continue
        if hashlib.sha256(content).hexdigest() != letter.sha256:
            problems.append(f"{case}: the stored letter {letter.file.name} is not the one sent (SHA-256 differs)")
    for decision in Decision.objects.filter(letter__isnull=True).select_related("application__case"):
        problems.append(f"{decision.application.case.diarienummer}: the decision {decision.pk} has no stored letter")
    return problems
