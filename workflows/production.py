"""Lämna ut handlingar (issue 9): a case's allmänna handlingar produced on request (TF 2 kap.)
after a secrecy review (OSL), as one ZIP with its cover list, stored and journaled.

What the items of a grant case are is known here (the diarium's entries with their files
and notes, attachments no entry names, the application as sent, the decision letters);
building, storing and journaling the ZIP is arenden.production's. Not a step of the flow
(nothing changes state), but the door's order all the same: policy, every read of object
storage and the upload with no lock held, then under the locks (application, case) the
policy again and the journal event. A production that fails after its upload removes its
object again.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from functools import partial

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from arenden.actors import Actor
from arenden.errors import ValidationFailed
from arenden.journal import actor_snapshot
from arenden.models import DiariumEntry, JournalEvent
from arenden.production import (
    ItemChoice,
    ProductionFile,
    ProductionItem,
    production_discard,
    production_key,
    production_record,
    production_store,
    zip_build,
)
from arenden.storage import StorageUnavailable
from bidrag import selectors as bidrag_selectors
from bidrag.locks import lock_case
from bidrag.models import Application, Decision, DecisionLetter
from bidrag.models.application import AttachmentKind
from bidrag.models.submitted import SubmittedVersion

from . import beside, policy

RECIPIENT_MAX = 300
# The application as sent: readable (PDF), and as signed (the canonical JSON whose SHA-256 is
# the one on the receipt and in the journal).
APPLICATION_PDF = "ansokan-som-den-skickades-in.pdf"
APPLICATION_AS_SENT = "ansokan-som-den-skickades-in.json"


def _canonical_bytes(content: dict) -> bytes:
    """The frozen content as bidrag.submitted.digest hashes it: its SHA-256 is the receipt's."""
    return json.dumps(content, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def _application_pdf(version: SubmittedVersion) -> bytes:
    """The application as sent, readable, from its frozen content (never the live rows)."""
    from django.template.loader import render_to_string
    from weasyprint import HTML  # imported here: loading Pango costs ~0.3 s

    with translation.override("sv"):
        html = render_to_string("workflows/production_application.html", {
            "version": version, "content": version.content, "diarienummer": version.application.case.diarienummer})
    return HTML(string=html).write_pdf()


def _attachment_kind_label(kind: str) -> str:
    try:
        return str(AttachmentKind(kind).label)
    except ValueError:
        return kind


def production_items(application: Application) -> list[ProductionItem]:
    """Every item of the case, in the order the cover list numbers them: the diarium's
    entries as registered (each with its file, a tjänsteanteckning's note as text, the
    application entry with the application as sent), then the attachments no entry names,
    then the decision letters. A secrecy-marked entry carries its mark (withheld by default)."""
    case = application.case
    counterpart_of = application.organisation.name
    version = SubmittedVersion.objects.filter(application=application).first()
    items: list[ProductionItem] = []
    named: set = set()
    version_given = False
    for entry in case.diarium_entries.select_related("attachment").order_by("created_at", "pk"):
        files: list[ProductionFile] = []
        if entry.attachment is not None:
            named.add(entry.attachment_id)
            files.append(ProductionFile(name=entry.attachment.original_name, storage_name=str(entry.attachment.file.name),
                                        sha256=entry.attachment.sha256))
        if entry.note.strip():
            files.append(ProductionFile(name="anteckning.txt", content=entry.note.encode("utf-8")))
        if entry.kind == DiariumEntry.Kind.APPLICATION and version is not None and not version_given:
            version_given = True
            files.append(ProductionFile(name=APPLICATION_PDF, render=partial(_application_pdf, version)))
            files.append(ProductionFile(name=APPLICATION_AS_SENT, content=_canonical_bytes(version.content),
                                        sha256=version.sha256))
        items.append(ProductionItem(
            key=f"diarium-{entry.pk}", kind=str(entry.get_kind_display()), entry_date=entry.entry_date,
            direction=str(entry.get_direction_display()),
            counterpart=str(_("Privatperson")) if entry.counterpart_private else entry.counterpart,
            description=entry.public_description or entry.description, secrecy=entry.secrecy,
            files=tuple(files),
        ))
    for attachment in case.attachments.order_by("uploaded_at", "pk"):
        if attachment.pk in named:
            continue
        items.append(ProductionItem(
            key=f"bilaga-{attachment.pk}", kind=str(_("Bilaga: %(kind)s") % {"kind": _attachment_kind_label(
                attachment.kind)}),
            entry_date=timezone.localdate(attachment.uploaded_at), direction=str(DiariumEntry.Direction.INCOMING.label),
            counterpart=counterpart_of, description=attachment.original_name,
            files=(ProductionFile(name=attachment.original_name, storage_name=str(attachment.file.name),
                                  sha256=attachment.sha256),),
        ))
    letters = {letter.decision_id: letter for letter in DecisionLetter.objects.filter(decision__application=application)}
    for decision in Decision.objects.filter(application=application).order_by("decided_at", "pk"):
        letter = letters.get(decision.pk)
        letter_files = (ProductionFile(name=f"beslut-{timezone.localdate(decision.decided_at).isoformat()}.pdf",
                                       storage_name=str(letter.file.name), sha256=letter.sha256),) if letter else ()
        items.append(ProductionItem(
            key=f"beslut-{decision.pk}", kind=str(_("Beslutsbrev")), entry_date=timezone.localdate(decision.decided_at),
            direction=str(DiariumEntry.Direction.OUTGOING.label), counterpart=counterpart_of,
            description=str(_("Beslut: %(outcome)s") % {"outcome": decision.get_outcome_display()}),
            files=letter_files,
        ))
    return items


def production_application(*, actor, application_id) -> Application:
    """The case, if the actor may produce its documents: a foreign or missing one is 404
    (bidrag.selectors), one the actor may only read is refused (NotAllowed)."""
    application = bidrag_selectors.application_get(actor=actor, application_id=application_id)
    policy.check_produce_documents(actor=actor, application=application)
    return application


def may_produce(actor, application) -> bool:
    return beside.may(policy.check_produce_documents, actor, application)


def _issue_missing_letters(application: Application) -> None:
    """A decision whose letter the worker has not issued yet gets it now (outside any lock),
    so the production holds the letter as it is kept."""
    from bidrag.services.letters import letter_issue

    for decision_id in Decision.objects.filter(application=application, letter__isnull=True).values_list("pk",
                                                                                                       flat=True):
        letter_issue(decision_id=decision_id)


@dataclass(frozen=True)
class ProductionDone:
    production_id: uuid.UUID
    event: JournalEvent


def produce_documents(*, actor: Actor, application_id, recipient: str, choices: dict[str, ItemChoice]) -> ProductionDone:
    """Produce the case's documents as `choices` say (item key → ItemChoice) to `recipient`
    (free text; empty for an anonymous requester, TF 2 kap. 18 §). Call it outside any
    transaction: it reads and writes object storage before it locks anything."""
    application = production_application(actor=actor, application_id=application_id)
    recipient = recipient.strip()
    if len(recipient) > RECIPIENT_MAX:
        raise ValidationFailed(_("Utlämnandet kunde inte göras. Rätta uppgifterna nedan."),
                               details={"fields": {"recipient": [_("Högst %(limit)s tecken.") % {
                                   "limit": RECIPIENT_MAX}]}})
    try:
        _issue_missing_letters(application)
        with translation.override("sv"):  # the cover list and the journal name the items in Swedish
            items = production_items(application)
        production_id = uuid.uuid4()
        _pk, label, _roles = actor_snapshot(actor)
        produced = zip_build(case=application.case, items=items, choices=choices, recipient=recipient,
                             produced_by=label, produced_at=timezone.now())
        key = production_key(case_id=application.case_id, production_id=production_id)
        try:
            production_store(key=key, produced=produced)
        finally:
            produced.close()
    except StorageUnavailable as error:
        raise StorageUnavailable(_("Handlingarna kunde inte hämtas eller sparas just nu eftersom lagringstjänsten "
                                   "inte svarar. Inget har lämnats ut – försök igen om en stund.")) from error
    try:
        with transaction.atomic():
            # Entered as every action beside the flow is: locked in order, the rule checked under the locks.
            application = beside.locked(actor, application_id, policy.check_produce_documents)
            case = lock_case(application.case_id)  # already held: the locked row, for the journal's head
            if [item.key for item in production_items(application)] != [item.key for item in items]:
                raise ValidationFailed(_("Ärendet har fått nya handlingar medan utlämnandet förbereddes. "
                                         "Pröva dem och försök igen."))
            event = production_record(actor=actor, case=case, state=application.status, production_id=production_id,
                                      key=key, produced=produced, recipient=recipient)
    except BaseException:
        production_discard(key=key)
        raise
    return ProductionDone(production_id=production_id, event=event)
