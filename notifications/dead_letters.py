"""A notice to every administrator when a message becomes a dead letter (issue 8).

Written by ``notifications.services._make_dead``, in the transaction that records the
message as dead, so the notice exists exactly when the dead letter does. Only a notice in
the service: no e-mail about an e-mail that could not be sent (and no SMTP in a transaction);
the administrators' daily digest counts them.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from .models import OutboxMessage

# The administrators' group: bidrag.roles.Role.ADMINISTRATOR's name (notifications imports
# no other app of ours; tests/notifications/test_staff_digest.py checks the two agree).
ADMIN_GROUP = "administrator"
KIND = "dead_letter"

logger = logging.getLogger("notifications.outbox")


def administrators():
    """The people told of dead letters: active superusers and members of the administrators' group."""
    return (get_user_model().objects.filter(is_active=True)
            .filter(Q(is_superuser=True) | Q(groups__name=ADMIN_GROUP)).distinct())


def dead_letter_notify(message: OutboxMessage) -> None:
    """Notices to the administrators of the dead letter ``message`` (in the caller's transaction)."""
    try:
        # A savepoint: a notice that cannot be written must not keep the message from being dead.
        with transaction.atomic():
            _notify(message)
    except Exception:  # noqa: BLE001 - logged; the dead letter itself is listed in the admin
        logger.exception("Could not write the administrators' notices of dead letter %s", message.pk)


def _notify(message: OutboxMessage) -> None:
    from .messages import Recipient, notify  # messages imports services, which imports this module

    people = [Recipient(user_id=pk) for pk in administrators().values_list("pk", flat=True)]
    if not people:
        return
    notify(kind=KIND, reference=f"outbox:{message.pk}", recipients=people, link=reverse(
        "admin:notifications_deadletter_change", args=[message.pk]), context={
        "diarienummer": "", "message_kind": message.kind, "recipient": message.recipient,
        "message_subject": message.subject, "attempts": message.attempts,
        "unconfirmed_attempts": message.unconfirmed_attempts, "last_error": message.last_error[:500],
    })
