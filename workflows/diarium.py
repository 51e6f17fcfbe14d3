"""Registering items in a case's diarium by hand (OSL 5 kap. 1 §; FL 27 § for what was said
on the phone): e-mail, letters, tjänsteanteckningar and other documents, incoming, outgoing
or drawn up, by the registrar or the case's officer.

Not a step of the flow (the case's state does not change), but the same rules as at the
door, checked in one place (workflows.policy.check_register_item): role, jäv, auditors and
administrators never write. An attached file is stored before any row is locked and removed
again if the registration fails (DESIGN.md §3).
"""

from django.db import transaction

from arenden.actors import Actor
from arenden.errors import ServiceError
from arenden.models import DiariumEntry
from arenden.services import diarium_register
from arenden.storage import upload_discard, upload_store
from bidrag import selectors as bidrag_selectors
from bidrag.locks import lock_application, lock_case
from bidrag.models.application import AttachmentKind

from . import policy


def register_item(*, actor: Actor, application_id, data: dict, uploaded_file=None) -> DiariumEntry:
    """Register an item on the application's case: policy, then the file (no lock held),
    then under the locks (application, case) the policy again and the entry with its event."""
    application = bidrag_selectors.application_get(actor=actor, application_id=application_id)
    policy.check_register_item(actor=actor, application=application)
    stored = upload_store(case_id=application.case_id, uploaded_file=uploaded_file) if uploaded_file else None
    try:
        with transaction.atomic():
            application = lock_application(application_id)
            case = lock_case(application.case_id)
            policy.check_register_item(actor=actor, application=application)
            return diarium_register(
                actor=actor, case=case, kind=data["kind"], direction=data["direction"],
                entry_date=data["entry_date"], counterpart=data["counterpart"],
                counterpart_private=data.get("counterpart_private", False), description=data["description"],
                secrecy=data.get("secrecy", ""), note=data.get("note", ""), stored=stored,
                attachment_kind=AttachmentKind.OVRIGT,
            )
    except BaseException:
        if stored is not None:
            upload_discard(stored)
        raise


def may_register(actor, application) -> bool:
    try:
        policy.check_register_item(actor=actor, application=application)
    except ServiceError:
        return False
    return True
