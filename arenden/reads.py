"""Every read of a case, recorded (issue 9: who read what, when), and the two lists an
auditor reads them in: a case's reads, and every read by one reader or all in a period.

Recording is on the path of every page that shows a case, so it is one INSERT: the case
and reader ids the page already holds, the reader's name and roles from the user object
(the roles were read for the page's own access check and are cached on it), no SELECT, no
transaction of its own and no lock (arenden.models.CaseRead has no foreign-key check).
Called only after the page's selector let the reader in: a refused read (404) is no read
of the case.

Who may see the lists is the caller's rule (workflows: auditors): this app knows no roles.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from .journal import actor_snapshot
from .models import CaseRead

# Newest first; the indexes case_read_case_order, case_read_reader_order and
# case_read_order serve it (arenden.keyset), for a case, a reader, or everyone.
READ_ORDER = ("-read_at", "-id")


def case_read_record(*, actor, case_id: uuid.UUID, kind: CaseRead.Kind, object_id: uuid.UUID | None = None,
                     detail: str = "") -> CaseRead:
    """Record that `actor` read `kind` of the case (the attachment or decision `object_id`)."""
    _pk, label, roles = actor_snapshot(actor)  # a read always has a reader: never the system
    read = CaseRead(
        case_id=case_id, reader_id=actor.pk, reader_label=label, reader_roles=roles, read_at=timezone.now(),
        kind=kind, object_id=object_id, detail=detail[:300],
    )
    read.save(force_insert=True)
    return read


def case_reads(*, case_id: uuid.UUID) -> QuerySet[CaseRead]:
    """A case's reads, unordered (the page orders by READ_ORDER)."""
    return CaseRead.objects.filter(case_id=case_id)


def reads_in_period(*, date_from: date | None = None, date_to: date | None = None) -> QuerySet[CaseRead]:
    """Every read, of every case, from the start of `date_from` to the end of `date_to`
    (days in Europe/Stockholm), with the case's diarienummer; unordered."""
    reads = CaseRead.objects.select_related("case").only(
        "id", "case_id", "reader_id", "reader_label", "reader_roles", "read_at", "kind", "object_id", "detail",
        "case__diarienummer",
    )
    if date_from is not None:
        reads = reads.filter(read_at__gte=_start_of(date_from))
    if date_to is not None:
        reads = reads.filter(read_at__lt=_start_of(date_to + timedelta(days=1)))
    return reads


def by_readers(reader_ids: Iterable[int]) -> list[Q]:
    """One condition per reader, for arenden.keyset's `any_of`: each reader's reads are
    read from their own index (case_read_reader_order), never by one IN across all."""
    return [Q(reader_id=reader_id) for reader_id in reader_ids]


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
