"""Reminders fire once: the database decides which of any number of schedulers sends one.

``reminder_claim`` inserts the reminder's row under the unique constraint on (kind,
reference, offset) with INSERT … ON CONFLICT DO NOTHING RETURNING, in the caller's
transaction, which also writes the message. Of two schedulers at the same moment the second
waits on the first's uncommitted row and then gets nothing back: it sends nothing. If the
first rolls back, its claim goes with it and the next run sends the reminder.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from .models import ReminderSent


def reminder_claim(*, kind: str, reference: str, offset_days: int) -> bool:
    """True if this transaction is the one to send the reminder (and now holds its row)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("claim a reminder in the transaction that sends it")
    table = connection.ops.quote_name(ReminderSent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (kind, reference, offset_days, sent_at) VALUES (%s, %s, %s, %s) "  # noqa: S608 - our table's name
            "ON CONFLICT (kind, reference, offset_days) DO NOTHING RETURNING id",
            [kind, reference[:200], offset_days, timezone.now()],
        )
        return cursor.fetchone() is not None
