"""The daily digest to staff: each person's choice whether it comes by e-mail, and the
once-a-day claim that keeps two runs (or two schedulers) from sending it twice.

What the digest says is put together by the caller (workflows.staff_digest, which knows the
queues); this module only keeps the choice and the record, and writes the e-mail.

``digest_claim`` inserts the person's row for the day under the unique constraint on (user,
day) with INSERT … ON CONFLICT DO NOTHING RETURNING, in the caller's transaction, which also
writes the e-mail. Of two schedulers at the same moment the second waits on the first's
uncommitted row and then gets nothing back: it sends nothing. If the first rolls back, its
claim goes with it and the next run sends the digest.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction

from .models import StaffDigestRun, StaffDigestSetting


def digest_email_enabled(*, user) -> bool:
    """Whether ``user`` gets the daily digest by e-mail (yes, until they turn it off)."""
    if user is None or not getattr(user, "pk", None):
        return False
    setting = StaffDigestSetting.objects.filter(user_id=user.pk).values_list("email_enabled", flat=True).first()
    return True if setting is None else setting


def digest_email_disabled_ids(user_ids) -> set[int]:
    """Of these people, those who turned the e-mail off."""
    return set(StaffDigestSetting.objects.filter(user_id__in=list(user_ids), email_enabled=False)
               .values_list("user_id", flat=True))


def digest_email_set(*, user, enabled: bool) -> StaffDigestSetting:
    """Turn the person's own digest e-mail on or off. Notices in the service are not affected."""
    with transaction.atomic():
        setting, _created = StaffDigestSetting.objects.update_or_create(
            user_id=user.pk, defaults={"email_enabled": bool(enabled)})
        return setting


def digest_latest(*, user_id: int) -> StaffDigestRun | None:
    """The person's latest digest run (sent or not): the next one counts from its end."""
    return StaffDigestRun.objects.filter(user_id=user_id).order_by("-day").first()


def digest_claim(*, user_id: int, day: date, period_start: datetime, period_end: datetime,
                 notices_until: datetime, outcome: str, overdue: list[Any], counts: dict[str, Any]) -> bool:
    """True if this transaction is the one to record (and send) ``user_id``'s digest of ``day``."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("claim a digest in the transaction that sends it")
    table = connection.ops.quote_name(StaffDigestRun._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, day, period_start, period_end, notices_until, outcome, overdue, counts) "  # noqa: S608 - our table's name
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (user_id, day) DO NOTHING RETURNING id",
            [user_id, day, period_start, period_end, notices_until, outcome, json.dumps(overdue), json.dumps(counts)],
        )
        return cursor.fetchone() is not None
