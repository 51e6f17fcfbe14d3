"""In-app notices: the reads (each person's own only) and marking them read.

A notice is written with its e-mail by ``notifications.messages.notify``. Someone else's
notice is not found, exactly as one that does not exist (``notice_get`` returns None for both).
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import Notice

# The list page's order (arenden.keyset; the index notice_user_list serves it both ways).
NOTICE_ORDER = ("-created_at", "-id")


def notices_for(*, user) -> QuerySet[Notice]:
    if user is None or not user.is_authenticated:
        return Notice.objects.none()
    return Notice.objects.filter(user_id=user.pk)


def notice_unread_count(*, user) -> int:
    """One COUNT over the partial index of unread notices."""
    if user is None or not user.is_authenticated:
        return 0
    return Notice.objects.filter(user_id=user.pk, read_at__isnull=True).count()


def notice_get(*, user, notice_id) -> Notice | None:
    key = _uuid(notice_id)
    return None if key is None else notices_for(user=user).filter(pk=key).first()


def notice_mark_read(*, user, notice_id) -> Notice | None:
    """Mark the person's own notice read (once: the first reading's time stays). None if they
    have no such notice."""
    key = _uuid(notice_id)
    if key is None:
        return None
    with transaction.atomic():
        notices_for(user=user).filter(pk=key, read_at__isnull=True).update(read_at=timezone.now())
        return notice_get(user=user, notice_id=key)


def notices_mark_all_read(*, user) -> int:
    with transaction.atomic():
        return notices_for(user=user).filter(read_at__isnull=True).update(read_at=timezone.now())


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
