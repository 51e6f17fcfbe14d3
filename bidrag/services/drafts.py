"""Tidying a draft: change a budget line, remove an attachment, delete the draft.

No state change and no door (draft editing, like bidrag.services.applications): each locks
the application, checks membership and that it is still a draft, and journals what the
case's history should keep. Objects in storage are removed only after the commit, never
while a row is locked (DESIGN.md §3); one that cannot be removed then is swept by
`attachments_cleanup` (arenden.storage.orphans_remove) as an orphan.
"""

from decimal import Decimal
from functools import partial
from pathlib import PurePosixPath

from django.db import transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenden.actors import Actor
from arenden.errors import NotFound
from arenden.journal import journal_append
from arenden.models import Attachment
from arenden.services import case_close
from arenden.storage import StoredUpload, upload_discard

from ..events import Event
from ..locks import lock_application
from ..models import Application, BudgetLine
from .applications import DRAFT_FIELDS, budget_line_rules, require_draft
from .common import require_member


def budget_line_update(
    *, actor: Actor, application: Application, line_id, category: str, description: str, amount: Decimal,
    year: int | None = None,
) -> BudgetLine:
    """Change a line of the draft's budget, by the rules a new line is added by."""
    with transaction.atomic():
        application = lock_application(application.pk)
        require_member(actor, application)
        require_draft(application)
        line = application.budget_lines.filter(pk=line_id).first()
        if line is None:
            raise NotFound(_("Budgetraden finns inte."))
        year = budget_line_rules(application=application, category=category, amount=amount, year=year)
        line.category, line.description, line.amount, line.year = category, description.strip(), amount, year
        line.save(update_fields=["category", "description", "amount", "year"])
        return line


def _remove_objects_after_commit(attachments: list[Attachment]) -> None:
    for attachment in attachments:
        if not attachment.file.name:
            continue
        stored = StoredUpload(
            key=attachment.file.name,
            original_name=attachment.original_name,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=attachment.sha256,
        )
        transaction.on_commit(partial(upload_discard, stored))


def _attachment_payload(attachment: Attachment) -> dict:
    return {"attachment": str(attachment.pk), "name": attachment.original_name, "kind": attachment.kind,
            "sha256": attachment.sha256}


def _remove_locked(*, actor: Actor, application_id, attachment_id, **payload) -> tuple[Application, Attachment]:
    """In the caller's transaction: lock the draft, remove one of its attachments' rows and
    journal it (``payload`` added); its object goes after the commit."""
    application = lock_application(application_id)
    require_member(actor, application)
    require_draft(application)
    attachment = Attachment.objects.filter(case_id=application.case_id, pk=attachment_id).first()
    if attachment is None:
        raise NotFound(_("Bilagan finns inte."))
    attachment.delete()
    journal_append(
        actor=actor,
        case_id=application.case_id,
        action=Event.REMOVE_ATTACHMENT,
        from_state=application.status,
        to_state=application.status,
        payload={**_attachment_payload(attachment), **payload},
    )
    _remove_objects_after_commit([attachment])
    return application, attachment


def attachment_remove(*, actor: Actor, application: Application, attachment_id) -> None:
    """Remove an attachment of a draft: the row now, journaled; the object after the commit."""
    with transaction.atomic():
        _remove_locked(actor=actor, application_id=application.pk, attachment_id=attachment_id)


def attachment_replace(*, actor: Actor, application: Application, attachment_id, uploaded_file, kind: str) -> Attachment:
    """Put a new file in place of one of a draft's attachments. No S3 while the row is locked
    (DESIGN.md §3): the new file is stored (and checked) first; then, under the lock, the old
    row goes and the new one is recorded in one transaction, both journaled; the old object
    is removed after the commit. A refusal leaves the draft with the old file."""
    from arenden.storage import attachment_record, upload_store

    current = Application.objects.get(pk=application.pk)
    require_member(actor, current)
    require_draft(current)
    if not Attachment.objects.filter(case_id=current.case_id, pk=attachment_id).exists():
        raise NotFound(_("Bilagan finns inte."))  # before a byte is stored
    stored = upload_store(case_id=current.case_id, uploaded_file=uploaded_file)
    try:
        with transaction.atomic():
            locked, _old = _remove_locked(actor=actor, application_id=application.pk, attachment_id=attachment_id,
                                          replaced_by=PurePosixPath(stored.key).name)
            attachment = attachment_record(actor=actor, case=locked.case, stored=stored, kind=kind)
    except BaseException:
        upload_discard(stored)  # the transaction has ended (rolled back): nothing refers to it
        raise
    return attachment


def application_delete_draft(*, actor: Actor, application: Application) -> Application:
    """Delete a draft that was never submitted.

    What goes: the texts, the budget lines, the attachment rows (their objects after the
    commit); the draft disappears from every list and page (the selectors leave out
    `deleted_at`). What stays, because the case and its append-only journal refer to it:
    the application row with its call, organisation, title and who created and deleted it,
    and the case, closed, whose journal ends create_draft … delete_draft, close_case. A
    draft is no official document until submitted, so nothing is diarised.
    """
    with transaction.atomic():
        application = lock_application(application.pk)
        require_member(actor, application)
        require_draft(application)
        if application.deleted_at is not None:
            raise NotFound(_("Utkastet finns inte."))
        attachments = list(Attachment.objects.filter(case_id=application.case_id))
        lines = application.budget_lines.count()
        journal_append(
            actor=actor,
            case_id=application.case_id,
            action=Event.DELETE_DRAFT,
            from_state=application.status,
            to_state=application.status,
            payload={"budget_lines": lines, "attachments": [_attachment_payload(a) for a in attachments]},
        )
        application.budget_lines.all().delete()
        Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()
        for name in DRAFT_FIELDS:
            field = Application._meta.get_field(name)
            if name == "title" or not isinstance(field, Field):
                continue
            if field.null:
                setattr(application, field.attname, None)
            else:
                setattr(application, field.attname, field.get_default())
        application.deleted_at = timezone.now()
        application.deleted_by = actor
        application.signature_requested_at = None
        application.save(update_fields=[*[f for f in DRAFT_FIELDS if f != "title"], "deleted_at", "deleted_by",
                                        "signature_requested_at", "updated_at"])
        case_close(actor=actor, case=application.case, description="Utkastet raderat av den sökande organisationen")
        _remove_objects_after_commit(attachments)
        return application
